"""One module per ``txpoetry`` command: its arguments and what it runs."""
