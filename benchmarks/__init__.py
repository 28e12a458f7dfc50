"""Performance benchmarks for Roadmap Tutor, run with `python -m benchmarks` (see docs/BENCHMARKS.md)."""
