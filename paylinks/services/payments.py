"""A payment's life: starting a checkout, and every change of state afterwards.

Two rules hold everywhere in this module:

- The amount charged comes from the server: the link's price (times the quantity the
  customer chose, within the link's range), or a customer-chosen amount validated
  against the link's range. Nothing the browser sends sets a price.
- A payment's state changes only in ``payment_sync``, under a row lock, forward-only,
  from what the gateway reports *when asked again* — never from a webhook's payload.
  Duplicated or out-of-order events therefore converge on the same final state.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.crypto import salted_hmac

from paylinks import fastsql, metrics, money
from paylinks.gateways import CheckoutRequest, CheckoutSession, GatewayError, get_gateway
from paylinks.labels import payment_method_label
from paylinks.models import (
    AmountType,
    EventType,
    LinkState,
    Payment,
    PaymentEvent,
    PaymentLink,
    PaymentStatus,
)
from paylinks.models.payments import COMPLETED_STATUSES, TRANSITIONS
from paylinks.notifications import outbox
from paylinks.queueing import enqueue_with_transaction
from paylinks.selectors.links import (
    client_open_checkouts,
    link_get_for_checkout,
    link_places,
    link_state,
)

from . import ga4, rollups
from .refunds import refund_over_limit_payment

logger = logging.getLogger(__name__)

Source = PaymentEvent.Source


class CheckoutError(Exception):
    """Why a customer cannot start a checkout, with a stable code and an HTTP status, and
    for a refusal that passes (places held by open checkouts) how many seconds it lasts."""

    def __init__(
        self, code: str, message: str, status: int, *, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after


class PaymentMismatch(Exception):
    """The gateway reports a session whose amount or currency is not the payment's."""


@dataclass(frozen=True)
class CheckoutStarted:
    payment: Payment
    session_id: str
    checkout_url: str
    created: bool = True


# --- starting a checkout ----------------------------------------------------------------
def checkout_start(
    *,
    slug: str,
    amount: Any = None,
    quantity: Any = None,
    email: str = "",
    idempotency_key: str = "",
    client: str = "",
) -> CheckoutStarted:
    """Create (or, for a repeated idempotency key, reuse) a payment and its checkout session.

    ``client`` names who is asking (the client's IP address as the API sees it); only a
    keyed hash of it is stored. On a limited link one client holds at most
    ``PAYLINKS_PLACES_PER_CLIENT`` open checkouts, and asking again for the same thing
    (same amount and e-mail) reuses its open checkout instead of taking another place.
    ``quantity`` is how many units the customer buys (links with a quantity only; None
    means the link's minimum); a limited link's places are then units.

    Raises CheckoutError for anything the customer or link state prevents.
    """
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise CheckoutError("invalid_email", "Enter a valid e-mail address.", 400) from None
    if len(idempotency_key) > 100:
        raise CheckoutError("invalid_request", "The idempotency key is too long.", 400)

    request = _Request(
        slug=slug,
        amount=amount,
        quantity=quantity,
        email=email,
        idempotency_key=idempotency_key,
        client_key=client_key(client),
    )
    try:
        payment, created = _reserve(request)
    except IntegrityError:
        if not idempotency_key:
            raise
        # The same request ran at the same moment (a double-click, a retry) and its payment
        # won the unique key; that transaction has committed, so this is now a repeat.
        payment, created = _reserve(request)
    if not created and payment.status != PaymentStatus.PENDING:
        raise CheckoutError(
            "idempotency_conflict",
            "This checkout is already finished; start a new one with a new key.",
            409,
        )
    if payment.gateway_session_id and payment.checkout_url:
        return CheckoutStarted(payment, payment.gateway_session_id, payment.checkout_url, created)
    started = _open_session(payment)
    return CheckoutStarted(started.payment, started.session_id, started.checkout_url, created)


def client_key(client: str) -> str:
    """A keyed hash of a client's address: enough to count its checkouts, not to find it."""
    if not client:
        return ""
    return salted_hmac("paylinks.checkout-client", client, algorithm="sha256").hexdigest()[:32]


@dataclass(frozen=True)
class _Request:
    slug: str
    amount: Any
    email: str
    idempotency_key: str
    client_key: str
    quantity: Any = None


#: An open checkout is reused for the same client only while it has this long left to run.
REUSE_MIN_LIFETIME = timedelta(minutes=5)


