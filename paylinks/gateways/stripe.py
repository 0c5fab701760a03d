"""The Stripe adapter: Checkout Sessions through the official SDK.

One ``stripe.StripeClient`` per adapter instance, built from settings (never the SDK's
module-global ``stripe.api_key``). Every request is built from the SDK's typed params, so
mypy checks the adapter against the SDK's contract; the tests run it over real HTTP
against a local stand-in for Stripe that validates each request against Stripe's OpenAPI
spec (``tests/gateways/fake_stripe.py``).

API version: the client pins ``STRIPE_API_VERSION``, the version this SDK release was
generated for (its typed params and response classes describe that version). Pinning it
here, rather than following the account's default, means a Stripe dashboard upgrade
cannot change what this code receives, and an SDK upgrade is a deliberate change (a test
fails until this constant is bumped with it). Webhook payloads follow the version of the
webhook endpoint, not this one; Paylinks re-retrieves the session instead of trusting them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from stripe.checkout import Session
from stripe.params import RefundCreateParams
from stripe.params.checkout import (
    SessionCreateParams,
    SessionCreateParamsLineItem,
    SessionCreateParamsLineItemPriceDataProductData,
    SessionExpireParams,
    SessionRetrieveParams,
)

from .base import (
    MIN_ATTEMPT_SECONDS,
    STRIPE_REFUND_REASONS,
    CheckoutRequest,
    CheckoutSession,
    Gateway,
    GatewayError,
    PaymentMethodInfo,
    Refund,
    WebhookEvent,
    deadline_exceeded,
    deadline_remaining,
    verify_stripe_signature,
)

#: The Stripe API version this adapter speaks: the one stripe==16.1.0 is generated for.
STRIPE_API_VERSION: Final = "2026-10-28.endive"

#: Stripe accepts ``expires_at`` from 30 minutes to 24 hours after the session's creation.
SESSION_MIN_LIFETIME: Final = timedelta(minutes=30)
SESSION_MAX_LIFETIME: Final = timedelta(hours=24)
#: Head-room for request latency and clock skew between us and Stripe.
EXPIRY_MARGIN: Final = timedelta(seconds=60)
#: How far below Stripe's minimum a requested expiry may be and still be lifted to it.
#: A checkout TTL of exactly 30 minutes computed a moment before the call lands here; an
#: expiry further away than this (a link that closes in ten minutes) is refused instead,
#: because lifting it would keep the session open well past what the caller allowed.
EXPIRY_LIFT_GRACE: Final = timedelta(minutes=5)

#: What retrieve (and expire) expand: the intent, its latest charge (the method's details
#: and the amount refunded), its PaymentMethod (the method before any charge exists), and
#: the line items (the quantity, which the customer may have changed on Stripe's page).
SESSION_EXPAND: Final = (
    "line_items",
    "payment_intent",
    "payment_intent.latest_charge",
    "payment_intent.payment_method",
)


class DeadlineRequestsClient(stripe.RequestsClient):
    """The SDK's ``requests`` client, kept inside the request's deadline (``gateway_deadline``).

    Each attempt's connect and read timeouts are the configured timeout or the time left,
    whichever is shorter; a retry is made only when the back-off sleep still leaves time
    for an attempt, and the sleep is cut to fit. With no deadline (the worker) it behaves
    exactly like ``stripe.RequestsClient``.
    """

    def __init__(self, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._configured_timeout = timeout

    def request(  # type: ignore[override]  # RequestsClient's own signature
        self, method: str, url: str, headers: Any, post_data: Any = None
    ) -> tuple[bytes, int, Any]:
        left = deadline_remaining()
        if left is not None and left < MIN_ATTEMPT_SECONDS:
            # No time for another attempt: an error the SDK does not retry.
            raise stripe.APIConnectionError(
                "The request's deadline has passed.", should_retry=False
            )
        # The thread's own value: the SDK reads it in _request_internal, on this thread.
        self._thread_local.timeout = (
            self._configured_timeout if left is None else min(self._configured_timeout, left)
        )
        return super().request(method, url, headers, post_data)

    @property
    def _timeout(self) -> float:
        return getattr(self._thread_local, "timeout", None) or self._configured_timeout

    @_timeout.setter
    def _timeout(self, value: float) -> None:
        """RequestsClient.__init__ sets it; the configured value is kept separately."""

    def _should_retry(
        self,
        response: Any,
        api_connection_error: Any,
        num_retries: int,
        max_network_retries: int | None,
    ) -> bool:
        left = deadline_remaining()
        if left is not None and left < self.INITIAL_DELAY + MIN_ATTEMPT_SECONDS:
            return False
        return bool(
            super()._should_retry(response, api_connection_error, num_retries, max_network_retries)
        )

    def _sleep_time_seconds(self, num_retries: int) -> float:
        sleep = super()._sleep_time_seconds(num_retries)
        left = deadline_remaining()
        return sleep if left is None else max(0.0, min(sleep, left - MIN_ATTEMPT_SECONDS))


_KEY_PATTERN = re.compile(r"\b(sk|rk|pk)_(test|live)_[0-9A-Za-z]+")
# Stripe echoes a parameter it refuses ("Invalid email address: ..."), and an error's text
# ends up in the payment's failure message, its timeline and the log, all in clear.
_EMAIL_PATTERN = re.compile(r"[^\s@'\"<>(),;:]+@[^\s@'\"<>(),;:]+")
_T = TypeVar("_T")


class StripeGateway(Gateway):
    name = "stripe"

    def __init__(self) -> None:
        api_key: str = settings.STRIPE_SECRET_KEY or ""
        if not api_key:
            raise GatewayError("STRIPE_SECRET_KEY is not configured", permanent=True)
        self._api_key = api_key
        self._webhook_secret: str = settings.STRIPE_WEBHOOK_SECRET or ""
        self.test_mode = api_key.startswith(("sk_test_", "rk_test_"))
        base = (settings.STRIPE_API_BASE or "").rstrip("/")
        self._client = stripe.StripeClient(
            api_key,
            stripe_version=STRIPE_API_VERSION,
            base_addresses={"api": base} if base else None,
            # A bounded timeout per connect/read, and a bounded number of retries: the SDK
            # retries connection errors, timeouts, 409s and 5xx with the same
            # Idempotency-Key, backing off between 0.5 and 5 seconds.
            # Inside a web request all of it -- attempts and back-off -- stays within the
            # request's gateway deadline (PAYLINKS_GATEWAY_DEADLINE_SECONDS).
            http_client=DeadlineRequestsClient(timeout=float(settings.STRIPE_TIMEOUT_SECONDS)),
            max_network_retries=int(settings.STRIPE_MAX_NETWORK_RETRIES),
        )

    # --- the port --------------------------------------------------------------------
    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        params = self._session_params(request)
        session = self._call(
            lambda: self._client.v1.checkout.sessions.create(
                params, {"idempotency_key": request.idempotency_key}
            )
        )
        return self._view(session)

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        params: SessionRetrieveParams = {"expand": list(SESSION_EXPAND)}
        session = self._call(lambda: self._client.v1.checkout.sessions.retrieve(session_id, params))
        return self._view(session)

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        params: SessionExpireParams = {"expand": list(SESSION_EXPAND)}
        session = self._call(lambda: self._client.v1.checkout.sessions.expire(session_id, params))
        return self._view(session)

    def refund(
        self, *, payment_intent_id: str, amount: int, reason: str, idempotency_key: str
    ) -> Refund:
        params: RefundCreateParams = {"payment_intent": payment_intent_id, "amount": amount}
        if reason in STRIPE_REFUND_REASONS:
            params["reason"] = reason
        elif reason:  # Paylinks' own reasons (over_limit, other) ride in the metadata
            params["metadata"] = {"paylinks_reason": reason[:500]}
        created = self._call(
            lambda: self._client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
        )
        return Refund(id=created.id, amount=created.amount, status=created.status or "pending")

    def parse_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        return verify_stripe_signature(payload, signature_header, self._webhook_secret)

    # --- requests --------------------------------------------------------------------
    @staticmethod
    def _session_params(request: CheckoutRequest) -> SessionCreateParams:
        product: SessionCreateParamsLineItemPriceDataProductData = {"name": request.title}
        if request.description:
            product["description"] = request.description
        if is_public_url(request.image_url):
            # Stripe fetches the image itself: an address only this network reaches
            # (development, a private host) would only make its page show a broken image.
            product["images"] = [request.image_url]
        metadata = request.reference_metadata
        item: SessionCreateParamsLineItem = {
            "price_data": {
                "currency": request.currency.lower(),
                # Minor units, already valid for the currency (paylinks.money); Stripe
                # charges unit_amount x quantity, the total Paylinks computed.
                "unit_amount": request.unit_price,
                "product_data": product,
            },
            "quantity": request.quantity,
        }
        if request.adjustable_quantity is not None:
            low, high = request.adjustable_quantity
            item["adjustable_quantity"] = {"enabled": True, "minimum": low, "maximum": high}
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [item],
            "client_reference_id": request.payment_public_id,
            "metadata": dict(metadata),
            # The same metadata on the PaymentIntent, so intent and charge events (and the
            # Stripe dashboard) lead back to the payment too.
            "payment_intent_data": {"metadata": dict(metadata)},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": stripe_expires_at(request.expires_at),
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        if request.collect_name:
            # Checkout's own name field (newer than the 2023 spec; part of the SDK's typed
            # params). The name lands in customer_details.individual_name.
            params["name_collection"] = {"individual": {"enabled": True, "optional": False}}
        if request.collect_phone:
            params["phone_number_collection"] = {"enabled": True}
        if request.collect_billing_address:
            params["billing_address_collection"] = "required"
        return params

    def _call(self, send: Callable[[], _T]) -> _T:
        left = deadline_remaining()
        if left is not None and left < MIN_ATTEMPT_SECONDS:
            raise deadline_exceeded("Stripe")
        try:
            return send()
        except stripe.APIConnectionError as exc:
            left = deadline_remaining()
            if left is not None and left < MIN_ATTEMPT_SECONDS:
                raise deadline_exceeded("Stripe") from None
            raise self._gateway_error(exc) from None
        except stripe.StripeError as exc:
            raise self._gateway_error(exc) from None

    def _gateway_error(self, exc: stripe.StripeError) -> GatewayError:
        """Map an SDK error to ``GatewayError``, saying whether a retry can help.

        The SDK error is not chained: its body and headers could echo a credential, and
        the message below carries everything needed (type, status, code, request id).
        """
        if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
            permanent = False
        elif isinstance(
            exc,
            stripe.InvalidRequestError
            | stripe.AuthenticationError
            | stripe.PermissionError
            | stripe.CardError
            | stripe.IdempotencyError,
        ):
            permanent = True
        else:
            # APIError and anything newer: a 4xx will not change on retry; a 5xx or no
            # answer at all might.
            permanent = exc.http_status is not None and 400 <= exc.http_status < 500
        status = f" (HTTP {exc.http_status})" if exc.http_status else ""
        message = f"Stripe {type(exc).__name__}{status}: {exc}"
        return GatewayError(
            self._redact(message),
            permanent=permanent,
            code=str(exc.code or (exc.error and exc.error.code) or _snake(type(exc).__name__)),
        )

    def _redact(self, text: str) -> str:
        text = _EMAIL_PATTERN.sub("[e-mail address]", text)
        return _KEY_PATTERN.sub(r"\1_\2_***", text).replace(self._api_key, "***")

    # --- responses -------------------------------------------------------------------
    @staticmethod
    def _view(session: Session) -> CheckoutSession:
        intent = (
            session.payment_intent
            if isinstance(session.payment_intent, stripe.PaymentIntent)
            else None
        )
        intent_id = session.payment_intent if isinstance(session.payment_intent, str) else ""
        charge = (
            intent.latest_charge
            if intent is not None and isinstance(intent.latest_charge, stripe.Charge)
            else None
        )
        error = intent.last_payment_error if intent is not None else None
        details = session.customer_details
        return CheckoutSession(
            id=session.id,
            status=session.status or "",
            payment_status=session.payment_status,
            amount_total=session.amount_total,
            currency=(session.currency or "").upper(),
            url=session.url,
            client_reference_id=session.client_reference_id or "",
            metadata=_strings(session.metadata.to_dict() if session.metadata else {}),
            payment_intent_id=intent.id if intent is not None else intent_id,
            payment_intent_status=intent.status if intent is not None else "",
            payment_method=_payment_method(intent, charge),
            amount_refunded=charge.amount_refunded if charge is not None else 0,
            customer_email=(details.email if details else None) or session.customer_email or "",
            customer_name=_customer_name(details),
            customer_phone=(details.phone if details else None) or "",
            billing_address=_address(details.address if details else None),
            last_error_code=(error.code or error.decline_code or "") if error else "",
            last_error_message=(error.message or "") if error else "",
            # Optional keys: absent from the error when they do not apply (a StripeObject
            # then raises AttributeError on access).
            last_error_decline_code=str(getattr(error, "decline_code", None) or ""),
            # The charge the failed attempt made; none for a failed 3-D Secure step.
            last_error_attempt=str(getattr(error, "charge", None) or ""),
            expires_at=datetime.fromtimestamp(session.expires_at, tz=UTC),
            quantity=_quantity(session),
        )


def stripe_expires_at(requested: datetime, *, now: datetime | None = None) -> int:
    """The ``expires_at`` to send for a requested expiry, inside Stripe's window.

    The caller asks for 30 min .. 24 h and never later than the link's own expiry. Stripe
    measures its window from the moment it creates the session, so:

    - later than 24 h: lowered to just under 24 h (earlier is always safe);
    - a little short of 30 min (up to ``EXPIRY_LIFT_GRACE``, e.g. a 30-minute TTL computed
      a moment ago): lifted to 30 min plus a margin, so Stripe does not refuse it;
    - further short than that: refused as a permanent error rather than silently keeping
      a session open past what the caller allowed (such as a link's expiry).

    An expiry inside the window is sent unchanged, so a retried create with the same
    Idempotency-Key sends the same body. Adjusted values are rounded to the minute so a
    retry within the same minute does too.
    """
    now = now or datetime.now(UTC)
    if requested.tzinfo is None:
        requested = requested.replace(tzinfo=UTC)
    floor = now + SESSION_MIN_LIFETIME + EXPIRY_MARGIN
    ceiling = now + SESSION_MAX_LIFETIME - EXPIRY_MARGIN
    if requested > ceiling:
        return _minute(ceiling, up=False)
    if requested >= floor:
        return int(requested.timestamp())
    if requested >= floor - EXPIRY_LIFT_GRACE:
        return _minute(floor, up=True)
    minutes = int((requested - now).total_seconds() // 60)
    raise GatewayError(
        f"A Stripe checkout must stay open at least 30 minutes; this one would close in "
        f"{minutes} minute(s).",
        permanent=True,
        code="expires_at_too_soon",
    )


def is_public_url(url: str) -> bool:
    """Whether anyone on the internet could fetch ``url``: https, and a host that is not
    localhost, a single-label or reserved local name, or a non-global IP address. (By the
    address alone: no DNS lookup on the way to a payment.)"""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        return False
    if parts.scheme != "https" or not host:
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    if "." not in host or host == "localhost":
        return False
    return not host.endswith(LOCAL_SUFFIXES)


#: Names that never resolve on the public internet (RFC 6761, RFC 6762, RFC 8375...).
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test", ".invalid")


def _minute(moment: datetime, *, up: bool) -> int:
    seconds = int(moment.timestamp())
    rounded = seconds - seconds % 60
    return rounded + 60 if up and rounded < moment.timestamp() else rounded


def _payment_method(
    intent: stripe.PaymentIntent | None, charge: stripe.Charge | None
) -> PaymentMethodInfo | None:
    """The method as Stripe recorded it: the charge's details first, else the PaymentMethod."""
    details = charge.payment_method_details if charge is not None else None
    if details is not None:
        if details.type == "card" and details.card is not None:
            return PaymentMethodInfo("card", details.card.brand or "", details.card.last4 or "")
        if details.type == "sepa_debit" and details.sepa_debit is not None:
            return PaymentMethodInfo("sepa_debit", last4=details.sepa_debit.last4 or "")
        return PaymentMethodInfo(details.type)
    method = intent.payment_method if intent is not None else None
    if isinstance(method, stripe.PaymentMethod):
        if method.type == "card" and method.card is not None:
            return PaymentMethodInfo("card", method.card.brand, method.card.last4)
        if method.type == "sepa_debit" and method.sepa_debit is not None:
            return PaymentMethodInfo("sepa_debit", last4=method.sepa_debit.last4 or "")
        return PaymentMethodInfo(method.type)
    return None


def _quantity(session: Session) -> int | None:
    """The quantity of the session's one line item, when ``line_items`` was expanded."""
    items = getattr(session, "line_items", None)
    data = getattr(items, "data", None) if items is not None else None
    if not data:
        return None
    quantity = getattr(data[0], "quantity", None)
    return int(quantity) if quantity else None


def _customer_name(details: Session.CustomerDetails | None) -> str:
    if details is None:
        return ""
    # individual_name is what name_collection collects; ``name`` is the card holder's or
    # billing name. Older API versions (and the 2023 fixtures) have no individual_name.
    individual: str | None = getattr(details, "individual_name", None)
    return individual or details.name or ""


def _address(address: Session.CustomerDetails.Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    values = {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
    }
    return values if any(values.values()) else None


def _strings(values: dict[str, Any]) -> dict[str, str]:
    return {str(key): str(value) for key, value in values.items()}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
