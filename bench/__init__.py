"""Benchmarks: one script per figure. Each creates a database and a Redis of
its own (named per run, removed at the end), measures, and writes its section
of ``bench/RESULTS.md``; ``--smoke`` runs it at small scale without writing
anything (``make bench-smoke``, run by CI)."""
