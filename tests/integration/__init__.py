"""The integration tier: real TCP on 127.0.0.1 and real subprocesses of the command line."""
