"""Benchmarks: latency, CPU and memory of our bot beside an official-example-style baseline."""
