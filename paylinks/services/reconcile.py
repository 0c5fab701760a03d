"""Recovering anything left behind: the periodic sweeper and ``manage.py reconcile``.

Webhooks can be lost, delayed or fail to process; a worker can die mid-task. The sweeper
does not trust that anything arrived: it re-asks the gateway about payments that should
have moved by now and re-runs inbox events whose retry time has come.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from paylinks import webhooks
from paylinks.gateways import GatewayError, get_gateway
from paylinks.models import Payment, PaymentStatus
from paylinks.services.payments import PaymentMismatch, checkout_abandon, payment_sync
from paylinks.services.refunds import retry_pending_refunds

logger = logging.getLogger(__name__)

# A pending payment is re-checked this long after its session should have closed, and a
# processing (delayed-method) payment at most this often.
EXPIRY_GRACE = timedelta(minutes=1)
PROCESSING_RECHECK = timedelta(minutes=10)
UNSTARTED_AFTER = timedelta(minutes=10)


def payments_to_check(*, everything: bool = False) -> list[int]:
    now = timezone.now()
    pending = Payment.objects.filter(status=PaymentStatus.PENDING)
    if not everything:
        pending = pending.filter(
            Q(expires_at__lte=now - EXPIRY_GRACE, session_completed_at__isnull=True)
            | Q(session_completed_at__isnull=False, last_synced_at__lte=now - PROCESSING_RECHECK)
            | Q(session_completed_at__isnull=False, last_synced_at__isnull=True)
        )
    return list(pending.order_by("created_at").values_list("pk", flat=True)[:1000])


def check_payment(payment_id: int) -> str:
    """Re-ask the gateway about one payment and apply what it says."""
    payment = Payment.objects.get(pk=payment_id)
    if not payment.gateway_session_id:
        if payment.created_at <= timezone.now() - UNSTARTED_AFTER:
            checkout_abandon(
                payment, GatewayError("No checkout session was ever opened", permanent=True)
            )
            return "failed: never started"
        return "skipped: starting"
    try:
        session = get_gateway(payment.gateway).retrieve_checkout_session(payment.gateway_session_id)
        synced = payment_sync(payment=payment, session=session)
    except (GatewayError, PaymentMismatch) as exc:
        logger.warning("Could not reconcile %s: %s", payment.public_id, exc)
        return f"error: {exc}"
    return synced.status


def sweep(*, everything: bool = False) -> dict[str, int]:
    """One pass: gateway housekeeping, due inbox events, stale payments, unknown refunds."""
    counts: Counter[str] = Counter()
    gateway = get_gateway()
    for key, value in gateway.housekeeping().items():
        counts[f"gateway_{key}"] += value
    for outcome, n in webhooks.drain().items():
        counts["events_" + outcome] += n
    for payment_id in payments_to_check(everything=everything):
        outcome = check_payment(payment_id)
        counts["payments_" + outcome.split(":", 1)[0]] += 1
    counts["refunds_retried"] += retry_pending_refunds()
    return dict(counts)
