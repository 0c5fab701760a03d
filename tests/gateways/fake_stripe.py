"""A local stand-in for the Stripe API, for contract tests of the Stripe adapter.

A real HTTP server (``ThreadingHTTPServer`` on 127.0.0.1) that the official SDK talks to
through ``STRIPE_API_BASE``. It implements only what Paylinks uses:

- ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}``,
  ``POST /v1/checkout/sessions/{id}/expire``, ``POST /v1/refunds``,
  ``GET /v1/payment_intents/{id}``;
- form bodies (and query strings) parsed like Stripe parses them (``a[b][0][c]=v``),
  coerced per the schema (form values are strings) and **validated against the
  operation's schema in Stripe's OpenAPI spec** (``spec3.json``). A request that fails is
  answered with Stripe's 400 error shape *and* recorded in ``violations``; the test
  fixture fails the test when any violation is left over;
- ``Authorization: Bearer sk_test_...`` checked; ``Idempotency-Key`` recorded and honoured
  (same key + same parameters replays the first answer, different parameters -> 400
  ``idempotency_error``), like Stripe;
- answers built from the sample objects in ``fixtures3.json`` with the request's values
  filled in, with ``expand`` support;
- helpers that move a session along (paid by card, SEPA processing -> settled / failed,
  another method, a declined attempt, expired) and build + sign webhook events with
  Stripe's ``Stripe-Signature`` scheme;
- faults: the next request(s) answered with an error or late (``fail_next``,
  ``hang_next``), or hang mode (``hang``): every request accepted and never answered;
- optionally (``serve_checkout``) a hosted Checkout page a browser can pay on, which then
  POSTs the signed events to Paylinks' webhook endpoint (``fake_stripe_checkout.py``).

Stricter than the spec in one deliberate way: nested objects that list their
``properties`` but say nothing about ``additionalProperties`` are treated as closed,
because Stripe itself refuses unknown nested parameters ("Received unknown parameter").
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jsonschema

from .fake_stripe_checkout import HostedCheckout, Page

Json = dict[str, Any]

# --- parameters newer than the 2023-08-16 spec ------------------------------------------
#: Parameters the adapter legitimately sends that ``spec3.json`` (API version 2023-08-16)
#: predates. Each is validated against a schema written from the SDK's typed params
#: (stripe/params/...), so an unexpected *shape* still fails; anything not listed here
#: still fails as an unknown parameter. Keep this list short and explain every entry.
NEWER_PARAMETERS: dict[tuple[str, str], dict[str, Json]] = {
    ("post", "/v1/checkout/sessions"): {
        # Checkout's built-in name field (2025). The older way, custom_fields, stores the
        # name in a free-form field instead of customer_details.
        # Typed as stripe.params.checkout.SessionCreateParamsNameCollection.
        "name_collection": {
            "type": "object",
            "properties": {
                part: {
                    "type": "object",
                    "properties": {
                        "enabled": {"type": "boolean"},
                        "optional": {"type": "boolean"},
                    },
                    "required": ["enabled"],
                }
                for part in ("individual", "business")
            },
        },
    },
}

#: Expandable id prefixes -> the store that holds them.
_STORES = {
    "cs_": "sessions",
    "pi_": "intents",
    "ch_": "charges",
    "pm_": "methods",
    "re_": "refunds",
}


class StripeApiError(Exception):
    """An error answer, in Stripe's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers: dict[str, str] = {}
        self.body: Json = {"error": {"type": type, "message": message}}
        if param:
            self.body["error"]["param"] = param
        if code:
            self.body["error"]["code"] = code


# --- the contract: spec + fixtures ------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # the spec's path, e.g. /v1/checkout/sessions/{session}
    schema: Json  # request parameters as one object schema (body or query)
    path_params: dict[str, Json]


