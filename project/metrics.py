"""``/metrics``: Prometheus' text format for the operator's scraper (docs/operations.md).

Who may scrape: a request with ``Authorization: Bearer <PAYLINKS_METRICS_TOKEN>``, or one
whose TCP peer is in ``PAYLINKS_METRICS_ALLOWED_IPS``. Anyone else gets a 404, as if
there were nothing here; with neither setting, nobody can scrape.

What it exports:

- what this host's processes counted (``paylinks.metrics``): requests by route name,
  gateway calls, checkouts opened, webhooks received. With ``PROMETHEUS_MULTIPROC_DIR``
  set (deploy/gunicorn.conf.py sets it) the counts of every gunicorn worker on the host
  are added up; without it, the answering process's own;
- what the database says at scrape time (``paylinks.selectors.ops``): payments by status
  and gateway, the webhook inbox's depth and the age of its oldest unfinished event, the
  task queue's depth. These are the same from every host; they are read once per
  ``PAYLINKS_METRICS_DB_SECONDS`` through the shared cache, and say
  ``paylinks_dependency_up`` = 0 when the database or the queue could not be read.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from paylinks import metrics
from paylinks.selectors import ops

logger = logging.getLogger("paylinks.metrics")

CACHE_KEY = "paylinks:metrics:db"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# --- who may scrape -----------------------------------------------------------------------
def scrape_allowed(request: HttpRequest) -> bool:
    token = settings.PAYLINKS_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    return _peer_allowed(request.META.get("REMOTE_ADDR", ""))


def _peer_allowed(address: str) -> bool:
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    for allowed in settings.PAYLINKS_METRICS_ALLOWED_IPS:
        try:
            if peer in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD") or not scrape_allowed(request):
        raise Http404
    registry: CollectorRegistry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    body = generate_latest(registry) + generate_latest(database)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


# --- figures from the database ------------------------------------------------------------
def _database_figures() -> dict[str, Any]:
    """Everything read from the database (and the task queue), shared through the cache."""
    seconds = settings.PAYLINKS_METRICS_DB_SECONDS
    if seconds > 0:
        cached = cache.get(CACHE_KEY)
        if cached is not None:
            return dict(cached)
    figures: dict[str, Any] = {"up": {}}
    try:
        figures["payments"] = ops.payments_by_status()
        inbox = ops.inbox_figures()
        figures["inbox"] = (inbox.pending, inbox.failed, inbox.oldest_age_seconds)
        backlog = ops.delivery_figures()
        figures["deliveries"] = (backlog.waiting, backlog.sending, backlog.oldest_age_seconds)
        figures["up"]["database"] = 1
    except Exception as exc:
        logger.warning("Metrics: the database could not be read (%s)", exc.__class__.__name__)
        figures["up"]["database"] = 0
    try:
        figures["tasks"] = _task_queue_depth()
        figures["up"]["tasks"] = 1
    except Exception as exc:
        logger.warning("Metrics: the task queue could not be read (%s)", exc.__class__.__name__)
        figures["up"]["tasks"] = 0
    if seconds > 0:
        try:
            cache.set(CACHE_KEY, figures, seconds)
            figures["up"]["cache"] = 1
        except Exception:
            figures["up"]["cache"] = 0
    return figures


def _task_queue_depth() -> int:
    if settings.TASK_BACKEND == "rq":
        import django_rq  # installed with the RQ backend only

        queue = django_rq.get_queue("default")
        return int(queue.count + queue.scheduled_job_registry.count)
    if settings.TASK_BACKEND == "database":
        return ops.database_task_queue_depth()
    return 0


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = _database_figures()
        up = GaugeMetricFamily(
            "paylinks_dependency_up",
            "1 when the dependency answered the last metrics read, 0 when it did not.",
            labels=["dependency"],
        )
        for name, value in sorted(figures["up"].items()):
            up.add_metric([name], value)
        yield up
        if "payments" in figures:
            payments = GaugeMetricFamily(
                "paylinks_payments",
                "Payments by gateway and status, from the database.",
                labels=["gateway", "status"],
            )
            for gateway, status, count in figures["payments"]:
                payments.add_metric([gateway, status], count)
            yield payments
        if "inbox" in figures:
            pending, failed, oldest = figures["inbox"]
            depth = GaugeMetricFamily(
                "paylinks_webhook_inbox_events",
                "Webhook events stored and not yet processed, by status "
                "(pending: not tried yet; failed: processing failed, will be retried).",
                labels=["status"],
            )
            depth.add_metric(["pending"], pending)
            depth.add_metric(["failed"], failed)
            yield depth
            yield GaugeMetricFamily(
                "paylinks_webhook_inbox_oldest_age_seconds",
                "Seconds since the oldest unprocessed webhook event arrived (0: none).",
                value=oldest,
            )
        if "deliveries" in figures:
            waiting, sending, oldest = figures["deliveries"]
            backlog = GaugeMetricFamily(
                "paylinks_outgoing_webhook_deliveries",
                "Outgoing webhook deliveries not finished, by state (waiting: for their "
                "first attempt or a retry; sending: claimed by a worker).",
                labels=["state"],
            )
            backlog.add_metric(["waiting"], waiting)
            backlog.add_metric(["sending"], sending)
            yield backlog
            yield GaugeMetricFamily(
                "paylinks_outgoing_webhook_oldest_age_seconds",
                "Seconds since the oldest unfinished outgoing delivery was queued (0: none).",
                value=oldest,
            )
        if "tasks" in figures:
            yield GaugeMetricFamily(
                "paylinks_task_queue_depth",
                "Background tasks waiting to run (due now or deferred).",
                value=figures["tasks"],
            )

    def describe(self) -> Iterable[Any]:
        return []


# --- requests -------------------------------------------------------------------------------
class RequestMetricsMiddleware:
    """Counts and times every request by its route's name (``admin:paylinks_payment_change``,
    ``stripe-webhook``), never its path: ids and slugs stay out of the labels."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = _view_name(request)
        method = request.method if request.method in METHODS else "other"
        metrics.http_requests.labels(view, method, str(response.status_code)).inc()
        metrics.http_request_seconds.labels(view, method).observe(time.perf_counter() - started)
        return response


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"
