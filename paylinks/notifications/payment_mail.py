"""E-mails about payments: the customer's receipt and refund notice, and the team's
"new payment" / "payment failed" notices for members who opted in.

Queued by ``outbox.payment_event`` in the transaction that changed the payment (as a
``send_payment_email`` task naming the outgoing event, whose payload is the payment as
it was at that moment), rendered and sent by the worker. A mail server that refuses or
is down never touches the payment: the task tries again after ``mail.RETRY_DELAYS``.
Every send, and every failed try, is on the payment's timeline.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from paylinks import money, timezones
from paylinks.models import (
    EventType,
    Membership,
    Merchant,
    OutgoingEvent,
    Payment,
    PaymentEvent,
)
from paylinks.privacy import mask_email
from paylinks.queueing import enqueue_with_transaction

from . import mail

logger = logging.getLogger(__name__)

RECEIPT, REFUND, TEAM_PAYMENT, TEAM_FAILURE = "receipt", "refund", "team_payment", "team_failure"
KINDS: dict[str, tuple[str, ...]] = {
    EventType.PAYMENT_SUCCEEDED: (RECEIPT, TEAM_PAYMENT),
    EventType.PAYMENT_FAILED: (TEAM_FAILURE,),
    EventType.PAYMENT_REFUNDED: (REFUND,),
    EventType.PAYMENT_PARTIALLY_REFUNDED: (REFUND,),
}
LABELS = {
    RECEIPT: "Receipt",
    REFUND: "Refund notice",
    TEAM_PAYMENT: "New-payment notice",
    TEAM_FAILURE: "Failed-payment notice",
}


def queue_for(event: OutgoingEvent, payment: Payment) -> None:
    """Queue the e-mails this payment event calls for (inside the change's transaction)."""
    for kind in KINDS.get(event.type, ()):
        if kind in (RECEIPT, REFUND) and not payment.customer_email:
            continue
        if kind == TEAM_PAYMENT and not _team(payment.merchant_id, "notify_payments").exists():
            continue
        if kind == TEAM_FAILURE and not _team(payment.merchant_id, "notify_failures").exists():
            continue
        enqueue_with_transaction(send_payment_email, event.pk, kind, 1)


def _team(merchant_id: int, flag: str) -> Any:
    return Membership.objects.filter(merchant_id=merchant_id, **{flag: True}).exclude(
        user__email=""
    )


def recipients(kind: str, event: OutgoingEvent) -> list[str]:
    if kind in (RECEIPT, REFUND):
        email = (event.payload["data"].get("customer") or {}).get("email")
        return [email] if email else []
    flag = "notify_payments" if kind == TEAM_PAYMENT else "notify_failures"
    return list(_team(event.merchant_id, flag).values_list("user__email", flat=True))


def item_label(title: str, quantity: int) -> str:
    """What was bought, as a receipt names it: "2 x Moby-Dick" (a times sign), or the title."""
    return f"{quantity} × {title}" if quantity != 1 else title


def render(kind: str, event: OutgoingEvent, merchant: Merchant) -> tuple[str, str, str]:
    """(subject, text, html) of one e-mail, from the event's snapshot of the payment."""
    data = event.payload["data"]
    currency = data["currency"]
    moment = parse_datetime(data.get("completed_at") or event.payload["timestamp"])
    refund_moment = parse_datetime(event.payload["timestamp"])
    context = {
        "kind": kind,
        "merchant": merchant,
        "brand": merchant.brand_color,
        "contact": merchant.support_email,
        "payment": data,
        "item": item_label(data["link"]["title"], int(data.get("quantity") or 1)),
        "amount": money.format_money(data["amount"], currency),
        "unit_amount": money.format_money(int(data.get("unit_amount") or data["amount"]), currency),
        "refunded": money.format_money(data["amount_refunded"], currency),
        "in_full": event.type == EventType.PAYMENT_REFUNDED,
        "paid_at": _when(moment, merchant),
        "refunded_at": _when(refund_moment, merchant),
        "payment_intent": data.get("payment_intent_id") or "",
        "method": (data.get("method") or {}).get("label", ""),
        "failure": (data.get("failure") or {}).get("message", ""),
    }
    subjects = {
        RECEIPT: f"Your receipt from {merchant.name}: {context['amount']}",
        REFUND: f"{merchant.name} refunded {context['refunded']}",
        TEAM_PAYMENT: f"New payment: {context['amount']} for {context['item']}",
        TEAM_FAILURE: f"Payment failed: {context['amount']} for {context['item']}",
    }
    text = render_to_string(f"emails/{kind}.txt", context)
    html = render_to_string(f"emails/{kind}.html", context)
    return subjects[kind][:200], text, html


def _when(moment: datetime | None, merchant: Merchant) -> str:
    """A date-time in the merchant's zone, saying which zone it is, written as the console
    writes it ("2 Dec 2026, 14:05 CET")."""
    if moment is None:
        return ""
    with timezone.override(timezones.zone(merchant.timezone)):
        return timezones.when(moment)


@task()
def send_payment_email(event_pk: int, kind: str, attempt: int = 1) -> str:
    """Render and send one payment e-mail; on a transient failure, try again later."""
    event = OutgoingEvent.objects.select_related("merchant").filter(pk=event_pk).first()
    if event is None:
        return "gone"
    payment = Payment.objects.filter(public_id=event.object_id).first()
    to = recipients(kind, event)
    if not to or payment is None:
        return "nobody"
    merchant = event.merchant
    subject, text, html = render(kind, event, merchant)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=to,
        reply_to=[merchant.support_email] if merchant.support_email else [],
    )
    message.attach_alternative(html, "text/html")
    who = ", ".join(mask_email(a) for a in to)[:150]
    try:
        message.send()
    except mail.TRANSIENT as exc:
        return _failed(event_pk, kind, attempt, payment, who, exc)
    _timeline(payment, "email_sent", f"{LABELS[kind]} e-mailed to {who}", kind, attempt)
    return "sent"


def _failed(
    event_pk: int, kind: str, attempt: int, payment: Payment, who: str, exc: Exception
) -> str:
    if attempt >= mail.MAX_ATTEMPTS or not send_payment_email.get_backend().supports_defer:
        _timeline(
            payment,
            "email_failed",
            f"{LABELS[kind]} to {who} could not be sent; gave up ({type(exc).__name__})",
            kind,
            attempt,
        )
        logger.error("Gave up on a %s e-mail after %d attempts: %s", kind, attempt, exc)
        return "gave up"
    delay = mail.RETRY_DELAYS[attempt - 1]
    _timeline(
        payment,
        "email_failed",
        f"{LABELS[kind]} to {who} could not be sent ({type(exc).__name__}); "
        f"trying again in {int(delay.total_seconds())} s",
        kind,
        attempt,
    )
    enqueue_with_transaction(
        send_payment_email, event_pk, kind, attempt + 1, run_after=timezone.now() + delay
    )
    return "retrying"


def _timeline(payment: Payment, event_kind: str, message: str, kind: str, attempt: int) -> None:
    PaymentEvent.objects.create(
        payment=payment,
        kind=event_kind,
        message=message[:255],
        source=PaymentEvent.Source.SYSTEM,
        data={"email": kind, "attempt": attempt},
    )
