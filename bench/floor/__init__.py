"""The framework's floor: a plain Django project, as ``django-admin startproject`` makes it.

``bench/run.py`` serves it from its own gunicorn (same worker count and class as
Paylinks') against its own database on the same PostgreSQL server, and measures the same
bare views as ``bench/baseline/`` there. Paylinks' figures divided by the floor's say what
everything Paylinks adds costs -- its middleware, DRF, its views -- not only its views.
"""
