"""The unit tier: synchronous, deterministic, no sockets, no real time, no global reactor."""
