"""The Stripe stand-in's hosted Checkout page, and the webhooks it sends as Stripe would.

``FakeStripe.serve_checkout(webhook_url)`` turns it on: from then on a session's ``url``
is a real HTML page served by the stand-in itself (``<fake>/c/pay/<session id>``) instead
of ``https://checkout.stripe.com/...``, so a browser can follow Paylinks' redirect there
and pay. The page shows the session's line items and total and takes an e-mail address,
a card and a name:

- ``4242 4242 4242 4242`` pays: the session is completed (``FakeStripe.complete_with_card``),
  the customer is sent on to the session's ``success_url`` (``{CHECKOUT_SESSION_ID}``
  filled in) and ``checkout.session.completed`` is POSTed to ``webhook_url``;
- ``4000 0000 0000 0002`` is declined: the page says so and stays open for another try,
  and ``payment_intent.payment_failed`` is POSTed;
- any other number is refused as invalid, as Stripe's page refuses it before any charge.

Events are built from the objects' state at that moment, signed with the endpoint's secret
(``Stripe-Signature``, freshly timed per attempt) and sent from a background thread after
the customer's redirect, retried with back-off while the endpoint answers other than 2xx:
Stripe's order of things, where the customer may be back on the merchant's page before
the webhook lands. Every attempt is recorded in ``HostedCheckout.deliveries``.

Only what Paylinks' journeys need: no wallets, no 3-D Secure, no bank debits here (the
API-level helpers in ``fake_stripe.py`` cover those).
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import requests

if TYPE_CHECKING:
    from .fake_stripe import FakeStripe, Json

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
#: Stripe's zero-decimal currencies (the page prints amounts; the fake takes any currency).
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
    "vuv", "xaf", "xof", "xpf",
}  # fmt: skip
#: Seconds between a failed delivery and the next attempt (Stripe's are hours; a test's
#: are short), then the event is given up.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


@dataclass
class Delivery:
    """One event sent to the endpoint: its id and type, and each attempt's HTTP status
    (0 when the endpoint could not be reached)."""

    event_id: str
    type: str
    session_id: str
    attempts: list[int] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return bool(self.attempts) and 200 <= self.attempts[-1] < 300


@dataclass
class Page:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class HostedCheckout:
    """The page and the webhook sender of one ``FakeStripe``."""

    PREFIX = "/c/pay/"

    def __init__(self, fake: FakeStripe, webhook_url: str) -> None:
        self.fake = fake
        self.webhook_url = webhook_url
        self.deliveries: list[Delivery] = []
        self._stop = threading.Event()
        self._senders: list[threading.Thread] = []

    def url_for(self, session_id: str) -> str:
        return f"{self.fake.url}{self.PREFIX}{session_id}"

    def stop(self) -> None:
        self._stop.set()
        for sender in self._senders:
            sender.join(timeout=15)

    # -- the page ------------------------------------------------------------------------
    def handle(self, method: str, path: str, body: str) -> Page:
        if not path.startswith(self.PREFIX):
            return Page(404, b"Not found", {"Content-Type": "text/plain"})
        session_id = path.removeprefix(self.PREFIX).split("?")[0].strip("/")
        with self.fake._lock:
            session = self.fake.sessions.get(session_id)
        if session is None or method not in ("get", "post"):
            return self._render_closed(404, "Something went wrong", "This page could not be found.")
        if session["status"] == "complete":
            return _redirect(_success_url(session))
        if session["status"] != "open":
            return self._render_closed(
                410, "This checkout is no longer available", "The session has expired."
            )
        if method == "get":
            return self._render(session)
        return self._pay(session, dict(parse_qsl(body, keep_blank_values=True)))

    def _pay(self, session: Json, form: dict[str, str]) -> Page:
        email = form.get("email", "").strip() or session.get("customer_email") or ""
        name = form.get("name", "").strip()
        number = "".join(ch for ch in form.get("number", "") if ch.isdigit())
        expiry = "".join(ch for ch in form.get("expiry", "") if ch.isdigit())
        cvc = "".join(ch for ch in form.get("cvc", "") if ch.isdigit())
        if "@" not in email:
            return self._render(session, form, error="Your email address is incomplete.")
        if len(expiry) != 4 or not 1 <= int(expiry[:2]) <= 12:
            return self._render(session, form, error="Your card's expiration date is incomplete.")
        if len(cvc) < 3:
            return self._render(session, form, error="Your card's security code is incomplete.")
        if number == CARD_DECLINED:
            intent = self.fake.decline(
                session["id"],
                decline_code="generic_decline",
                message="Your card was declined.",
                last4=number[-4:],
            )
            self._send("payment_intent.payment_failed", intent["id"], session["id"])
            return self._render(session, form, error="Your card was declined.", status=402)
        if number != CARD_OK:
            return self._render(session, form, error="Your card number is invalid.")
        self.fake.complete_with_card(
            session["id"], brand="visa", last4=number[-4:], email=email, name=name or None
        )
        self._send("checkout.session.completed", session["id"], session["id"])
        return _redirect(_success_url(session))

    def _render(
        self,
        session: Json,
        form: dict[str, str] | None = None,
        *,
        error: str = "",
        status: int = 200,
    ) -> Page:
        form = form or {}
        with self.fake._lock:
            items = list(self.fake.session_line_items.get(session["id"], []))
        currency = session["currency"]
        rows = "".join(
            "<li><span class='name'>{name}</span>{description}<span class='qty'>Qty {qty}</span>"
            "<span class='price' data-testid='line-amount'>{amount}</span></li>".format(
                name=_e(item["price_data"]["product_data"]["name"]),
                description=(
                    f"<span class='description'>{_e(desc)}</span>"
                    if (desc := item["price_data"]["product_data"].get("description"))
                    else ""
                ),
                qty=int(item.get("quantity", 1)),
                amount=_e(
                    _money(
                        int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)),
                        currency,
                    )
                ),
            )
            for item in items
        )
        total = _money(session["amount_total"], currency)
        email = form.get("email") or session.get("customer_email") or ""
        alert = (
            f"<p class='error' role='alert' data-testid='card-error'>{_e(error)}</p>"
            if error
            else ""
        )
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Checkout · Stripe stand-in</title>
<style>{_STYLE}</style></head>
<body><main>
<section class="summary">
  <a class="back" href="{_e(session.get("cancel_url") or "")}">&larr; Back</a>
  <p class="badge">Test mode · Stripe stand-in</p>
  <h1>Pay <span data-testid="total">{_e(total)}</span></h1>
  <ul>{rows}</ul>
</section>
<section class="pay">
  <h2>Pay with card</h2>
  {alert}
  <form method="post" action="{self.PREFIX}{_e(session["id"])}">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="email" value="{_e(email)}" required>
    <label for="number">Card number</label>
    <input id="number" name="number" inputmode="numeric" autocomplete="cc-number"
           placeholder="1234 1234 1234 1234" value="{_e(form.get("number", ""))}" required>
    <div class="pair">
      <div><label for="expiry">Expiry</label>
      <input id="expiry" name="expiry" inputmode="numeric" autocomplete="cc-exp"
             placeholder="MM / YY" value="{_e(form.get("expiry", ""))}" required></div>
      <div><label for="cvc">CVC</label>
      <input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="CVC"
             required></div>
    </div>
    <label for="name">Name on card</label>
    <input id="name" name="name" autocomplete="cc-name" value="{_e(form.get("name", ""))}">
    <button type="submit">Pay</button>
  </form>
</section>
</main></body></html>"""
        return Page(status, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _render_closed(self, status: int, title: str, message: str) -> Page:
        page = (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}"
            f"</title><style>{_STYLE}</style></head><body><main><section class='summary'>"
            f"<h1>{_e(title)}</h1><p>{_e(message)}</p></section></main></body></html>"
        )
        return Page(status, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    # -- webhooks ------------------------------------------------------------------------
    def _send(self, event_type: str, object_id: str, session_id: str) -> None:
        event = self.fake.event_for(event_type, object_id)
        delivery = Delivery(event["id"], event_type, session_id)
        with self.fake._lock:
            self.deliveries.append(delivery)
        sender = threading.Thread(
            target=self._deliver, args=(event, delivery), name="fake-stripe-webhook", daemon=True
        )
        self._senders.append(sender)
        sender.start()

    def _deliver(self, event: Json, delivery: Delivery) -> None:
        for delay in (0.0, *RETRY_DELAYS):
            if self._stop.wait(delay):
                return
            body, signature = self.fake.signed(event)
            try:
                answer = requests.post(
                    self.webhook_url,
                    data=body,
                    headers={"Content-Type": "application/json", "Stripe-Signature": signature},
                    timeout=10,
                    allow_redirects=False,
                )
                status = answer.status_code
            except requests.RequestException:
                status = 0
            delivery.attempts.append(status)
            if 200 <= status < 300:
                return


def _success_url(session: Json) -> str:
    return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])


