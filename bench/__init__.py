"""Benchmarks: run with `python -m bench.<name>`; they measure, they don't assert."""
