"""What happens inside the sandbox gateway when a customer pays, and later.

Every operation runs in one transaction, locks the session it touches, changes the
sandbox's own rows and writes the Stripe-shaped events it owes the webhook endpoint to
the outbox. Delivery happens after commit (``delivery.py``), like Stripe's.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from paylinks import fastsql
from paylinks.gateways.base import STRIPE_REFUND_REASONS, CheckoutRequest, GatewayError
from paylinks.logcontext import carries_request_id
from paylinks.queueing import enqueue_with_transaction

from . import delivery, objects
from .cards import AUTHENTICATION_FAILED, Outcome, TestInstrument
from .models import (
    SandboxEvent,
    SandboxPaymentIntent,
    SandboxRefund,
    SandboxSession,
    new_charge_id,
)

Intent = SandboxPaymentIntent


class SandboxError(Exception):
    """Something the customer must fix (shown on the sandbox page), or a closed session."""


@dataclass(frozen=True)
class Customer:
    email: str
    name: str = ""
    phone: str = ""
    address: dict[str, str] | None = None


@dataclass(frozen=True)
class Attempt:
    """What the customer sees after pressing Pay."""

    result: str  # succeeded | processing | declined | requires_action
    message: str = ""


# --- sessions ---------------------------------------------------------------------------
def create_session(request: CheckoutRequest) -> tuple[SandboxSession, bool]:
    """Open a session; a retried request with the same idempotency key gets the first one.
    Returns the session and whether it was created now.

    One INSERT in autocommit (the common case: a new key), and only when the unique key
    refuses it, a read of the session that won. No transaction is needed: the unique
    constraint is what makes two racing creates end with one session."""
    # Inside a caller's transaction the INSERT needs a savepoint, so a refused key does not
    # break that transaction; on its own it runs in autocommit, with no BEGIN/COMMIT.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            created = SandboxSession(
                amount_total=request.amount,
                quantity=request.quantity,
                currency=request.currency,
                title=request.title,
                description=request.description,
                merchant_name=request.merchant_name,
                client_reference_id=request.payment_public_id,
                metadata=request.reference_metadata,
                customer_email=request.customer_email,
                collect_name=request.collect_name,
                collect_phone=request.collect_phone,
                collect_billing_address=request.collect_billing_address,
                success_url=request.success_url.replace("{CHECKOUT_SESSION_ID}", "__SESSION__"),
                cancel_url=request.cancel_url,
                expires_at=request.expires_at,
                idempotency_key=request.idempotency_key,
            )
            fastsql.insert(created)  # one checkout, one INSERT built once (docs/scaling.md)
        return created, True
    except IntegrityError:
        existing = SandboxSession.objects.filter(idempotency_key=request.idempotency_key).first()
        if existing is None:  # not the key after all: a real error
            raise
    if (existing.amount_total, existing.currency) != (request.amount, request.currency):
        raise GatewayError(
            "Keys for idempotent requests can only be used with the same parameters.",
            permanent=True,
            code="idempotency_error",
        )
    return existing, False


def success_url(session: SandboxSession) -> str:
    return session.success_url.replace("__SESSION__", session.id)


def _locked_session(session_id: str) -> SandboxSession:
    try:
        return SandboxSession.objects.select_for_update().get(pk=session_id)
    except SandboxSession.DoesNotExist:
        raise SandboxError("This checkout session does not exist.") from None


def _open_session(session_id: str) -> SandboxSession:
    session = _locked_session(session_id)
    if session.status == SandboxSession.Status.OPEN and session.expires_at <= timezone.now():
        _expire(session)
    if session.status == SandboxSession.Status.EXPIRED:
        raise SandboxError("This checkout session has expired.")
    if session.status == SandboxSession.Status.COMPLETE:
        raise SandboxError("This checkout session is already complete.")
    return session


def _intent_for(session: SandboxSession) -> Intent:
    intent, _ = Intent.objects.select_for_update().get_or_create(
        session=session,
        defaults={
            "amount": session.amount_total,
            "currency": session.currency,
            "metadata": session.metadata,
        },
    )
    return intent


def _save_customer(session: SandboxSession, customer: Customer) -> None:
    session.customer_email = customer.email
    session.customer_name = customer.name
    session.customer_phone = customer.phone
    session.billing_address = json.dumps(customer.address) if customer.address else ""


# --- paying -----------------------------------------------------------------------------
@transaction.atomic
def pay_with_card(
    session_id: str, *, card: TestInstrument, last4: str, customer: Customer
) -> Attempt:
    session = _open_session(session_id)
    intent = _intent_for(session)
    if intent.status == Intent.Status.REQUIRES_ACTION:
        raise SandboxError("Finish or cancel the authentication step first.")
    intent.payment_method_type = "card"
    intent.card_brand = card.brand
    intent.last4 = last4
    _save_customer(session, customer)
    session.save()
    if card.outcome == Outcome.DECLINE:
        _decline(intent, card.error_code, card.decline_code, card.message)
        return Attempt("declined", card.message)
    if card.outcome == Outcome.AUTHENTICATE:
        intent.status = Intent.Status.REQUIRES_ACTION
        _clear_error(intent)
        intent.save()
        _emit("payment_intent.requires_action", objects.payment_intent_object(intent))
        return Attempt("requires_action")
    _succeed(session, intent, "checkout.session.completed")
    return Attempt("succeeded")


@transaction.atomic
def finish_authentication(session_id: str, *, passed: bool) -> Attempt:
    session = _open_session(session_id)
    intent = _intent_for(session)
    if intent.status != Intent.Status.REQUIRES_ACTION:
        raise SandboxError("There is no authentication step waiting for this payment.")
    if not passed:
        _decline(intent, "payment_intent_authentication_failure", "", AUTHENTICATION_FAILED)
        return Attempt("declined", AUTHENTICATION_FAILED)
    _succeed(session, intent, "checkout.session.completed")
    return Attempt("succeeded")


@transaction.atomic
def pay_with_sepa(
    session_id: str, *, iban: TestInstrument, last4: str, customer: Customer
) -> Attempt:
    """A delayed method: the session completes unpaid now and settles (or fails) later."""
    session = _open_session(session_id)
    intent = _intent_for(session)
    intent.payment_method_type = "sepa_debit"
    intent.card_brand = ""
    intent.last4 = last4
    intent.status = Intent.Status.PROCESSING
    intent.charge_id = intent.charge_id or new_charge_id()
    intent.settle_at = timezone.now() + timedelta(seconds=settings.SANDBOX_SETTLE_SECONDS)
    intent.settle_outcome = "succeeded" if iban.outcome == Outcome.SETTLE else "failed"
    _clear_error(intent)
    intent.save()
    _save_customer(session, customer)
    session.status = SandboxSession.Status.COMPLETE
    session.save()
    _emit("payment_intent.processing", objects.payment_intent_object(intent))
    _emit("checkout.session.completed", objects.session_object(session))
    enqueue_with_transaction(settle_intent, intent.id, run_after=intent.settle_at)
    return Attempt("processing")


@task()
@carries_request_id
def settle_intent(intent_id: str) -> bool:
    """The deferred task a delayed (SEPA) payment schedules for its settlement time."""
    return settle(intent_id)


@transaction.atomic
def settle(intent_id: str, *, now: datetime | None = None) -> bool:
    """Settle a processing delayed payment whose time has come. True when it settled."""
    now = now or timezone.now()
    intent = Intent.objects.select_for_update().select_related("session").get(pk=intent_id)
    if intent.status != Intent.Status.PROCESSING or not intent.settle_at or intent.settle_at > now:
        return False
    session = SandboxSession.objects.select_for_update().get(pk=intent.session_id)
    if intent.settle_outcome == "succeeded":
        _succeed(session, intent, "checkout.session.async_payment_succeeded")
    else:
        _decline(
            intent,
            "payment_method_provider_decline",
            "insufficient_funds",
            "The bank declined the SEPA Direct Debit.",
        )
        _emit("checkout.session.async_payment_failed", objects.session_object(session))
    return True


def _succeed(session: SandboxSession, intent: Intent, session_event: str) -> None:
    intent.status = Intent.Status.SUCCEEDED
    intent.charge_id = intent.charge_id or new_charge_id()
    _clear_error(intent)
    intent.save()
    session.status = SandboxSession.Status.COMPLETE
    session.payment_status = SandboxSession.PaymentStatus.PAID
    session.save()
    _emit("payment_intent.succeeded", objects.payment_intent_object(intent))
    _emit("charge.succeeded", objects.charge_object(intent))
    _emit(session_event, objects.session_object(session))


def _decline(intent: Intent, code: str, decline_code: str, message: str) -> None:
    intent.status = Intent.Status.REQUIRES_PAYMENT_METHOD
    intent.charge_id = new_charge_id()
    intent.last_error_code = code
    intent.last_error_decline_code = decline_code
    intent.last_error_message = message
    intent.save()
    _emit("charge.failed", objects.charge_object(intent))
    _emit("payment_intent.payment_failed", objects.payment_intent_object(intent))


def _clear_error(intent: Intent) -> None:
    intent.last_error_code = intent.last_error_decline_code = intent.last_error_message = ""


# --- expiry and refunds -----------------------------------------------------------------
@transaction.atomic
def expire(session_id: str) -> SandboxSession:
    session = _locked_session(session_id)
    if session.status == SandboxSession.Status.OPEN:
        _expire(session)
    return session


def _expire(session: SandboxSession) -> None:
    session.status = SandboxSession.Status.EXPIRED
    session.save(update_fields=["status"])
    Intent.objects.filter(
        session=session,
        status__in=[Intent.Status.REQUIRES_PAYMENT_METHOD, Intent.Status.REQUIRES_ACTION],
    ).update(status=Intent.Status.CANCELED)
    _emit("checkout.session.expired", objects.session_object(session))


@transaction.atomic
def refund(*, intent_id: str, amount: int, reason: str, idempotency_key: str) -> SandboxRefund:
    existing = SandboxRefund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.amount != amount or existing.payment_intent_id != intent_id:
            raise GatewayError(
                "Keys for idempotent requests can only be used with the same parameters.",
                permanent=True,
                code="idempotency_error",
            )
        return existing
    intent = Intent.objects.select_for_update().filter(pk=intent_id).first()
    if intent is None:
        raise GatewayError(
            f"No such payment_intent: {intent_id}", permanent=True, code="resource_missing"
        )
    if intent.status != Intent.Status.SUCCEEDED:
        raise GatewayError(
            "This payment has not succeeded, so it cannot be refunded.", permanent=True
        )
    if amount <= 0 or amount > intent.amount - intent.amount_refunded:
        raise GatewayError(
            "Refund amount is greater than the unrefunded amount on the charge.",
            permanent=True,
            code="amount_too_large",
        )
    created = SandboxRefund.objects.create(
        payment_intent=intent,
        amount=amount,
        reason=reason if reason in STRIPE_REFUND_REASONS else "",
        idempotency_key=idempotency_key,
    )
    intent.amount_refunded += amount
    intent.save(update_fields=["amount_refunded"])
    _emit("refund.created", objects.refund_object(created))
    _emit("charge.refunded", objects.charge_object(intent))
    return created


# --- the sandbox's own clock ------------------------------------------------------------
def sweep(now: datetime | None = None) -> dict[str, int]:
    """Expire sessions past their time and settle delayed payments that are due."""
    now = now or timezone.now()
    expired = settled = 0
    for session_id in SandboxSession.objects.filter(
        status=SandboxSession.Status.OPEN, expires_at__lte=now
    ).values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            session = _locked_session(session_id)
            if session.status == SandboxSession.Status.OPEN:
                _expire(session)
                expired += 1
    for intent_id in Intent.objects.filter(
        status=Intent.Status.PROCESSING, settle_at__lte=now
    ).values_list("pk", flat=True)[:500]:
        settled += settle(intent_id, now=now)
    return {"expired": expired, "settled": settled}


def _emit(event_type: str, data_object: dict[str, Any]) -> SandboxEvent:
    event = SandboxEvent(type=event_type, payload={})
    event.created_at = timezone.now()
    event.payload = objects.event_envelope(event, data_object)
    event.next_attempt_at = event.created_at
    event.save(force_insert=True)
    delivery.schedule_delivery(event.id)
    return event
