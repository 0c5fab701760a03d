"""``POST /webhooks/stripe/``: where Stripe and the sandbox deliver their events.

Verify the signature on the raw body, store the event in the inbox, answer. Nothing is
processed here: a 2xx only means "stored", so the gateway stops re-sending it.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from paylinks import metrics
from paylinks.gateways import SignatureError, get_gateway

from .inbox import store_event

logger = logging.getLogger("paylinks.webhooks")

MAX_BODY_BYTES = 512 * 1024


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
        logger.warning("Rejected webhook: the body is larger than %s bytes", MAX_BODY_BYTES)
        metrics.webhooks_received.labels("rejected").inc()
        return _error(400, "payload_too_large", "The event body is too large.")
    gateway = get_gateway()
    try:
        event = gateway.parse_webhook(request.body, request.headers.get("Stripe-Signature", ""))
    except SignatureError as exc:
        logger.warning("Rejected webhook: %s", exc)
        metrics.webhooks_received.labels("rejected").inc()
        return _error(400, "invalid_signature", "The webhook signature could not be verified.")
    try:
        created = store_event(gateway.name, event)
    except DatabaseError:
        logger.exception("Could not store webhook event %s", event.id)
        metrics.webhooks_received.labels("unavailable").inc()
        # Non-2xx: the gateway keeps the event and delivers it again later.
        return _error(503, "unavailable", "The event could not be stored; retry later.")
    outcome = "stored" if created else "duplicate"
    metrics.webhooks_received.labels(outcome).inc()
    logger.info(
        "Webhook event %s (%s) %s",
        event.id,
        event.type,
        outcome,
        extra={"event": f"webhook.{outcome}", "gateway": gateway.name},
    )
    return JsonResponse({"received": True, "duplicate": not created}, status=200)
