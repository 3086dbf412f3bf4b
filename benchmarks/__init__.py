"""Benchmark scripts: ingest throughput against the backends' limits, and server memory use."""
