"""gunicorn's configuration for Paylinks' web process (the Procfile's ``web`` line).

Everything can be overridden from the environment, as platforms that read Procfiles
expect: ``BIND`` + ``PORT``, ``WEB_CONCURRENCY``, ``GUNICORN_TIMEOUT``, ... (docs/operations.md,
"Processes"). The rules it keeps:

- workers from the CPU count (2 per core, plus one), unless ``WEB_CONCURRENCY`` says;
- ``timeout`` above the gateway deadline (``PAYLINKS_GATEWAY_DEADLINE_SECONDS``) with room
  for the rest of a request, so a slow gateway ends in an answer, not a killed worker;
- graceful restarts: ``graceful_timeout`` lets requests in flight finish on SIGHUP/SIGTERM,
  and ``max_requests`` with jitter recycles workers one at a time;
- access log lines in JSON (``JsonAccessLogger``) with the request id Paylinks returns;
- Prometheus counters of every worker added up: ``PROMETHEUS_MULTIPROC_DIR`` (a fresh
  directory per start, emptied here), and a dead worker's live gauges dropped.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from gunicorn import glogging

# The same default as project/settings/payments.py; read from the environment so this
# file imports without Django.
GATEWAY_DEADLINE_SECONDS = int(os.environ.get("PAYLINKS_GATEWAY_DEADLINE_SECONDS", "10"))
#: What a request may spend besides its gateway calls, and then some.
TIMEOUT_MARGIN_SECONDS = 20

bind = f"{os.environ.get('BIND', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = int(
    os.environ.get("GUNICORN_TIMEOUT") or GATEWAY_DEADLINE_SECONDS + TIMEOUT_MARGIN_SECONDS
)
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))  # behind nginx's keepalive pool
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# Loaded in each worker, so a worker recycled by max_requests starts clean; the master
# stays small and never opens a database connection.
preload_app = False
# Only the proxy in front may say the request was https (BEHIND_TLS_PROXY in Django).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# gunicorn's control socket is one path per user: two web processes on a host (make scale,
# a blue/green deploy) would take it from each other. systemd and signals manage ours.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "") == ""
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

accesslog = "-"
errorlog = "-"


class JsonAccessLogger(glogging.Logger):
    """One JSON object per request, values escaped (a quote in a path or a user agent
    cannot break the line), with the request id Django returned in X-Request-ID and the
    path without its query string (no token from a URL reaches the log)."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": f"{atoms['m']} {atoms['U']} {atoms['s']}",
            "method": atoms["m"],
            "path": atoms["U"],
            "status": atoms["s"],
            "bytes": atoms["B"],
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": atoms["h"],
            "request_id": atoms["{x-request-id}o"],
            "user_agent": atoms["a"][:200],
        }
        self.access_log.info(json.dumps(line))


logger_class = JsonAccessLogger
# gunicorn's own lines (starting, booting worker, worker timeout) as JSON too.
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
        "access": {"format": "%(message)s"},
    },
    "handlers": {
        "error": {"class": "logging.StreamHandler", "formatter": "json"},
        "access": {"class": "logging.StreamHandler", "formatter": "access"},
    },
    # Django configures the root logger itself (project/settings/ops.py) when it starts.
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


def _metrics_dir() -> str:
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        return configured
    path = Path(tempfile.gettempdir()) / f"paylinks-metrics-{os.getpid()}"
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return str(path)


def on_starting(server: Any) -> None:
    """Empty the metrics directory: counts from a previous run are not this run's."""
    path = Path(_metrics_dir())
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
