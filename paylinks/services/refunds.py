"""Refunds: never more than what was paid, even when two people press Refund at once.

A refund is recorded (pending) under the payment's row lock before the gateway is asked,
so concurrent requests see each other's amounts. The gateway call uses an idempotency
key stored on the row: retrying a refund whose outcome is unknown can never pay twice.
The payment's own status follows the gateway's ``charge.refunded`` event.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.tasks import task
from django.utils import timezone

from paylinks import money, permissions
from paylinks.gateways import GatewayError, get_gateway
from paylinks.logcontext import carries_request_id
from paylinks.models import (
    ApiClient,
    Membership,
    Payment,
    PaymentEvent,
    Refund,
    RefundReason,
    Role,
    User,
)
from paylinks.models.payments import COMPLETED_STATUSES
from paylinks.notifications.mail import mail_queue

from .audit import audit_record

logger = logging.getLogger(__name__)


def refundable_amount(payment: Payment) -> int:
    """What can still be refunded: paid minus everything refunded or being refunded."""
    if payment.status not in COMPLETED_STATUSES:
        return 0
    recorded = (
        payment.refunds.exclude(status=Refund.Status.FAILED).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return max(payment.amount - max(recorded, payment.amount_refunded), 0)


def refund_create(
    *,
    payment: Payment,
    actor: User | None,
    amount: int | None = None,
    reason: str = RefundReason.REQUESTED_BY_CUSTOMER,
    note: str = "",
    idempotency_key: str = "",
    api_client: ApiClient | None = None,
) -> Refund:
    """Refund ``amount`` minor units (default: everything refundable) of a paid payment.

    ``api_client``: the merchant API client asking (``actor`` is then None).
    """
    refund = _record(
        payment=payment,
        actor=actor,
        amount=amount,
        reason=reason,
        note=note,
        idempotency_key=idempotency_key,
        api_client=api_client,
    )
    if refund.status == Refund.Status.PENDING:
        try:
            _send(refund)
        finally:
            _log_refund(refund)
    return refund


def _log_refund(refund: Refund) -> None:
    payment = refund.payment
    logger.info(
        "Refund %s of %s minor units of %s on payment %s: %s",
        refund.pk,
        refund.amount,
        payment.currency,
        payment.public_id,
        refund.status,
        extra={
            "event": "payment.refund",
            "refund_status": refund.status,
            "payment_id": payment.public_id,
            "link_id": payment.link_id,
            "merchant_id": payment.merchant_id,
        },
    )


@transaction.atomic
def _record(
    *,
    payment: Payment,
    actor: User | None,
    amount: int | None,
    reason: str,
    note: str,
    idempotency_key: str,
    api_client: ApiClient | None,
) -> Refund:
    locked = Payment.objects.select_for_update().select_related("merchant").get(pk=payment.pk)
    if actor is not None and not permissions.can_write(actor, locked.merchant):
        raise PermissionDenied("You cannot refund this merchant's payments.")
    if api_client is not None and not permissions.client_can_write(api_client, locked.merchant):
        raise PermissionDenied("This API client cannot refund this merchant's payments.")
    key = idempotency_key or f"paylinks-refund-{uuid.uuid4().hex}"
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.payment_id != locked.pk or (amount is not None and existing.amount != amount):
            raise ValidationError({"amount": "This idempotency key was used for another refund."})
        return existing
    if reason not in RefundReason.values:
        raise ValidationError({"reason": "Choose a reason for the refund."})
    available = refundable_amount(locked)
    if locked.status not in COMPLETED_STATUSES:
        raise ValidationError({"amount": "Only a paid payment can be refunded."})
    amount = available if amount is None else amount
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError({"amount": "Enter an amount greater than zero."})
    if amount > available:
        raise ValidationError(
            {
                "amount": "You can refund at most "
                f"{money.format_money(available, locked.currency)} of this payment."
            }
        )
    refund = Refund.objects.create(
        payment=locked,
        amount=amount,
        reason=reason,
        note=note[:255],
        idempotency_key=key,
        created_by=actor if actor is not None and actor.pk else None,
    )
    PaymentEvent.objects.create(
        payment=locked,
        kind="refund_requested",
        message=f"Refund of {money.format_money(amount, locked.currency)} requested"
        + (f": {note[:150]}" if note else ""),
        source=_source(actor, api_client),
        actor=actor if actor is not None and actor.pk else None,
        data={"refund": refund.pk, "reason": reason},
    )
    audit_record(
        actor=actor,
        action="payment.refund_requested",
        obj=locked,
        merchant=locked.merchant,
        changes={"refund": [None, amount], "reason": [None, reason]},
        api_client=api_client,
    )
    return refund


def _source(actor: User | None, api_client: ApiClient | None) -> str:
    if actor is not None:
        return PaymentEvent.Source.CONSOLE
    if api_client is not None:
        return PaymentEvent.Source.API
    return PaymentEvent.Source.SYSTEM


def _send(refund: Refund) -> None:
    payment = refund.payment
    try:
        result = get_gateway(payment.gateway).refund(
            payment_intent_id=payment.payment_intent_id,
            amount=refund.amount,
            reason=refund.reason,  # the adapter maps it to what its API accepts
            idempotency_key=refund.idempotency_key,
        )
    except GatewayError as exc:
        if exc.permanent:
            Refund.objects.filter(pk=refund.pk).update(
                status=Refund.Status.FAILED, failure_message=str(exc)[:255]
            )
            refund.status, refund.failure_message = Refund.Status.FAILED, str(exc)[:255]
            PaymentEvent.objects.create(
                payment=payment,
                kind="refund_failed",
                message=f"Refund refused by the gateway: {exc}"[:255],
                source=PaymentEvent.Source.GATEWAY,
            )
            raise ValidationError({"amount": f"The gateway refused the refund: {exc}"}) from exc
        # Outcome unknown (timeout): the row stays pending and the sweeper retries it with
        # the same idempotency key.
        logger.warning("Refund %s outcome unknown: %s", refund.pk, exc)
        return
    status = Refund.Status.SUCCEEDED if result.status == "succeeded" else Refund.Status.PENDING
    Refund.objects.filter(pk=refund.pk).update(gateway_refund_id=result.id, status=status)
    refund.gateway_refund_id, refund.status = result.id, status


def retry_pending_refunds(older_than_seconds: int = 60) -> int:
    """Ask the gateway again about refunds whose outcome is unknown (same key: safe)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    retried = 0
    for refund in Refund.objects.filter(
        status=Refund.Status.PENDING, gateway_refund_id="", created_at__lte=cutoff
    ).select_related("payment")[:100]:
        with contextlib.suppress(ValidationError):  # a permanent refusal is recorded on the row
            _send(refund)
        retried += 1
    return retried