class StripeContract:
    """Stripe's OpenAPI spec and sample objects, loaded once per test session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Bytes, not text: Stripe's own files are UTF-8 whatever the machine's locale.
        self.spec: Json = json.loads((folder / "spec3.json").read_bytes())
        self.fixtures: Json = json.loads((folder / "fixtures3.json").read_bytes())["resources"]
        self.version: str = self.spec["info"]["version"]

    def fixture(self, name: str) -> Json:
        return copy.deepcopy(self.fixtures[name])

    @cache  # noqa: B019 (one contract per session; the cache lives as long as it does)
    def operation(self, method: str, template: str) -> Operation:
        op = self.spec["paths"][template][method]
        if method == "get":
            params = [p for p in op.get("parameters", []) if p["in"] == "query"]
            schema: Json = {
                "type": "object",
                "additionalProperties": False,
                "properties": {p["name"]: p["schema"] for p in params},
                "required": [p["name"] for p in params if p.get("required")],
            }
        else:
            content = op.get("requestBody", {}).get("content", {})
            form = content.get("application/x-www-form-urlencoded", {})
            schema = copy.deepcopy(form.get("schema", {"type": "object", "properties": {}}))
        schema = self._strict(self._resolve(schema))
        for name, extra in NEWER_PARAMETERS.get((method, template), {}).items():
            if name in schema.get("properties", {}):
                raise AssertionError(f"{name} is in the spec now: drop it from NEWER_PARAMETERS")
            schema["properties"][name] = self._strict(extra)
        path_params = {
            p["name"]: p["schema"] for p in op.get("parameters", []) if p["in"] == "path"
        }
        return Operation(method, template, schema, path_params)

    def _resolve(self, node: Any, seen: frozenset[str] = frozenset()) -> Any:
        """Inline ``$ref``s (``#/components/...``) so each schema stands alone."""
        if isinstance(node, list):
            return [self._resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:  # a recursive schema: stop here, accept anything below
                return {}
            target: Any = self.spec
            for part in ref.removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return self._resolve(target, seen | {ref})
        return {key: self._resolve(value, seen) for key, value in node.items()}

    def _strict(self, node: Any) -> Any:
        """Close objects that list properties (Stripe refuses unknown nested parameters),
        and honour ``x-stripeBypassValidation`` (an enum Stripe itself does not enforce)."""
        if isinstance(node, list):
            return [self._strict(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: self._strict(value) for key, value in node.items() if key != "properties"}
        if isinstance(node.get("properties"), dict):  # a map of names, not a schema
            out["properties"] = {k: self._strict(v) for k, v in node["properties"].items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        if out.get("x-stripeBypassValidation"):
            out.pop("enum", None)
        return out


# --- Stripe's form encoding -------------------------------------------------------------
_NAME = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def parse_form(text: str) -> Json:
    """Parse ``a[b][0][c]=v`` pairs into nested dicts (lists stay index-keyed dicts until
    the schema says a node is an array). ``a[]=x`` repeated makes a list."""
    root: Json = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError as exc:
        raise StripeApiError(400, f"Invalid request body: {exc}") from None
    for key, value in pairs:
        match = _NAME.match(key)
        if not match:
            raise StripeApiError(400, f"Invalid parameter name: {key}", param=key)
        parts = [match.group(1), *_SEGMENT.findall(match.group(2))]
        append = parts[-1] == ""
        if append:
            parts = parts[:-1]
        if "" in parts:
            raise StripeApiError(400, f"Invalid parameter structure: {key}", param=key)
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise StripeApiError(400, f"Invalid parameter structure: {key}", param=key)
            node = child
        last = parts[-1]
        if append:
            values = node.setdefault(last, [])
            if not isinstance(values, list):
                raise StripeApiError(400, f"Invalid parameter structure: {key}", param=key)
            values.append(value)
        elif last in node:
            raise StripeApiError(400, f"Received duplicate parameter: {key}", param=key)
        else:
            node[last] = value
    return root


def coerce(value: Any, schema: Json) -> Any:
    """Turn form strings into what the schema says they are (integer, boolean, number,
    array); leave anything that does not fit, for validation to report."""
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        for alternative in alternatives:
            candidate = coerce(value, alternative)
            if jsonschema.Draft4Validator(alternative).is_valid(candidate):
                return candidate
        return value
    kind = schema.get("type")
    if kind == "object" and isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            key: coerce(item, props.get(key, extra if isinstance(extra, dict) else {}))
            for key, item in value.items()
        }
    if kind == "array":
        if isinstance(value, dict) and value and all(k.isdigit() for k in value):
            indices = sorted(value, key=int)
            if [int(i) for i in indices] == list(range(len(indices))):
                value = [value[i] for i in indices]
        if isinstance(value, list):
            return [coerce(item, schema.get("items", {})) for item in value]
        return value
    if isinstance(value, str):
        if kind == "integer" and re.fullmatch(r"-?\d+", value):
            return int(value)
        if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?", value):
            return float(value)
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    return value


def stripe_param(path: list[Any]) -> str:
    parts = [str(p) for p in path]
    return parts[0] + "".join(f"[{p}]" for p in parts[1:]) if parts else ""


def validate(operation: Operation, params: Json) -> tuple[Json, StripeApiError | None]:
    """Coerce and validate request parameters; return them and the first error, if any."""
    typed = coerce(params, operation.schema)
    validator = jsonschema.Draft4Validator(operation.schema)
    # The outermost problem first and, like Stripe, an unknown parameter before the rest.
    errors = sorted(
        validator.iter_errors(typed),
        key=lambda e: (len(e.path), e.validator != "additionalProperties", str(list(e.path))),
    )
    if not errors:
        return typed, None
    error = errors[0]
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - known)
        param = stripe_param([*where, unknown[0]]) if unknown else stripe_param(where)
        return typed, StripeApiError(400, f"Received unknown parameter: {param}", param=param)
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        param = stripe_param([*where, *missing[:1]])
        return typed, StripeApiError(
            400, f"Missing required param: {param}.", param=param, code="parameter_missing"
        )
    param = stripe_param(where)
    return typed, StripeApiError(
        400, f"Invalid {param}: {error.message}", param=param, code="parameter_invalid"
    )


# --- webhooks ---------------------------------------------------------------------------
def sign_payload(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header: ``t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- the server -------------------------------------------------------------------------
@dataclass
class RecordedRequest:
    method: str
    path: str
    params: Json  # as parsed (strings), before coercion
    headers: dict[str, str]
    status: int = 0
    typed: Json = field(default_factory=dict)  # coerced per the spec

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class Fault:
    """An answer the server gives instead of the real one (a 500, a hang)."""

    status: int = 500
    times: int = 1
    delay: float = 0.0
    body: Json | None = None
    headers: dict[str, str] = field(default_factory=dict)
    path_prefix: str = "/v1/"


_ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    ("post", re.compile(r"^/v1/checkout/sessions$"), "/v1/checkout/sessions", "create_session"),
    (
        "get",
        re.compile(r"^/v1/checkout/sessions/(?P<session>[^/]+)$"),
        "/v1/checkout/sessions/{session}",
        "retrieve_session",
    ),
    (
        "post",
        re.compile(r"^/v1/checkout/sessions/(?P<session>[^/]+)/expire$"),
        "/v1/checkout/sessions/{session}/expire",
        "expire_session_api",
    ),
    ("post", re.compile(r"^/v1/refunds$"), "/v1/refunds", "create_refund"),
    (
        "get",
        re.compile(r"^/v1/payment_intents/(?P<intent>[^/]+)$"),
        "/v1/payment_intents/{intent}",
        "retrieve_intent",
    ),
]


def _random_id(prefix: str, length: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


class FakeStripe:
    """The server and its state. Start with ``start()``; stop with ``stop()``."""

    def __init__(self, contract: StripeContract, *, api_key: str, webhook_secret: str) -> None:
        self.contract = contract
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self.sessions: dict[str, Json] = {}
        self.intents: dict[str, Json] = {}
        self.charges: dict[str, Json] = {}
        self.methods: dict[str, Json] = {}
        self.refunds: dict[str, Json] = {}
        self.session_line_items: dict[str, list[Json]] = {}
        self._idempotency: dict[str, tuple[tuple[Any, ...], int, Json]] = {}
        self._lock = threading.RLock()
        self._release = threading.Event()
        self._answering = threading.Event()
        self._answering.set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.checkout: HostedCheckout | None = None

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeStripe:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # wake handlers sleeping in a hang fault
        self._answering.set()  # and those held by hang()
        if self.checkout is not None:
            self.checkout.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- test controls ------------------------------------------------------------------
    def serve_checkout(self, webhook_url: str) -> HostedCheckout:
        """From now on sessions' ``url`` is this server's own hosted Checkout page, where a
        browser pays; the events that follow are POSTed, signed, to ``webhook_url``."""
        self.checkout = HostedCheckout(self, webhook_url)
        return self.checkout

    def fail_next(
        self,
        status: int = 500,
        *,
        times: int = 1,
        error: Json | None = None,
        headers: dict[str, str] | None = None,
        path_prefix: str = "/v1/",
    ) -> None:
        body = {"error": error or {"type": "api_error", "message": "Something went wrong."}}
        self.faults.append(Fault(status, times, 0.0, body, headers or {}, path_prefix))

    def hang_next(self, seconds: float, *, times: int = 1) -> None:
        """Accept the next request(s) and answer nothing for ``seconds`` (a timeout)."""
        self.faults.append(Fault(0, times, seconds))

    def hang(self) -> None:
        """Hang mode: accept every connection and read every request from now on, and
        answer nothing until ``answer_again()`` (or ``stop()``): a Stripe that is reachable
        but never responds. Requests are still recorded, so attempts can be counted."""
        self._answering.clear()

    def answer_again(self) -> None:
        """Leave hang mode; requests held until now are answered (late) as usual."""
        self._answering.set()

    def calls(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # -- moving a session along (what a customer and the banks do) -----------------------
    def complete_with_card(
        self,
        session_id: str,
        *,
        brand: str = "visa",
        last4: str = "4242",
        email: str = "jenny@example.com",
        name: str | None = "Jenny Rosen",
        phone: str | None = None,
        address: Json | None = None,
    ) -> Json:
        """The customer paid by card: intent succeeded, charge succeeded, session paid."""
        details = {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034}
        with self._lock:
            session = self.sessions[session_id]
            intent, _ = self._charge(session, "card", details, "succeeded")
            session.update(status="complete", payment_status="paid")
            self._customer(session, email=email, name=name, phone=phone, address=address)
            return copy.deepcopy(intent)

    def change_quantity(self, session_id: str, quantity: int) -> None:
        """The customer changed the quantity on Checkout's page, within the line item's
        ``adjustable_quantity`` (Stripe offers no control without it)."""
        with self._lock:
            session = self.sessions[session_id]
            item = self.session_line_items[session_id][0]
            adjustable = item.get("adjustable_quantity") or {}
            if not adjustable.get("enabled"):
                raise AssertionError("Checkout shows no quantity control for this line item")
            low, high = int(adjustable.get("minimum", 0)), int(adjustable.get("maximum", 99))
            if not low <= quantity <= high:
                raise AssertionError(f"Checkout allows {low}..{high}, not {quantity}")
            item["quantity"] = quantity
            total = int(item["price_data"]["unit_amount"]) * quantity
            session.update(amount_subtotal=total, amount_total=total)

    def _line_items(self, session_id: str) -> Json:
        """A session's ``line_items`` list, as Stripe renders it when expanded."""
        session = self.sessions[session_id]
        data = []
        for position, item in enumerate(self.session_line_items[session_id]):
            price = item["price_data"]
            quantity = int(item.get("quantity", 1))
            amount = int(price["unit_amount"]) * quantity
            data.append(
                {
                    "id": f"li_{session_id[-20:]}{position}",
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": amount,
                    "amount_tax": 0,
                    "amount_total": amount,
                    "currency": session["currency"],
                    "description": price["product_data"]["name"],
                    "price": {
                        "id": f"price_{session_id[-20:]}{position}",
                        "object": "price",
                        "active": False,
                        "currency": session["currency"],
                        "unit_amount": int(price["unit_amount"]),
                        "type": "one_time",
                    },
                    "quantity": quantity,
                }
            )
        return {
            "object": "list",
            "data": data,
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session_id}/line_items",
        }

    def complete_with_sepa(
        self, session_id: str, *, last4: str = "3000", email: str = "jenny@example.com"
    ) -> Json:
        """SEPA Direct Debit submitted: session complete but unpaid, intent processing."""
        details = {"bank_code": "37040044", "country": "DE", "last4": last4, "mandate": None}
        with self._lock:
            session = self.sessions[session_id]
            intent, _ = self._charge(session, "sepa_debit", details, "pending")
            session.update(status="complete", payment_status="unpaid")
            self._customer(session, email=email, name="Jenny Rosen")
            return copy.deepcopy(intent)

    def settle(self, session_id: str, *, succeeded: bool = True) -> Json:
        """A delayed method (SEPA ...) settles or fails."""
        with self._lock:
            session = self.sessions[session_id]
            intent = self.intents[session["payment_intent"]]
            charge = self.charges[intent["latest_charge"]]
            if succeeded:
                charge.update(status="succeeded", paid=True, captured=True)
                charge["amount_captured"] = charge["amount"]
                intent.update(status="succeeded", amount_received=intent["amount"])
                session["payment_status"] = "paid"
            else:
                charge.update(
                    status="failed",
                    failure_code="insufficient_funds",
                    failure_message="The account has insufficient funds.",
                )
                intent.update(
                    status="requires_payment_method",
                    last_payment_error={
                        "type": "invalid_request_error",
                        "code": "payment_intent_payment_attempt_failed",
                        "decline_code": None,
                        "message": "The payment failed: insufficient funds.",
                    },
                )
            return copy.deepcopy(intent)

    def complete_with_method(
        self, session_id: str, method_type: str, *, charged: bool = True, **details: Any
    ) -> Json:
        """Another method (us_bank_account, customer_balance, ...): with a pending charge,
        or (``charged=False``) only a PaymentMethod on a processing intent."""
        with self._lock:
            session = self.sessions[session_id]
            if charged:
                intent, _ = self._charge(session, method_type, details, "pending")
            else:
                intent = self._intent(session)
                intent.update(
                    status="processing", payment_method=self._method(method_type, details)["id"]
                )
            session.update(status="complete", payment_status="unpaid")
            self._customer(session, email="jenny@example.com", name="Jenny Rosen")
            return copy.deepcopy(intent)

    def decline(
        self,
        session_id: str,
        *,
        code: str = "card_declined",
        decline_code: str | None = "insufficient_funds",
        message: str = "Your card has insufficient funds.",
        last4: str = "9995",
    ) -> Json:
        """A card attempt failed; the session stays open for another try."""
        details = {"brand": "visa", "last4": last4, "exp_month": 12, "exp_year": 2034}
        with self._lock:
            session = self.sessions[session_id]
            intent, charge = self._charge(session, "card", details, "failed")
            charge.update(failure_code=decline_code or code, failure_message=message)
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": code,
                    "decline_code": decline_code,
                    "message": message,
                    "charge": charge["id"],
                },
            )
            return copy.deepcopy(intent)

    def expire(self, session_id: str) -> Json:
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="expired", url=None)
            return copy.deepcopy(session)

    # -- webhooks ------------------------------------------------------------------------
    def event(self, event_type: str, data_object: Json) -> Json:
        event = self.contract.fixture("event")
        event.update(
            id=_random_id("evt_1"),
            type=event_type,
            created=int(time.time()),
            api_version=self.contract.version,
            data={"object": copy.deepcopy(data_object)},
            pending_webhooks=1,
            request={"id": None, "idempotency_key": None},
        )
        return event

    def event_for(self, event_type: str, object_id: str) -> Json:
        """An event about the current state of one of the server's objects."""
        with self._lock:
            return self.event(event_type, self._lookup(object_id))

    def signed(
        self, event: Json, *, secret: str | None = None, timestamp: int | None = None
    ) -> tuple[bytes, str]:
        """The body and ``Stripe-Signature`` header Stripe would POST for ``event``."""
        payload = json.dumps(event, indent=2).encode()
        header = sign_payload(payload, secret or self.webhook_secret, timestamp=timestamp)
        return payload, header

    # -- state helpers -------------------------------------------------------------------
    def _lookup(self, object_id: str) -> Json:
        for prefix, store in _STORES.items():
            if object_id.startswith(prefix):
                found = getattr(self, store).get(object_id)
                if found is not None:
                    return copy.deepcopy(found)
        raise StripeApiError(
            404,
            f"No such object: '{object_id}'",
            code="resource_missing",
            param="id",
        )

    def _intent(self, session: Json) -> Json:
        if session.get("payment_intent"):
            return self.intents[session["payment_intent"]]
        intent = self.contract.fixture("payment_intent")
        metadata = (session.get("_payment_intent_data") or {}).get("metadata") or {}
        intent.update(
            id=_random_id("pi_3"),
            amount=session["amount_total"],
            currency=session["currency"],
            created=int(time.time()),
            canceled_at=None,
            metadata=dict(metadata),
            client_secret=None,
            status="requires_payment_method",
            latest_charge=None,
            payment_method=None,
            last_payment_error=None,
            payment_method_types=["card", "sepa_debit"],
        )
        intent["client_secret"] = f"{intent['id']}_secret_{_random_id('', 25)}"
        self.intents[intent["id"]] = intent
        session["payment_intent"] = intent["id"]
        return intent

    def _method(self, method_type: str, details: Json) -> Json:
        method = self.contract.fixture("payment_method")
        method.pop("card", None)
        method.update(
            id=_random_id("pm_1"), type=method_type, created=int(time.time()), metadata={}
        )
        method[method_type] = dict(details)
        if method_type == "card":
            method["card"] = {**self.contract.fixture("payment_method")["card"], **details}
        self.methods[method["id"]] = method
        return method

    def _charge(
        self, session: Json, method_type: str, details: Json, status: str
    ) -> tuple[Json, Json]:
        intent = self._intent(session)
        method = self._method(method_type, details)
        charge = self.contract.fixture("charge")
        succeeded = status == "succeeded"
        card_details = {**self.contract.fixture("charge")["payment_method_details"]["card"]}
        charge.update(
            id=_random_id("ch_3"),
            amount=intent["amount"],
            amount_captured=intent["amount"] if succeeded else 0,
            amount_refunded=0,
            refunded=False,
            captured=succeeded,
            paid=succeeded,
            status=status,
            currency=intent["currency"],
            created=int(time.time()),
            description=None,
            metadata=dict(intent["metadata"]),
            payment_intent=intent["id"],
            payment_method=method["id"],
            payment_method_details={
                "type": method_type,
                method_type: {**card_details, **details} if method_type == "card" else details,
            },
            balance_transaction=None,
        )
        charge["refunds"] = {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/charges/{charge['id']}/refunds",
        }
        self.charges[charge["id"]] = charge
        intent.update(
            latest_charge=charge["id"],
            payment_method=method["id"],
            status="succeeded" if succeeded else "processing",
            amount_received=intent["amount"] if succeeded else 0,
            last_payment_error=None,
        )
        return intent, charge

    def _customer(
        self,
        session: Json,
        *,
        email: str,
        name: str | None,
        phone: str | None = None,
        address: Json | None = None,
    ) -> None:
        details = copy.deepcopy(self.contract.fixtures["checkout.session"]["customer_details"])
        details.update(email=email, name=name, phone=phone, address=address)
        if (session.get("name_collection") or {}).get("individual", {}).get("enabled"):
            # Newer API versions report the name_collection field separately.
            details["individual_name"] = name
        session["customer_details"] = details

    # -- the API -------------------------------------------------------------------------
    def create_session(self, params: Json, path: dict[str, str]) -> Json:
        now = int(time.time())
        items = params.get("line_items") or []
        if params.get("mode") != "payment" or not items:
            raise StripeApiError(400, "This fake supports mode=payment with line_items only.")
        total = 0
        currencies = set()
        for position, item in enumerate(items):
            price = item.get("price_data")
            if not price or "unit_amount" not in price:
                raise StripeApiError(
                    400,
                    "This fake needs price_data with unit_amount.",
                    param=f"line_items[{position}][price_data]",
                )
            total += int(price["unit_amount"]) * int(item.get("quantity", 1))
            currencies.add(price["currency"].lower())
        if len(currencies) != 1:
            raise StripeApiError(400, "All line items must use the same currency.")
        expires_at = params.get("expires_at", now + 86400)
        if expires_at < now + 30 * 60:
            raise StripeApiError(
                400,
                "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                "Session creation.",
                param="expires_at",
            )
        if expires_at > now + 24 * 3600:
            raise StripeApiError(
                400,
                "The `expires_at` timestamp must be less than 24 hours from Checkout "
                "Session creation.",
                param="expires_at",
            )
        for where, metadata in (
            ("metadata", params.get("metadata")),
            (
                "payment_intent_data[metadata]",
                (params.get("payment_intent_data") or {}).get("metadata"),
            ),
        ):
            _check_metadata(where, metadata)
        session = self.contract.fixture("checkout.session")
        session_id = _random_id("cs_test_", 58)
        session.update(
            id=session_id,
            created=now,
            expires_at=expires_at,
            amount_subtotal=total,
            amount_total=total,
            currency=currencies.pop(),
            mode="payment",
            client_reference_id=params.get("client_reference_id"),
            customer_email=params.get("customer_email"),
            customer_details=None,
            metadata=dict(params.get("metadata") or {}),
            success_url=params.get("success_url"),
            cancel_url=params.get("cancel_url"),
            billing_address_collection=params.get("billing_address_collection"),
            phone_number_collection={
                "enabled": bool((params.get("phone_number_collection") or {}).get("enabled"))
            },
            payment_intent=None,  # created when the customer confirms (API >= 2022-08-01)
            payment_method_types=["card", "sepa_debit"],
            status="open",
            payment_status="unpaid",
            url=(
                self.checkout.url_for(session_id)
                if self.checkout is not None
                else f"https://checkout.stripe.com/c/pay/{session_id}"
            ),
        )
        if "name_collection" in params:
            session["name_collection"] = {
                part: {
                    "enabled": bool(choice.get("enabled")),
                    "optional": bool(choice.get("optional", False)),
                }
                for part, choice in params["name_collection"].items()
            }
        session["_payment_intent_data"] = params.get("payment_intent_data") or {}
        self.sessions[session_id] = session
        self.session_line_items[session_id] = items
        return self._render(session, params.get("expand"))

    def retrieve_session(self, params: Json, path: dict[str, str]) -> Json:
        session = self._get("sessions", path["session"])
        return self._render(session, params.get("expand"))

    def expire_session_api(self, params: Json, path: dict[str, str]) -> Json:
        session = self._get("sessions", path["session"])
        if session["status"] != "open":
            raise StripeApiError(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{session["status"]}".',
            )
        session.update(status="expired", url=None)
        return self._render(session, params.get("expand"))

    def retrieve_intent(self, params: Json, path: dict[str, str]) -> Json:
        return self._render(self._get("intents", path["intent"]), params.get("expand"))

    def create_refund(self, params: Json, path: dict[str, str]) -> Json:
        intent_id = params.get("payment_intent")
        if not intent_id:
            raise StripeApiError(400, "This fake refunds by payment_intent only.")
        intent = self._get("intents", intent_id)
        charge = self.charges.get(intent.get("latest_charge") or "")
        if charge is None or charge["status"] != "succeeded":
            raise StripeApiError(
                400,
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = params.get("amount", remaining)
        if amount <= 0 or remaining <= 0:
            raise StripeApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > remaining:
            raise StripeApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                param="amount",
            )
        _check_metadata("metadata", params.get("metadata"))
        refund = self.contract.fixture("refund")
        refund.update(
            id=_random_id("re_3"),
            amount=amount,
            charge=charge["id"],
            payment_intent=intent_id,
            currency=charge["currency"],
            created=int(time.time()),
            metadata=dict(params.get("metadata") or {}),
            reason=params.get("reason"),
            status="succeeded" if charge["payment_method_details"]["type"] == "card" else "pending",
        )
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
        return self._render(refund, params.get("expand"))

    def _get(self, store: str, object_id: str) -> Json:
        found: Json | None = getattr(self, store).get(object_id)
        if found is None:
            kind = {"sessions": "checkout.session", "intents": "payment_intent"}.get(store, store)
            raise StripeApiError(
                404, f"No such {kind}: '{object_id}'", param="id", code="resource_missing"
            )
        return found

    def _render(self, obj: Json, expand: list[str] | None) -> Json:
        out = {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}
        for path in expand or []:
            self._expand(out, path.split("."), path)
        return out

    def _expand(self, obj: Json, parts: list[str], full: str) -> None:
        if len(parts) > 4:
            raise StripeApiError(400, f"You cannot expand more than 4 levels ({full}).")
        name, rest = parts[0], parts[1:]
        if name == "line_items" and obj.get("object") == "checkout.session" and not rest:
            obj[name] = self._line_items(obj["id"])  # includable: absent unless expanded
            return
        if name not in obj:
            raise StripeApiError(400, f"This property cannot be expanded ({full}).")
        value = obj[name]
        if isinstance(value, str):
            if not value.startswith(tuple(_STORES)):
                raise StripeApiError(400, f"This property cannot be expanded ({full}).")
            value = obj[name] = self._render(self._lookup(value), None)
        if rest and isinstance(value, dict):
            self._expand(value, rest, full)

    # -- request handling (called by the handler thread) -----------------------------------
    def handle(
        self, method: str, raw_path: str, body: str, headers: dict[str, str]
    ) -> tuple[int, Json, dict[str, str]]:
        split = urlsplit(raw_path)
        path = split.path
        recorded = RecordedRequest(method, path, {}, headers)
        with self._lock:
            self.requests.append(recorded)
        self._answering.wait()
        try:
            status, answer, extra = self._dispatch(recorded, split.query, body)
        except StripeApiError as exc:
            status, answer, extra = exc.status, exc.body, exc.headers
        recorded.status = status
        return status, answer, extra

    def _dispatch(
        self, recorded: RecordedRequest, query: str, body: str
    ) -> tuple[int, Json, dict[str, str]]:
        method, path, headers = recorded.method, recorded.path, recorded.headers
        route = next(
            (
                (tmpl, handler, m.groupdict())
                for verb, rx, tmpl, handler in _ROUTES
                if verb == method and (m := rx.match(path))
            ),
            None,
        )
        if route is None:
            self._violation(f"{method.upper()} {path}: not an endpoint this fake implements")
            raise StripeApiError(404, f"Unrecognized request URL ({method.upper()}: {path}).")
        template, handler_name, path_params = route
        path_params = {k: unquote(v) for k, v in path_params.items()}
        if method == "post" and headers.get("content-type", "").split(";")[0] != (
            "application/x-www-form-urlencoded"
        ):
            self._violation(f"POST {path}: Content-Type {headers.get('content-type')!r}")
        text = query if method == "get" else body
        if method == "post" and query:
            self._violation(f"POST {path}: parameters in the query string ({query})")
        try:
            params = parse_form(text)
        except StripeApiError as exc:
            self._violation(f"{method.upper()} {path}: {exc}")
            raise
        recorded.params = params
        operation = self.contract.operation(method, template)
        typed, error = validate(operation, params)
        recorded.typed = typed
        for name, value in path_params.items():
            schema = operation.path_params.get(name, {})
            if not jsonschema.Draft4Validator(schema).is_valid(value):
                error = error or StripeApiError(400, f"Invalid {name}: {value!r}", param=name)
        if error is not None:
            self._violation(f"{method.upper()} {path}: {error}")
        self._authorize(headers.get("authorization", ""))
        if error is not None:
            raise error
        self._apply_fault(path)
        key = headers.get("idempotency-key")
        fingerprint = (method, path, tuple(sorted(parse_qsl(text, keep_blank_values=True))))
        with self._lock:
            if method == "post" and key:
                stored = self._idempotency.get(key)
                if stored is not None:
                    if stored[0] != fingerprint:
                        raise StripeApiError(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other "
                            "than '" + key + "' if you meant to execute a different request.",
                            type="idempotency_error",
                        )
                    return stored[1], copy.deepcopy(stored[2]), {"Idempotent-Replayed": "true"}
            handler: Callable[[Json, dict[str, str]], Json] = getattr(self, handler_name)
            try:
                status, answer = 200, handler(typed, path_params)
            except StripeApiError as exc:
                status, answer = exc.status, exc.body
            if method == "post" and key:
                # Like Stripe: the first result is saved once the endpoint ran, even a 4xx.
                self._idempotency[key] = (fingerprint, status, copy.deepcopy(answer))
        return status, answer, {}

    def _authorize(self, header: str) -> None:
        scheme, _, key = header.partition(" ")
        if scheme != "Bearer" or not key:
            raise StripeApiError(
                401, "You did not provide an API key.", type="invalid_request_error"
            )
        if not key.startswith(("sk_test_", "rk_test_")):
            self._violation("a key that is not a test-mode key reached the fake server")
        if not hmac.compare_digest(key, self.api_key):
            raise StripeApiError(
                401,
                f"Invalid API Key provided: {key[:8]}****{key[-4:]}",
                type="invalid_request_error",
            )

    def _apply_fault(self, path: str) -> None:
        with self._lock:
            fault = next((f for f in self.faults if path.startswith(f.path_prefix)), None)
            if fault is None:
                return
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        if fault.delay:
            # Answer late (then carry on normally): a client with a shorter timeout has
            # given up by then, as with a slow Stripe, and retries with the same key.
            self._release.wait(fault.delay)
        if fault.status:
            error = StripeApiError(fault.status, "")
            error.body = fault.body or {"error": {"type": "api_error", "message": "Error"}}
            error.headers = dict(fault.headers)
            raise error

    def _violation(self, message: str) -> None:
        with self._lock:
            self.violations.append(message)


