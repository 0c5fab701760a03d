"""Running Paylinks as a service: health checks, metrics and logs (docs/operations.md).

- ``/healthz`` answers while the process is alive; ``/readyz`` checks the database, the
  cache, the task queue and the migrations (``project/health.py``).
- ``/metrics`` is Prometheus' text format, for a scraper that presents
  ``PAYLINKS_METRICS_TOKEN`` as a bearer token or calls from an address in
  ``PAYLINKS_METRICS_ALLOWED_IPS`` (``project/metrics.py``). Neither set: 404.
- Logs are JSON lines on stderr unless ``DEBUG`` (``PAYLINKS_LOG_FORMAT`` overrides), each
  with the request id and the payment, link and merchant ids it is about
  (``paylinks/logcontext.py``).
"""

from __future__ import annotations

from pythonjsonlogger.core import RESERVED_ATTRS

from .base import DEBUG, INSTALLED_APPS, MIDDLEWARE
from .env import env_int, env_list, env_secret, env_str

INSTALLED_APPS += ["health_check"]

# The request id first, so every later middleware's log lines carry it; the metrics
# middleware next, so the time it measures includes everything else.
MIDDLEWARE.insert(0, "project.logging.RequestIdMiddleware")
MIDDLEWARE.insert(1, "project.metrics.RequestMetricsMiddleware")

# Probes and scrapers speak plain HTTP to the host itself, not through the TLS proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- metrics ----------------------------------------------------------------------------
PAYLINKS_METRICS_TOKEN = env_secret("PAYLINKS_METRICS_TOKEN")
# Addresses or networks (10.0.0.0/8) that may scrape without the token: the TCP peer
# (REMOTE_ADDR), never an X-Forwarded-For entry.
PAYLINKS_METRICS_ALLOWED_IPS = env_list("PAYLINKS_METRICS_ALLOWED_IPS")
# Figures read from the database at scrape time are shared through the cache for this
# many seconds, so several scrapers and hosts cost one set of queries (0: every scrape).
PAYLINKS_METRICS_DB_SECONDS = env_int("PAYLINKS_METRICS_DB_SECONDS", 10)

# --- logs -------------------------------------------------------------------------------
PAYLINKS_LOG_FORMAT = env_str("PAYLINKS_LOG_FORMAT", "plain" if DEBUG else "json")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "paylinks.logcontext.ContextFilter"},
        # An expected 4xx (a 403, 404, 400) is one line without a traceback.
        "expected_client_errors": {"()": "project.logging.ExpectedClientErrorFilter"},
    },
    "formatters": {
        "plain": {"()": "paylinks.logcontext.PlainFormatter"},
        # One JSON object a line: time, level, logger, message, request_id, the ids and
        # whatever else a line passes with extra= (event, from_status, code, ...).
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            # Django passes the request object to its lines; its text would be the path
            # and query string, which the message already has when it matters.
            "reserved_attrs": [*RESERVED_ATTRS, "request", "server_time"],
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": PAYLINKS_LOG_FORMAT,
            # Every record passes both, whichever logger made it: a filter on a logger
            # would miss the lines its children (django.security.*) propagate.
            "filters": ["context", "expected_client_errors"],
        },
    },
    # One handler, on the root logger: every named logger propagates to it and none has
    # its own, so each line is printed once. Django's own default configuration gives the
    # "django" logger a console handler of its own (under DEBUG) that also propagates to
    # the root: every django.* line (the task worker's "Task ... state=RUNNING" among
    # them) used to be printed twice. Listing a logger here with no handlers removes them.
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # Paylinks logs sign-in failures and lockouts itself, once each (paylinks/auth):
        # axes' own lines would repeat them with the username.
        "axes": {"level": env_str("AXES_LOG_LEVEL", "ERROR")},
        # The Stripe SDK logs Stripe's error messages at INFO ("Invalid email address:
        # <the customer's>") and request bodies at DEBUG: customer data, kept out of logs.
        "stripe": {"level": "WARNING"},
        # A failing readiness check is logged once by /readyz, without the library's
        # traceback (which names hosts).
        "health_check": {"level": "CRITICAL"},
    },
}
