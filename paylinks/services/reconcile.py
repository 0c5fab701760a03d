"""Re-asking the gateway about one payment that should have moved by now.

Webhooks can be lost, delayed or fail to process; a worker can die mid-task. The sweeper
(``paylinks.sweeper``) does not trust that anything arrived: for every payment that
``payments_due_for_check`` names it calls ``payment_reconcile``.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from paylinks.gateways import GatewayError
from paylinks.models import Payment
from paylinks.selectors.links import UNSTARTED_GRACE

from .payments import PaymentMismatch, checkout_abandon, payment_refresh

logger = logging.getLogger(__name__)

# A payment whose checkout session was never opened (the web process died between
# reserving the place and calling the gateway) is failed after this long; it stopped
# holding its place on the link at the same moment (``selectors.links.open_checkouts``).
UNSTARTED_AFTER = UNSTARTED_GRACE


def payment_reconcile(payment_id: int) -> str:
    """Re-ask the gateway about one payment and apply what it says; returns the outcome."""
    payment = Payment.objects.get(pk=payment_id)
    if not payment.gateway_session_id:
        if payment.created_at <= timezone.now() - UNSTARTED_AFTER:
            checkout_abandon(
                payment, GatewayError("No checkout session was ever opened", permanent=True)
            )
            return "failed: never started"
        return "skipped: starting"
    try:
        synced = payment_refresh(payment=payment)
    except (GatewayError, PaymentMismatch) as exc:
        logger.warning("Could not reconcile %s: %s", payment.public_id, exc)
        return f"error: {exc}"
    return synced.status