def _check_metadata(where: str, metadata: Any) -> None:
    """Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500."""
    if not isinstance(metadata, dict):
        return
    if len(metadata) > 50:
        raise StripeApiError(400, "Metadata can have up to 50 keys.", param=where)
    for key, value in metadata.items():
        if len(key) > 40:
            raise StripeApiError(400, "Metadata keys can be up to 40 characters.", param=where)
        if len(str(value)) > 500:
            raise StripeApiError(
                400, "Metadata values can be up to 500 characters.", param=f"{where}[{key}]"
            )


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve("get")

    def do_POST(self) -> None:
        self._serve("post")

    def do_DELETE(self) -> None:
        self._serve("delete")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        headers = {k.lower(): v for k, v in self.headers.items()}
        checkout = self.fake.checkout
        if checkout is not None and not self.path.startswith("/v1/"):
            # The page, and whatever else a browser asks for there (its favicon).
            self._send_page(checkout.handle(method, self.path, body))
            return
        status, answer, extra = self.fake.handle(method, self.path, body, headers)
        payload = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", _random_id("req_", 14))
            self.send_header("Stripe-Version", headers.get("stripe-version", ""))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); Stripe would not notice either

    def _send_page(self, page: Page) -> None:
        """An answer of the hosted Checkout page (HTML or a redirect), not of the API."""
        try:
            self.send_response(page.status)
            for name, value in page.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(page.body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(page.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the recorded requests are the log."""