@task()
@carries_request_id
def refund_over_limit_payment(payment_id: int) -> str:
    """The task ``payment_sync`` enqueues for a payment that succeeded beyond the limit."""
    return refund_over_limit(payment_id)


def refund_over_limit(payment_id: int) -> str:
    """Refund in full a payment that succeeded beyond its link's limit, and tell the owners."""
    payment = Payment.objects.select_related("link", "merchant").get(pk=payment_id)
    if not payment.over_limit:
        return "not over limit"
    if payment.refunds.filter(reason=RefundReason.OVER_LIMIT).exists():
        return "already refunded"
    refund_create(
        payment=payment,
        actor=None,
        reason=RefundReason.OVER_LIMIT,
        note="Paid after the link's payment limit was reached",
        idempotency_key=f"paylinks-over-limit-{payment.public_id}",
    )
    owners = list(
        Membership.objects.filter(merchant=payment.merchant, role=Role.OWNER).values_list(
            "user__email", flat=True
        )
    )
    audit_record(
        actor=None,
        action="payment.over_limit_refunded",
        obj=payment,
        merchant=payment.merchant,
        changes={"link": [None, payment.link.title]},
    )
    if owners:
        mail_queue(
            subject=f"Paylinks refunded a payment beyond the limit of “{payment.link.title}”",
            body=(
                f"Payment {payment.public_id} ({payment.amount_display}) succeeded after the "
                f"link “{payment.link.title}” had reached its limit of "
                f"{payment.link.payment_limit} payments.\n\n"
                "Paylinks refunded it in full so the link is not oversold. "
                "You can see it in the console, marked “over limit”."
            ),
            to=owners,
        )
    return "refunded"
