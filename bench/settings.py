"""Settings for the benchmark server only: the product's settings plus the baseline app.

Nothing here is used by the product. ``bench/run.py`` points gunicorn, the worker and its
own set-up code at this module; the only differences from ``project.settings`` are the
``bench.baseline`` app (one table, three bare views) and a URLconf that mounts those views
under ``/bench/`` in front of the product's own URLs. Middleware, database options, cache
and task backend are the product's, so a baseline and a product endpoint pay the same
per-request overhead and their ratio measures only what the product view itself costs.
"""

from project.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline"]  # noqa: F405
ROOT_URLCONF = "bench.urls"
