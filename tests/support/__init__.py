"""Reusable helpers that start real local services for tests, the demo and benchmarks."""