def _redirect(location: str) -> Page:
    return Page(303, b"", {"Location": location})


def _money(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount:,} {currency.upper()}"
    return f"{amount / 100:,.2f} {currency.upper()}"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


_STYLE = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1a1f36;
background:#f6f9fc}main{display:flex;flex-wrap:wrap;gap:3rem;max-width:60rem;margin:0 auto;
padding:3rem 1.5rem}section{flex:1 1 20rem}.back{color:#697386;text-decoration:none}
.badge{display:inline-block;background:#ffde92;color:#983705;font-size:.75rem;
font-weight:600;padding:.1rem .5rem;border-radius:4px;text-transform:uppercase;
margin-left:.75rem}
h1{font-size:2rem;margin:.5rem 0 1.5rem}ul{list-style:none;padding:0;margin:0}
li{display:grid;grid-template-columns:1fr auto;gap:.1rem 1rem;padding:.75rem 0;
border-top:1px solid #e3e8ee}.description,.qty{grid-column:1;color:#697386;font-size:.875rem}
.price{grid-column:2;grid-row:1;font-weight:600}h2{font-size:1.1rem}
label{display:block;margin:.75rem 0 .25rem;font-size:.875rem;color:#3c4257}
input{width:100%;padding:.6rem .75rem;border:1px solid #cfd7df;border-radius:6px;font:inherit}
.pair{display:flex;gap:1rem}.pair>div{flex:1}
button{width:100%;margin-top:1.5rem;padding:.75rem;border:0;border-radius:6px;
background:#0074d4;color:#fff;font:inherit;font-weight:600;cursor:pointer}
.error{background:#fff0f0;color:#a41c1c;padding:.5rem .75rem;border-radius:6px}
"""
