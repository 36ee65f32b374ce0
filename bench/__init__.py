"""Benchmarks: each script creates its own database, measures, and writes its
section of ``bench/RESULTS.md``."""
