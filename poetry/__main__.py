"""Run the txpoetry command line as ``python -m poetry``."""

from poetry.cli import main

main()
