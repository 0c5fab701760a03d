"""The payment gateway port: the few things Paylinks asks of any gateway.

A gateway creates a hosted checkout session for a payment, tells the truth about a
session when asked again, expires a session, refunds, and verifies the webhooks it sends.
Adapters translate their provider's objects into the small dataclasses below, so the
rest of Paylinks never sees a provider's SDK object.

Creating a checkout session never moves money (the customer does that on the hosted
page); everything that changes a payment's state comes back through a webhook or a
re-retrieval, and is applied by ``paylinks.services.payments``.
"""

from __future__ import annotations

import abc
import functools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import stripe

from paylinks import metrics

#: The refund reasons Stripe's API accepts (``Refund.reason``). Both adapters speak
#: Stripe's language; Paylinks' own reasons (over limit, other) are not among them.
STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


class GatewayError(Exception):
    """The gateway refused or could not be reached.

    ``permanent`` says whether retrying the same request can help: a declined parameter
    is permanent, a timeout or a 5xx is not.
    """

    def __init__(self, message: str, *, permanent: bool, code: str = "") -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class SignatureError(Exception):
    """A webhook whose signature, timestamp or body cannot be trusted."""


# --- the deadline -----------------------------------------------------------------------
#: When (``time.monotonic()``) the gateway calls of the current web request must be done,
#: or None outside one (the worker, commands): then only the adapter's own timeouts apply.
_deadline: ContextVar[float | None] = ContextVar("paylinks_gateway_deadline", default=None)

#: The least time worth starting (or retrying) a gateway request with.
MIN_ATTEMPT_SECONDS = 0.5


@contextmanager
def gateway_deadline(seconds: float) -> Iterator[None]:
    """Every gateway call made inside shares one budget of ``seconds``, retries included.

    A web request runs inside one (``paylinks.middleware.GatewayDeadlineMiddleware``), so a
    gateway that accepts the connection and never answers cannot hold the request past the
    web server's worker timeout. A nested deadline never extends the outer one.
    """
    end = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(end if outer is None else min(end, outer))
    try:
        yield
    finally:
        _deadline.reset(token)


def deadline_remaining() -> float | None:
    """Seconds left for gateway calls in this context (never negative), or None: no deadline."""
    end = _deadline.get()
    return None if end is None else max(0.0, end - time.monotonic())


def deadline_exceeded(name: str) -> GatewayError:
    return GatewayError(
        f"{name} did not answer within the request's deadline", permanent=False, code="deadline"
    )


@dataclass(frozen=True)
class CheckoutRequest:
    """Everything a gateway needs to open a hosted checkout for one payment."""

    payment_public_id: str
    link_slug: str
    merchant_id: int
    merchant_name: str
    title: str
    description: str
    amount: int
    currency: str
    success_url: str
    cancel_url: str
    expires_at: datetime
    idempotency_key: str
    customer_email: str = ""
    collect_name: bool = False
    collect_phone: bool = False
    collect_billing_address: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    #: ``amount`` is ``unit_amount`` x ``quantity`` (Paylinks computed it); a request made
    #: without them is one unit of ``amount``.
    unit_amount: int | None = None
    quantity: int = 1
    #: (minimum, maximum) when the customer may change the quantity on the gateway's page.
    adjustable_quantity: tuple[int, int] | None = None
    #: The link's product image, absolute (``PaymentLink.image_url``), or "".
    image_url: str = ""

    @property
    def unit_price(self) -> int:
        return self.unit_amount if self.unit_amount is not None else self.amount

    @property
    def reference_metadata(self) -> dict[str, str]:
        """Metadata that points back from the gateway's objects to Paylinks' rows."""
        return {
            **self.metadata,
            "paylinks_payment": self.payment_public_id,
            "paylinks_link": self.link_slug,
            "paylinks_merchant": str(self.merchant_id),
        }


@dataclass(frozen=True)
class PaymentMethodInfo:
    type: str
    brand: str = ""
    last4: str = ""


