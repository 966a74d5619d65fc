"""Benchmarks: each service measured side by side with a peer, in one run (not tests)."""
