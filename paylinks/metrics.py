"""The Prometheus metrics Paylinks' own code moves (prometheus-client).

These are counted in the process where things happen; ``/metrics`` (project/metrics.py)
exports them together with the figures read from the database at scrape time (payments
by status, the webhook inbox, the task queue). Under gunicorn every worker process writes
its counts to ``PROMETHEUS_MULTIPROC_DIR`` and the scrape adds them up
(deploy/gunicorn.conf.py; docs/operations.md, "Metrics").

Label values are few and fixed (route names, gateway and operation names, status codes),
never a path, an id or anything a customer typed.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

http_requests = Counter(
    "paylinks_http_requests",
    "Web requests answered, by route name, method and status code.",
    ["view", "method", "status"],
)
http_request_seconds = Histogram(
    "paylinks_http_request_duration_seconds",
    "Time to answer a web request, by route name and method.",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
)
checkouts_created = Counter(
    "paylinks_checkout_sessions_created",
    "Checkout sessions opened at the gateway for a customer (new payments).",
    ["gateway"],
)
gateway_call_seconds = Histogram(
    "paylinks_gateway_request_duration_seconds",
    "Time a gateway call took, retries included, by gateway and operation.",
    ["gateway", "operation"],
    buckets=LATENCY_BUCKETS,
)
gateway_errors = Counter(
    "paylinks_gateway_errors",
    "Gateway calls that failed, by gateway, operation and kind "
    "(transient: worth retrying; permanent: refused; unexpected: a bug or an unknown error).",
    ["gateway", "operation", "kind"],
)
webhooks_received = Counter(
    "paylinks_webhooks_received",
    "Webhook deliveries answered, by outcome (stored, duplicate, rejected, unavailable).",
    ["outcome"],
)
webhook_processing = Counter(
    "paylinks_webhook_processing",
    "Webhook inbox events processed by a worker, by outcome (processed, ignored, failed).",
    ["outcome"],
)