@dataclass(frozen=True)
class CheckoutSession:
    """A checkout session as the gateway reports it right now."""

    id: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: int | None
    currency: str
    url: str | None = None
    client_reference_id: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    payment_intent_id: str = ""
    payment_intent_status: str = (
        ""  # succeeded | processing | requires_payment_method | canceled ...
    )
    payment_method: PaymentMethodInfo | None = None
    amount_refunded: int = 0
    customer_email: str = ""
    customer_name: str = ""
    customer_phone: str = ""
    billing_address: dict[str, Any] | None = None
    #: The latest failed attempt on the session's payment intent, as the gateway recorded
    #: it: Stripe's ``last_payment_error`` ``code`` (card_declined, ...), its
    #: ``decline_code`` (insufficient_funds, ...), ``message`` and the attempt (charge)
    #: it was about. Empty once an attempt
    #: succeeds. What Paylinks records about a decline comes from here, never from an
    #: event's body.
    last_error_code: str = ""
    last_error_message: str = ""
    last_error_decline_code: str = ""
    #: The gateway's id for that failed attempt (its charge), when it has one.
    last_error_attempt: str = ""
    expires_at: datetime | None = None
    #: The quantity of the session's one line item, when the gateway reports it (the
    #: customer may have changed it on the gateway's page); ``amount_total`` is for it.
    quantity: int | None = None

    @property
    def failure_reason(self) -> str:
        """The most specific code the gateway gave for the last failed attempt."""
        return self.last_error_decline_code or self.last_error_code


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    status: str  # pending | succeeded | failed | canceled


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook event, in Stripe's event shape."""

    id: str
    type: str
    created: int
    data_object: dict[str, Any]
    payload: dict[str, Any]

    @property
    def object_id(self) -> str:
        return str(self.data_object.get("id", ""))


WEBHOOK_TOLERANCE_SECONDS = 300


def verify_stripe_signature(payload: bytes, header: str, secret: str) -> WebhookEvent:
    """Verify a ``Stripe-Signature`` header over the raw body and parse the event.

    Both adapters speak this scheme: the sandbox signs its events exactly like Stripe.
    """
    if not header:
        raise SignatureError("Missing Stripe-Signature header")
    if not secret:
        raise SignatureError("No webhook secret is configured")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, header, secret, WEBHOOK_TOLERANCE_SECONDS)
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError, stripe.SignatureVerificationError) as exc:
        raise SignatureError(str(exc) or exc.__class__.__name__) from None
    if not isinstance(data, dict) or data.get("object") != "event":
        raise SignatureError("The body is not a Stripe event")
    obj = (data.get("data") or {}).get("object")
    if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
        raise SignatureError("The event has no id or type")
    if not isinstance(obj, dict):
        raise SignatureError("The event has no data.object")
    return WebhookEvent(
        id=data["id"],
        type=data["type"],
        created=int(data.get("created") or 0),
        data_object=obj,
        payload=data,
    )


#: The gateway calls that are timed and counted (``paylinks_gateway_*`` metrics).
INSTRUMENTED_OPERATIONS = (
    "create_checkout_session",
    "retrieve_checkout_session",
    "expire_checkout_session",
    "refund",
)


#: Set while a timed call runs: an adapter's subclass calling ``super()`` counts once.
_timing: ContextVar[bool] = ContextVar("paylinks_gateway_timing", default=False)


def _instrumented(operation: str, call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def timed(self: Gateway, *args: Any, **kwargs: Any) -> Any:
        if _timing.get():
            return call(self, *args, **kwargs)
        started = time.perf_counter()
        token = _timing.set(True)
        try:
            return call(self, *args, **kwargs)
        except GatewayError as exc:
            kind = "permanent" if exc.permanent else "transient"
            metrics.gateway_errors.labels(self.name, operation, kind).inc()
            raise
        except Exception:
            metrics.gateway_errors.labels(self.name, operation, "unexpected").inc()
            raise
        finally:
            _timing.reset(token)
            elapsed = time.perf_counter() - started
            metrics.gateway_call_seconds.labels(self.name, operation).observe(elapsed)

    return timed


class Gateway(abc.ABC):
    """One configured payment provider. Instances hold their own credentials.

    Every adapter's calls in ``INSTRUMENTED_OPERATIONS`` are timed and their failures
    counted, whatever the adapter (``__init_subclass__``).
    """

    name: str = ""
    #: Whether sessions are created against a test environment (shown in the console).
    test_mode: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for operation in INSTRUMENTED_OPERATIONS:
            call = cls.__dict__.get(operation)
            if call is not None and not getattr(call, "__isabstractmethod__", False):
                setattr(cls, operation, _instrumented(operation, call))

    @abc.abstractmethod
    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        """Open a hosted checkout; the same ``idempotency_key`` never opens two."""

    @abc.abstractmethod
    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        """The session's current truth, with its payment intent and payment method."""

    @abc.abstractmethod
    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        """Close an open session so nobody can pay it any more."""

    @abc.abstractmethod
    def refund(
        self, *, payment_intent_id: str, amount: int, reason: str, idempotency_key: str
    ) -> Refund:
        """Refund ``amount`` minor units of a succeeded payment."""

    @abc.abstractmethod
    def parse_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        """Verify and parse a webhook body, or raise SignatureError."""

    def housekeeping(self) -> dict[str, int]:
        """Periodic work the gateway itself needs (the sandbox runs its own clock here)."""
        return {}