@transaction.atomic
def _reserve(request: _Request) -> tuple[Payment, bool]:
    slug, amount, email = request.slug, request.amount, request.email
    idempotency_key = request.idempotency_key
    link = link_get_for_checkout(slug)
    if link is None:
        raise CheckoutError("not_found", "This payment link does not exist.", 404)
    if link.payment_limit is not None:
        # A limited link's places are counted and taken under its row lock, so concurrent
        # checkouts queue here and the count below is never stale. Unlimited links have
        # nothing to count, and their checkouts do not wait for each other. (The lock is
        # taken on a fresh read: the limit may have changed since the read above.)
        link = (
            PaymentLink.objects.select_for_update(of=("self",))
            .select_related("merchant")
            .get(pk=link.pk)
        )
    if idempotency_key:
        existing = Payment.objects.filter(link=link, idempotency_key=idempotency_key).first()
        if existing is not None:
            _same_request_or_conflict(existing, link, amount, email, request.quantity)
            return existing, False

    now = timezone.now()
    state = link_state(link, now)
    if state == LinkState.INACTIVE:
        raise CheckoutError("inactive", link.effective_inactive_message, 410)
    if state == LinkState.EXPIRED:
        raise CheckoutError("expired", "This payment link has expired.", 410)
    if state == LinkState.SOLD_OUT:
        raise CheckoutError("sold_out", "This payment link is sold out.", 409)
    unit = amount_to_charge(link, amount)
    units = quantity_to_buy(link, request.quantity)
    charge = total_for(link, unit, units)
    if link.payment_limit is not None:
        reused = _check_places(link, request, charge, units, now)
        if reused is not None:
            return reused, False
    # fastsql.insert: the same rows as .objects.create(), without compiling two wide
    # INSERTs on every checkout (docs/scaling.md).
    payment = fastsql.insert(
        Payment(
            merchant=link.merchant,
            link=link,
            amount=charge,
            unit_amount=unit,
            quantity=units,
            currency=link.currency,
            gateway=get_gateway().name,
            customer_email=email,
            idempotency_key=idempotency_key,
            client_key=request.client_key,
            expires_at=session_expiry(link, now),
        )
    )
    fastsql.insert(
        PaymentEvent(
            payment=payment,
            kind="created",
            to_status=PaymentStatus.PENDING,
            message=f"Checkout started for {_what(units, charge, link.currency)}",
            source=Source.SYSTEM,
        )
    )
    ga4.checkout_started(payment, link)
    return payment, True


def _what(units: int, charge: int, currency: str) -> str:
    total = money.format_money(charge, currency)
    return f"{units} units, {total}" if units != 1 else total


def _check_places(
    link: PaymentLink, request: _Request, charge: int, units: int, now: datetime
) -> Payment | None:
    """Under the link's row lock: may this client take ``units`` of the link's places?

    Returns the client's own open checkout for the same amount, quantity and e-mail when
    there is one to reuse; raises ``too_many_checkouts`` when the client already holds its
    share, ``places_held`` when open checkouts hold every place left (both with when to
    retry), ``quantity_unavailable`` when fewer units are left than asked for.
    """
    assert link.payment_limit is not None
    if request.client_key:
        own = client_open_checkouts(link, request.client_key, now)
        for payment in own:
            if (
                request.email
                and payment.amount == charge
                and payment.quantity == units
                and (payment.customer_email or "").lower() == request.email.lower()
                and payment.checkout_url
                and payment.expires_at is not None
                and payment.expires_at > now + REUSE_MIN_LIFETIME
            ):
                return payment
        share = settings.PAYLINKS_PLACES_PER_CLIENT
        if share and len(own) >= share:
            wait = _seconds_until(min(p.expires_at for p in own if p.expires_at), now)
            raise CheckoutError(
                "too_many_checkouts",
                f"You already have {len(own)} checkouts open for this link. Finish or cancel "
                f"one, or try again in {_minutes(wait)}.",
                409,
                retry_after=wait,
            )
    places = link_places(link, now)
    if places.held >= link.payment_limit:
        free_in = _seconds_until(places.next_free_at, now) if places.next_free_at else None
        raise CheckoutError("places_held", places_held_message(free_in), 409, retry_after=free_in)
    left = link.payment_limit - places.held
    if units > left:
        sold_left = link.payment_limit - places.completed
        raise CheckoutError(
            "quantity_unavailable",
            f"Only {left} left right now: choose at most {left}."
            + (
                f" ({sold_left - left} more are in other customers' open checkouts.)"
                if sold_left > left
                else ""
            ),
            409,
        )
    return None


