"""Paylinks benchmarks: ``make bench`` runs ``bench/run.py``. See docs/scaling.md."""
