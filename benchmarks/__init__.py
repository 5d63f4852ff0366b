"""Benchmarks of ingestion, query latency and scale (`make bench` = `python -m benchmarks.run`)."""