def places_held_message(retry_after: int | None) -> str:
    """What a customer is told while open checkouts hold every place left on a link."""
    if retry_after is None:
        return (
            "All places are being paid for right now. Nothing was charged; "
            "try again later, a place comes back if a payment does not go through."
        )
    return (
        "All places are being paid for right now. Nothing was charged; "
        f"try again in {_minutes(retry_after)}, when unfinished checkouts give their places back."
    )


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _minutes(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _same_request_or_conflict(
    existing: Payment, link: PaymentLink, amount: Any, email: str, quantity: Any = None
) -> None:
    """A repeated idempotency key must repeat the request, as on Stripe: the same key with
    another amount or e-mail is a client bug, not a retry, and must not silently answer
    with the first checkout."""
    different_amount = (
        link.amount_type != AmountType.FIXED
        and amount not in (None, "")
        and amount_to_charge(link, amount) != existing.amount
    )
    different_email = bool(email) and email.lower() != (existing.customer_email or "").lower()
    different_quantity = (
        link.quantity_enabled
        and quantity not in (None, "")
        and quantity_to_buy(link, quantity) != existing.quantity
    )
    if different_amount or different_email or different_quantity:
        raise CheckoutError(
            "idempotency_conflict",
            "This idempotency key was already used for a checkout with other details; "
            "use a new key for a new checkout.",
            409,
        )


def amount_to_charge(link: PaymentLink, amount: Any) -> int:
    """The server's answer to "how much?": the fixed price, or a validated customer amount."""
    if link.amount_type == AmountType.FIXED:
        if amount not in (None, ""):
            raise CheckoutError(
                "invalid_amount", "This link has a fixed price: do not send an amount.", 400
            )
        assert link.amount is not None
        return link.amount
    if isinstance(amount, bool) or not isinstance(amount, (str, int)) or amount == "":
        raise CheckoutError(
            "invalid_amount", 'Enter the amount you want to pay, like "12.50".', 400
        )
    try:
        minor = money.parse_major(str(amount), link.currency)
    except money.MoneyError as exc:
        raise CheckoutError("invalid_amount", str(exc), 400) from None
    low, high = link.effective_min, link.effective_max
    if not low <= minor <= high:
        raise CheckoutError(
            "invalid_amount",
            f"Choose an amount between {money.format_money(low, link.currency)} and "
            f"{money.format_money(high, link.currency)}.",
            400,
        )
    return minor


def quantity_to_buy(link: PaymentLink, quantity: Any) -> int:
    """The server's answer to "how many?": 1 on a link without a quantity, else a whole
    number within the link's minimum and maximum (the minimum when none is sent)."""
    if quantity in (None, ""):
        return link.quantity_floor
    if not link.quantity_enabled:
        if quantity in (1, "1"):
            return 1
        raise CheckoutError(
            "invalid_quantity", "This link sells one at a time: do not send a quantity.", 400
        )
    if isinstance(quantity, bool) or not isinstance(quantity, (str, int)):
        raise CheckoutError("invalid_quantity", "Enter the quantity as a whole number.", 400)
    text = str(quantity).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise CheckoutError("invalid_quantity", "Enter the quantity as a whole number.", 400)
    units = int(text)
    low, high = link.quantity_floor, link.quantity_ceiling
    if not low <= units <= high:
        raise CheckoutError(
            "invalid_quantity",
            f"Choose a quantity from {low} to {high}."
            if low <= high
            else "This link cannot be bought in any quantity right now.",
            400,
        )
    return units


def total_for(link: PaymentLink, unit: int, units: int) -> int:
    """``unit`` times ``units``, refused when it is more than the currency allows in one charge."""
    total = unit * units
    try:
        money.validate_minor(total, link.currency)
    except money.MoneyError as exc:
        raise CheckoutError("invalid_quantity", f"{units} units: {exc}", 400) from None
    return total


def session_expiry(link: PaymentLink, now: datetime) -> datetime:
    expires = now + timedelta(minutes=settings.PAYLINKS_CHECKOUT_TTL_MINUTES)
    if link.expires_at is not None:
        expires = min(expires, link.expires_at)
    return expires


def _open_session(payment: Payment) -> CheckoutStarted:
    link = payment.link
    gateway = get_gateway(payment.gateway)
    request = CheckoutRequest(
        payment_public_id=payment.public_id,
        link_slug=link.slug,
        merchant_id=link.merchant_id,
        merchant_name=link.merchant.name,
        title=link.title,
        description=link.description,
        amount=payment.amount,
        unit_amount=payment.unit_price,
        quantity=payment.quantity,
        adjustable_quantity=_adjustable(link),
        currency=payment.currency,
        success_url=link.success_url,
        cancel_url=link.cancel_url(payment.public_id),
        expires_at=payment.expires_at or session_expiry(link, timezone.now()),
        idempotency_key=f"paylinks-checkout-{payment.public_id}",
        customer_email=payment.customer_email,
        collect_name=link.collect_name,
        collect_phone=link.collect_phone,
        collect_billing_address=link.collect_billing_address,
        metadata={str(k): str(v) for k, v in (link.metadata or {}).items()},
        image_url=link.image_url or "",
    )
    try:
        session = gateway.create_checkout_session(request)
    except GatewayError as exc:
        checkout_abandon(payment, exc)
        if exc.code == "expires_at_too_soon":  # the link closes before the gateway allows
            raise CheckoutError(
                "link_closing",
                "This payment link closes in a few minutes, too soon to start a payment. "
                "Please ask the merchant for a new link.",
                409,
            ) from exc
        raise CheckoutError(
            "gateway_unavailable",
            "The payment provider could not start the checkout. Please try again.",
            503 if not exc.permanent else 502,
        ) from exc
    Payment.objects.filter(pk=payment.pk).update(
        gateway_session_id=session.id,
        checkout_url=session.url or "",
        expires_at=session.expires_at or payment.expires_at,
        updated_at=timezone.now(),
    )
    payment.gateway_session_id, payment.checkout_url = session.id, session.url or ""
    metrics.checkouts_created.labels(gateway.name).inc()
    logger.info(
        "Checkout %s opened for payment %s",
        session.id,
        payment.public_id,
        extra={
            "event": "payment.checkout_opened",
            "payment_id": payment.public_id,
            "link_id": payment.link_id,
            "merchant_id": payment.merchant_id,
            "gateway": gateway.name,
        },
    )
    return CheckoutStarted(payment, session.id, session.url or "")


def _adjustable(link: PaymentLink) -> tuple[int, int] | None:
    """The range a customer may change the quantity within on the gateway's page, or None.

    Only links without a payment limit: a limited link's units are reserved when the
    checkout starts, so the quantity chosen on the pay page is the one paid for (a
    customer raising it on the gateway's page could take units another customer holds).
    """
    if not link.quantity_enabled or link.payment_limit is not None:
        return None
    low, high = link.quantity_floor, link.quantity_ceiling
    return (low, high) if low < high else None


def checkout_abandon(payment: Payment, exc: GatewayError) -> None:
    """The gateway would not open a session: fail the payment so it frees its place."""
    logger.warning("Gateway refused checkout for %s: %s", payment.public_id, exc)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status == PaymentStatus.PENDING and not locked.gateway_session_id:
            locked.failure_code = "gateway_error"
            locked.failure_message = str(exc)[:255]
            _transition(locked, PaymentStatus.FAILED, source=Source.SYSTEM, message=str(exc)[:255])
            locked.save()
            rollups.payment_changed(locked)


def checkout_cancel(*, payment: Payment) -> Payment:
    """The customer left the hosted checkout: close the session and free the place."""
    if payment.status != PaymentStatus.PENDING or payment.session_completed_at:
        return payment
    gateway = get_gateway(payment.gateway)
    if payment.gateway_session_id:
        try:
            session = gateway.expire_checkout_session(payment.gateway_session_id)
        except GatewayError:
            # Could not close it right now; the session still expires on its own.
            return payment
        if session.status != "expired":
            return payment_sync(payment=payment, session=session, source=Source.GATEWAY)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status == PaymentStatus.PENDING and not locked.session_completed_at:
            _transition(
                locked, PaymentStatus.CANCELED, source=Source.SYSTEM, message="Customer canceled"
            )
            locked.save()
            rollups.payment_changed(locked)
        return locked


# --- applying what the gateway reports --------------------------------------------------
def payment_refresh(
    *,
    payment: Payment,
    session_id: str = "",
    gateway_event_id: str = "",
) -> Payment:
    """Ask the gateway about the payment's checkout session now, and apply its answer.

    The one way Paylinks learns what happened to a payment: webhook handlers, the
    sweeper and the confirmation page all come here, and none trusts an event's body.
    ``session_id`` names the session when the payment has not recorded one yet (an event
    that arrived before the checkout call returned). Raises ``GatewayError`` when the
    gateway cannot answer and ``PaymentMismatch`` when its session is not this payment's.
    """
    session_id = payment.gateway_session_id or session_id
    if not session_id:
        raise GatewayError(f"{payment.public_id} has no checkout session", permanent=True)
    session = get_gateway(payment.gateway).retrieve_checkout_session(session_id)
    return payment_sync(payment=payment, session=session, gateway_event_id=gateway_event_id)


def payment_sync(
    *,
    payment: Payment,
    session: CheckoutSession,
    source: str = Source.GATEWAY,
    gateway_event_id: str = "",
) -> Payment:
    """Bring a payment in line with its session as the gateway reports it now.

    Idempotent: applying the same session twice changes nothing the second time.
    """
    over_limit = False
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        _check_matches(locked, session)
        _adopt_quantity(locked, session)
        refund_grew = _observe(locked, session)
        for status in _path(locked, session, refund_grew=refund_grew):
            if status == PaymentStatus.SUCCEEDED:
                over_limit = _beyond_limit(locked)
            _transition(
                locked,
                status,
                source=source,
                gateway_event_id=gateway_event_id,
                message=_message_for(status, locked),
            )
        locked.last_synced_at = timezone.now()
        locked.save()
        rollups.payment_changed(locked)
        if over_limit:
            enqueue_with_transaction(refund_over_limit_payment, locked.pk)
    return locked


def _check_matches(payment: Payment, session: CheckoutSession) -> None:
    """The session must charge this payment's unit price times the quantity it reports
    (the customer may have changed the quantity on the gateway's page), in its currency."""
    if session.amount_total is None:
        return
    units = session.quantity or payment.quantity
    expected = payment.unit_price * units
    if session.quantity and session.quantity != payment.quantity:
        allowed = payment.status == PaymentStatus.PENDING and payment.unit_amount is not None
    else:
        allowed = True
    if (
        not allowed
        or session.amount_total != expected
        or session.currency.upper() != payment.currency
    ):
        raise PaymentMismatch(
            f"Session {session.id} reports {session.amount_total} {session.currency} for "
            f"{units} units, payment {payment.public_id} expects {payment.amount} "
            f"{payment.currency} for {payment.quantity}"
        )


def _adopt_quantity(payment: Payment, session: CheckoutSession) -> None:
    """The customer changed the quantity on the gateway's page (Stripe's adjustable
    quantity): the payment takes the gateway's quantity and amount, already checked to be
    the unit price times that quantity (``_check_matches``)."""
    if not session.quantity or session.quantity == payment.quantity:
        return
    assert session.amount_total is not None
    before = payment.quantity
    payment.quantity, payment.amount = session.quantity, session.amount_total
    _event(
        payment,
        "quantity_changed",
        f"The customer changed the quantity from {before} to {session.quantity} at checkout "
        f"({payment.amount_display}).",
        quantity=session.quantity,
        previous=before,
    )


def _observe(payment: Payment, session: CheckoutSession) -> bool:
    """Copy facts the gateway reports (never guessed): method, ids, customer, refunds.

    Returns whether the refunded amount grew.
    """
    if not payment.gateway_session_id:
        payment.gateway_session_id = session.id
    if session.payment_intent_id:
        payment.payment_intent_id = session.payment_intent_id
    if session.payment_method is not None:
        payment.payment_method_type = session.payment_method.type
        payment.card_brand = session.payment_method.brand
        payment.card_last4 = session.payment_method.last4
    for field in ("customer_email", "customer_name", "customer_phone"):
        value = getattr(session, field)
        if value and not getattr(payment, field):
            setattr(payment, field, value)
    # The e-mail's search hash follows the e-mail (see paylinks.privacy).
    if session.billing_address and not payment.billing_address:
        payment.billing_address = json.dumps(session.billing_address)
    if session.status == "complete" and payment.session_completed_at is None:
        payment.session_completed_at = timezone.now()
        if session.payment_status != "paid" and payment.status == PaymentStatus.PENDING:
            _event(
                payment, "processing", "The customer finished checkout; the payment is processing."
            )
    if session.failure_reason and payment.status == PaymentStatus.PENDING:
        payment.failure_code = session.failure_reason[:60]
        payment.failure_message = session.last_error_message[:255]
    if session.amount_refunded > payment.amount_refunded:
        payment.amount_refunded = min(session.amount_refunded, payment.amount)
        return True
    return False


def _path(payment: Payment, session: CheckoutSession, *, refund_grew: bool) -> list[str]:
    """The states the session's truth implies, in order; already-passed ones are skipped."""
    wanted: list[str] = []
    if session.status == "expired" and session.payment_status != "paid":
        wanted = [PaymentStatus.EXPIRED]
    elif session.status == "complete" and session.payment_status == "paid":
        wanted = [PaymentStatus.SUCCEEDED]
        if payment.amount_refunded >= payment.amount:
            wanted.append(PaymentStatus.REFUNDED)
        elif payment.amount_refunded > 0:
            wanted.append(PaymentStatus.PARTIALLY_REFUNDED)
    elif session.status == "complete" and session.payment_intent_status in (
        "requires_payment_method",
        "canceled",
    ):
        wanted = [PaymentStatus.FAILED]
    path: list[str] = []
    current = payment.status
    for status in wanted:
        # A second partial refund moves partially_refunded -> partially_refunded.
        repeat = status == current == PaymentStatus.PARTIALLY_REFUNDED and refund_grew
        if (status != current or repeat) and status in TRANSITIONS.get(current, frozenset()):
            path.append(status)
            current = status
    return path


def _beyond_limit(payment: Payment) -> bool:
    """Lock the link and check this success does not exceed its payment limit."""
    link = PaymentLink.objects.select_for_update().get(pk=payment.link_id)
    if link.payment_limit is None:
        return False
    others = _units_completed(link, exclude=payment)
    if others + payment.quantity <= link.payment_limit:
        return False
    payment.over_limit = True
    what = f"{payment.quantity} units " if payment.quantity != 1 else ""
    _event(
        payment,
        "over_limit",
        f"Paid {what}beyond the link's limit of {link.payment_limit} ({others} already sold): "
        "it will be refunded.",
    )
    return True


def _units_completed(link: PaymentLink, *, exclude: Payment) -> int:
    """Units sold on ``link`` by payments other than ``exclude`` (each payment without a
    quantity is one unit)."""
    found = (
        link.payments.filter(status__in=COMPLETED_STATUSES)
        .exclude(pk=exclude.pk)
        .aggregate(units=Sum("quantity"))
    )
    return int(found["units"] or 0)


def _transition(
    payment: Payment,
    status: str,
    *,
    source: str,
    message: str = "",
    gateway_event_id: str = "",
    actor: Any = None,
) -> None:
    if not payment.can_transition_to(status):
        raise ValueError(f"{payment.public_id}: {payment.status} -> {status} is not allowed")
    previous = payment.status
    _log_on_commit(
        payment,
        "Payment %s: %s -> %s (%s)",
        payment.public_id,
        previous,
        status,
        source,
        event="payment.status_changed",
        from_status=previous,
        to_status=status,
        gateway=payment.gateway,
    )
    payment.status = status
    if status == PaymentStatus.SUCCEEDED:
        payment.completed_at = payment.completed_at or timezone.now()
        payment.failure_code = payment.failure_message = ""
        ga4.payment_paid(payment)
    PaymentEvent.objects.create(
        payment=payment,
        kind="status_changed",
        from_status=previous,
        to_status=status,
        message=message,
        source=source,
        gateway_event_id=gateway_event_id,
        actor=actor,
        data={"amount_refunded": payment.amount_refunded},
    )
    # The outbox: the event (and its e-mails) commit or roll back with this transition.
    link = payment.link
    outbox.payment_event(payment, link)
    if (
        status == PaymentStatus.SUCCEEDED
        and link.payment_limit is not None
        and not (payment.over_limit)
    ):
        others = _units_completed(link, exclude=payment)
        completed = others + payment.quantity
        if others < link.payment_limit <= completed:
            outbox.link_event(link, EventType.LINK_SOLD_OUT, completed=completed)


def _log_on_commit(
    payment: Payment, message: str, *args: object, level: int = logging.INFO, **fields: object
) -> None:
    """One log line about ``payment``, written once its transaction commits (a rolled-back
    change is not logged as if it happened). Ids and codes only: no customer details."""
    extra = {
        "payment_id": payment.public_id,
        "link_id": payment.link_id,
        "merchant_id": payment.merchant_id,
        **fields,
    }
    transaction.on_commit(lambda: logger.log(level, message, *args, extra=extra))


def _event(payment: Payment, kind: str, message: str, **data: Any) -> None:
    PaymentEvent.objects.create(
        payment=payment, kind=kind, message=message[:255], source=Source.SYSTEM, data=data
    )


def _message_for(status: str, payment: Payment) -> str:
    method = payment_method_label(
        payment.payment_method_type, payment.card_brand, payment.card_last4
    )
    messages: dict[str, str] = {
        PaymentStatus.SUCCEEDED: f"Paid {payment.amount_display}"
        + (f" with {method}" if method else ""),
        PaymentStatus.FAILED: payment.failure_message or "The payment failed.",
        PaymentStatus.EXPIRED: "The checkout session expired before payment.",
        PaymentStatus.CANCELED: "The customer canceled the checkout.",
        PaymentStatus.REFUNDED: f"Refunded in full ({payment.amount_display})",
        PaymentStatus.PARTIALLY_REFUNDED: (
            f"Refunded {money.format_money(payment.amount_refunded, payment.currency)} "
            f"of {payment.amount_display}"
        ),
    }
    return messages.get(status, "")


def payment_attempt_failed(
    *, payment: Payment, intent_id: str = "", gateway_event_id: str = ""
) -> str:
    """A gateway says an attempt to pay failed (a declined card, a failed 3-D Secure step):
    ask the gateway about the session and record the failure *it* reports.

    The event only finds the payment. Its body -- decline code, message -- is never
    written anywhere: a forged or edited event can at most make Paylinks ask the gateway
    again. ``intent_id`` is the payment intent the event names; an event about an intent
    that is not the session's records nothing. Returns what happened, for the inbox.
    """
    if not payment.gateway_session_id:
        return "ignored: no checkout session"
    session = get_gateway(payment.gateway).retrieve_checkout_session(payment.gateway_session_id)
    if intent_id and intent_id != session.payment_intent_id:
        return f"ignored: {intent_id} is not the payment intent of {payment.public_id}"
    synced = payment_sync(payment=payment, session=session, gateway_event_id=gateway_event_id)
    if not session.failure_reason:
        return f"processed: the gateway reports no failed attempt on {synced.public_id}"
    record_failed_attempt(payment=synced, session=session, gateway_event_id=gateway_event_id)
    return f"processed: attempt on {synced.public_id} failed ({session.failure_reason})"


def record_failed_attempt(
    *, payment: Payment, session: CheckoutSession, gateway_event_id: str
) -> None:
    """Put a declined attempt, as the gateway reported it in ``session``, on the timeline.

    The session stays open for another try, so the payment stays pending. One timeline
    entry per failed attempt (the gateway's id for it), however many events mention it
    and however often they are processed."""
    code, message = session.failure_reason[:60], session.last_error_message[:255]
    attempt = session.last_error_attempt
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != PaymentStatus.PENDING:
            return
        recorded = locked.events.filter(kind="attempt_failed")
        if attempt and recorded.filter(data__attempt=attempt).exists():
            return
        if gateway_event_id and recorded.filter(gateway_event_id=gateway_event_id).exists():
            return
        locked.failure_code = code
        locked.failure_message = message
        locked.save(update_fields=["failure_code", "failure_message", "updated_at"])
        event = PaymentEvent.objects.create(
            payment=locked,
            kind="attempt_failed",
            message=message or code,
            source=Source.GATEWAY,
            gateway_event_id=gateway_event_id,
            data={"code": code, "attempt": attempt},
        )
        rollups.attempt_failed(event, locked)
        _log_on_commit(
            locked,
            "Payment %s: attempt failed (%s)",
            locked.public_id,
            code,
            level=logging.WARNING,
            event="payment.attempt_failed",
            code=code,
            gateway=locked.gateway,
        )
