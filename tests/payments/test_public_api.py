"""The public API the checkout page uses: shapes, states, bad input, rate limits."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from paylinks.models import Payment, PaymentStatus
from paylinks.models.links import cancel_token_valid
from paylinks.money import get_currency

from ..factories import PaymentFactory, PaymentLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_limits(settings):  # type: ignore[no-untyped-def]
    settings.PAYLINKS_RATE_LIMITS = {}


def link_url(slug: str) -> str:
    return f"/api/v1/public/links/{slug}"


def checkout(client, slug: str, body=None, **extra):  # type: ignore[no-untyped-def]
    data = body if isinstance(body, str | bytes) else json.dumps(body or {})
    return client.post(
        f"{link_url(slug)}/checkout", data=data, content_type="application/json", **extra
    )


def error(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["code"]


class TestLink:
    def test_active_link_as_the_customer_sees_it(self, client, acme) -> None:
        link = PaymentLinkFactory(
            merchant=acme, title="Dune", amount=1999, currency="USD", collect_phone=True
        )
        data = client.get(link_url(link.slug)).json()
        assert data["state"] == "active"
        assert data["amount"] == {"value": 1999, "display": "19.99 USD"}
        assert (
            data["merchant"]["name"] == acme.name
            and data["merchant"]["brand_color"] == acme.brand_color
        )
        assert data["collect"] == {
            "email": True,
            "name": False,
            "phone": True,
            "billing_address": False,
        }
        assert data["currency_decimals"] == 2 and data["inactive_message"] is None

    @pytest.mark.parametrize(
        ("currency", "amount", "exponent", "decimals"),
        [
            ("JPY", 1500, 0, 0),
            ("KWD", 12340, 3, 3),
            ("EUR", 1250, 2, 2),
            ("USD", 1250, 2, 2),
            ("ISK", 50000, 2, 0),
        ],
    )
    def test_minor_units_come_with_their_exponent(
        self, client, acme, currency, amount, exponent, decimals
    ) -> None:
        link = PaymentLinkFactory(merchant=acme, amount=amount, currency=currency)
        data = client.get(link_url(link.slug)).json()
        assert (data["currency_exponent"], data["currency_decimals"]) == (exponent, decimals)
        # The checkout page checks a customer's amount against this step (KWD: 10, USD: 1)
        # and knows no currency rules of its own: the value is paylinks/money.py's.
        assert data["currency_step"] == get_currency(currency).step
        rules = {k: v for k, v in data.items() if k.startswith("currency")}
        # Every answer about money carries the same currency rules, so the success page
        # formats an amount exactly as the link page did.
        started = checkout(client, link.slug).json()
        assert {k: v for k, v in started.items() if k.startswith("currency")} == rules
        status = client.get(f"/api/v1/public/checkout/{started['session_id']}").json()
        assert {k: v for k, v in status.items() if k.startswith("currency")} == rules
        assert status["amount"]["value"] == amount

    def test_customer_chooses_range_in_the_currency(self, client, acme) -> None:
        link = PaymentLinkFactory(
            merchant=acme,
            currency="JPY",
            amount=None,
            amount_type="customer",
            custom_amount_min=500,
        )
        data = client.get(link_url(link.slug)).json()
        assert data["amount"] is None
        assert data["custom_amount"]["min"] == {"value": 500, "display": "500 JPY"}
        assert data["custom_amount"]["max"]["value"] == 99_999_999
        assert data["currency_decimals"] == 0

    @pytest.mark.parametrize(
        ("kwargs", "state"),
        [
            ({"is_active": False, "inactive_message": "Closed for the season."}, "inactive"),
            ({"expires_at": timezone.now() - timedelta(minutes=1)}, "expired"),
        ],
    )
    def test_states(self, client, acme, kwargs, state) -> None:
        link = PaymentLinkFactory(merchant=acme, **kwargs)
        data = client.get(link_url(link.slug)).json()
        assert data["state"] == state
        if state == "inactive":
            assert data["inactive_message"] == "Closed for the season."

    def test_sold_out(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme, payment_limit=1)
        PaymentFactory(link=link, status=PaymentStatus.SUCCEEDED)
        assert client.get(link_url(link.slug)).json()["state"] == "sold_out"

    @pytest.mark.parametrize("slug", ["nope", "x" * 10_000, "%00", "..%2F..", "ünïcode", "a b"])
    def test_unknown_or_odd_slugs_are_a_uniform_404(self, client, slug) -> None:
        response = client.get(link_url(slug))
        assert response.status_code == 404
        assert error(response) == "not_found"

    def test_unknown_slug_message(self, client) -> None:
        assert client.get(link_url("nope")).json() == {
            "error": {"code": "not_found", "message": "This payment link does not exist."}
        }


class TestCheckout:
    def test_fixed_price_checkout_is_created_with_the_servers_amount(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme, amount=2500)
        response = checkout(client, link.slug, {"email": "ada@example.test"})
        assert response.status_code == 201
        data = response.json()
        assert data["checkout_url"].endswith(f"/sandbox/checkout/{data['session_id']}")
        payment = Payment.objects.get(public_id=data["payment_id"])
        assert (payment.amount, payment.currency, payment.status) == (2500, "USD", "pending")
        assert payment.customer_email == "ada@example.test"

    def test_a_price_from_the_browser_is_refused_for_fixed_links(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme, amount=2500)
        response = checkout(client, link.slug, {"amount": "0.50"})
        assert (response.status_code, error(response)) == (400, "invalid_amount")
        assert not Payment.objects.exists()

    @pytest.mark.parametrize(
        ("amount", "minor"),
        [("12.50", 1250), ("12.5", 1250), (20, 2000), ("1,000", 100000)],
    )
    def test_customer_chosen_amounts(self, client, acme, amount, minor) -> None:
        link = PaymentLinkFactory(
            merchant=acme, currency="EUR", amount=None, amount_type="customer"
        )
        response = checkout(client, link.slug, {"amount": amount})
        assert response.status_code == 201, response.content
        assert Payment.objects.get().amount == minor

    @pytest.mark.parametrize(
        "amount",
        [
            *("1e9", "-5", "12.345", "0.10", "abc", "", 12.5, True, None, [], {"v": 1}),
            *("999999999", "\u0661\u0662", "\uff11\uff12.\uff15\uff10", "\u0967\u0968"),
        ],
    )
    def test_bad_customer_amounts(self, client, acme, amount) -> None:
        link = PaymentLinkFactory(
            merchant=acme, currency="EUR", amount=None, amount_type="customer"
        )
        response = checkout(client, link.slug, {"amount": amount})
        assert (response.status_code, error(response)) == (400, "invalid_amount")
        assert not Payment.objects.exists()

    def test_amount_outside_the_links_range(self, client, acme) -> None:
        link = PaymentLinkFactory(
            merchant=acme,
            amount=None,
            amount_type="customer",
            custom_amount_min=1000,
            custom_amount_max=5000,
        )
        low = checkout(client, link.slug, {"amount": "9.99"})
        high = checkout(client, link.slug, {"amount": "50.01"})
        assert error(low) == error(high) == "invalid_amount"
        assert "10.00 USD" in low.json()["error"]["message"]
        assert checkout(client, link.slug, {"amount": "50.00"}).status_code == 201

    @pytest.mark.parametrize(
        ("kwargs", "status", "code"),
        [
            ({"is_active": False}, 410, "inactive"),
            ({"expires_at": timezone.now() - timedelta(seconds=1)}, 410, "expired"),
        ],
    )
    def test_closed_links(self, client, acme, kwargs, status, code) -> None:
        link = PaymentLinkFactory(merchant=acme, **kwargs)
        response = checkout(client, link.slug)
        assert (response.status_code, error(response)) == (status, code)

    def test_sold_out_link(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme, payment_limit=1)
        PaymentFactory(link=link, status=PaymentStatus.SUCCEEDED)
        response = checkout(client, link.slug)
        assert (response.status_code, error(response)) == (409, "sold_out")

    def test_unknown_link(self, client) -> None:
        response = checkout(client, "does-not-exist")
        assert (response.status_code, error(response)) == (404, "not_found")

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ("this is not json", "invalid_json"),
            ('{"email": ', "invalid_json"),
            ("[1, 2]", "invalid_request"),
            ('"a string"', "invalid_request"),
            ('{"email": 5}', "invalid_request"),
            ('{"email": "not-an-email"}', "invalid_email"),
            ('{"price": 1}', "invalid_request"),
            ('{"email": "' + "a" * 20000 + '@x.test"}', "payload_too_large"),
        ],
    )
    def test_malformed_bodies(self, client, acme, body, code) -> None:
        link = PaymentLinkFactory(merchant=acme)
        response = checkout(client, link.slug, body)
        assert (response.status_code, error(response)) == (400, code)
        assert not Payment.objects.exists()

    def test_form_encoded_body_is_refused(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        response = client.post(f"{link_url(link.slug)}/checkout", data={"email": "a@b.test"})
        assert (response.status_code, error(response)) == (400, "invalid_request")

    def test_idempotency_key_returns_the_same_session(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        first = checkout(client, link.slug, HTTP_IDEMPOTENCY_KEY="double-click-1")
        second = checkout(client, link.slug, HTTP_IDEMPOTENCY_KEY="double-click-1")
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["session_id"] == second.json()["session_id"]
        assert Payment.objects.count() == 1
        other = checkout(client, link.slug, HTTP_IDEMPOTENCY_KEY="another-tab")
        assert other.json()["session_id"] != first.json()["session_id"]

    def test_reusing_a_key_for_other_details_is_a_conflict(self, client, acme) -> None:
        link = PaymentLinkFactory(
            merchant=acme, currency="EUR", amount=None, amount_type="customer"
        )
        key = {"HTTP_IDEMPOTENCY_KEY": "tab-7"}
        first = checkout(client, link.slug, {"amount": "20", "email": "c@example.test"}, **key)
        same = checkout(client, link.slug, {"amount": "20.00", "email": "C@example.test"}, **key)
        assert (first.status_code, same.status_code) == (201, 200)
        other_amount = checkout(
            client, link.slug, {"amount": "25", "email": "c@example.test"}, **key
        )
        other_email = checkout(
            client, link.slug, {"amount": "20", "email": "d@example.test"}, **key
        )
        assert (other_amount.status_code, error(other_amount)) == (409, "idempotency_conflict")
        assert (other_email.status_code, error(other_email)) == (409, "idempotency_conflict")
        assert Payment.objects.get().amount == 2000

    def test_get_is_not_allowed(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        response = client.get(f"{link_url(link.slug)}/checkout")
        assert (response.status_code, error(response)) == (405, "method_not_allowed")


class TestDatabaseErrors:
    def test_a_value_the_database_refuses_is_the_clients_400(self, client, acme, monkeypatch):  # type: ignore[no-untyped-def]
        from django.db import DataError

        from paylinks.services import payments

        def refuses(**_: object) -> None:
            raise DataError("value out of range for type bigint")

        monkeypatch.setattr(payments, "checkout_start", refuses)
        response = checkout(client, PaymentLinkFactory(merchant=acme).slug)
        assert (response.status_code, error(response)) == (400, "invalid_request")
        assert "Retry-After" not in response

    def test_a_database_that_does_not_answer_is_a_retryable_503(self, client, acme, monkeypatch):  # type: ignore[no-untyped-def]
        from django.db import OperationalError

        from paylinks.services import payments

        def down(**_: object) -> None:
            raise OperationalError("connection refused")

        monkeypatch.setattr(payments, "checkout_start", down)
        response = checkout(client, PaymentLinkFactory(merchant=acme).slug)
        assert (response.status_code, error(response)) == (503, "unavailable")
        assert response["Retry-After"] == "5"


class TestStatus:
    def test_status_shows_amount_status_and_intent_but_nothing_private(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme, confirmation_message="Thanks! Ships Monday.")
        payment = PaymentFactory(
            link=link,
            status=PaymentStatus.SUCCEEDED,
            payment_intent_id="pi_123",
            customer_email="secret@example.test",
            card_last4="4242",
        )
        response = client.get(f"/api/v1/public/checkout/{payment.gateway_session_id}")
        data = response.json()
        assert data["status"] == "succeeded" and data["payment_intent_id"] == "pi_123"
        assert data["amount"]["display"] == "12.50 USD"
        assert data["after_payment"] == {"type": "message", "message": "Thanks! Ships Monday."}
        assert "secret@example.test" not in response.content.decode()
        assert "4242" not in response.content.decode()

    def test_status_says_when_it_was_paid_and_whether_the_receipt_went(self, client, acme) -> None:
        paid = timezone.now().replace(microsecond=0)
        payment = PaymentFactory(
            link=PaymentLinkFactory(merchant=acme),
            status=PaymentStatus.SUCCEEDED,
            completed_at=paid,
            customer_email="secret@example.test",
        )
        url = f"/api/v1/public/checkout/{payment.gateway_session_id}"
        data = client.get(url).json()
        assert data["completed_at"] == paid.isoformat().replace("+00:00", "Z")
        assert data["receipt_sent"] is False
        # Another e-mail (the team's notice) is not the receipt.
        payment.events.create(
            kind="email_sent", message="New-payment notice", data={"email": "team_payment"}
        )
        assert client.get(url).json()["receipt_sent"] is False
        payment.events.create(kind="email_sent", message="Receipt", data={"email": "receipt"})
        response = client.get(url)
        assert response.json()["receipt_sent"] is True
        assert "secret@example.test" not in response.content.decode()

    def test_a_pending_payment_has_no_completion_time(self, client, acme) -> None:
        payment = PaymentFactory(link=PaymentLinkFactory(merchant=acme))
        data = client.get(f"/api/v1/public/checkout/{payment.gateway_session_id}").json()
        assert (data["status"], data["completed_at"], data["receipt_sent"]) == (
            "pending",
            None,
            False,
        )

    @pytest.mark.parametrize("session_id", ["cs_unknown", "x" * 5000, "pay_123"])
    def test_unknown_sessions_are_a_404(self, client, session_id) -> None:
        response = client.get(f"/api/v1/public/checkout/{session_id}")
        assert (response.status_code, error(response)) == (404, "not_found")


class TestRateLimits:
    def test_checkout_flood_from_one_ip_gets_429_with_retry_after(
        self, client, acme, settings
    ) -> None:
        settings.PAYLINKS_RATE_LIMITS = {"checkout_ip": "3/min"}
        link = PaymentLinkFactory(merchant=acme)
        codes = [checkout(client, link.slug).status_code for _ in range(5)]
        assert codes == [201, 201, 201, 429, 429]
        limited = checkout(client, link.slug)
        assert error(limited) == "rate_limited"
        assert 0 < int(limited["Retry-After"]) <= 60
        other_ip = checkout(client, link.slug, REMOTE_ADDR="10.9.9.9")
        assert other_ip.status_code == 201

    def test_per_link_limit_holds_across_ips(self, client, acme, settings) -> None:
        settings.PAYLINKS_RATE_LIMITS = {"checkout_link": "2/min"}
        link = PaymentLinkFactory(merchant=acme)
        other = PaymentLinkFactory(merchant=acme)
        codes = [
            checkout(client, link.slug, REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(4)
        ]
        assert codes == [201, 201, 429, 429]
        assert checkout(client, other.slug).status_code == 201

    @pytest.mark.parametrize("slug", ["a b", "a\r\nSet-Cookie:x=1", "é", "x" * 10_000])
    def test_what_cannot_be_a_slug_is_a_404_and_never_a_per_link_cache_key(
        self, client, settings, slug
    ) -> None:
        import warnings
        from urllib.parse import quote

        from django.core.cache import CacheKeyWarning

        settings.PAYLINKS_RATE_LIMITS = {"checkout_link": "1/min"}
        with warnings.catch_warnings():
            warnings.simplefilter("error", CacheKeyWarning)  # memcached would refuse the key
            codes = [
                checkout(client, quote(slug), REMOTE_ADDR=f"10.0.1.{i}").status_code
                for i in range(3)
            ]
        assert codes == [404, 404, 404]

    def test_reads_are_limited_per_ip(self, client, acme, settings) -> None:
        settings.PAYLINKS_RATE_LIMITS = {"public_ip": "2/min"}
        link = PaymentLinkFactory(merchant=acme)
        codes = [client.get(link_url(link.slug)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]

    def test_an_empty_rate_turns_the_limit_off(self, client, acme, settings) -> None:
        # PAYLINKS_RATE_CHECKOUT_IP="" in the environment is documented to mean "no limit".
        settings.PAYLINKS_RATE_LIMITS = {"public_ip": "", "checkout_ip": "", "checkout_link": ""}
        link = PaymentLinkFactory(merchant=acme)
        assert [checkout(client, link.slug).status_code for _ in range(25)] == [201] * 25
        assert client.get(link_url(link.slug)).status_code == 200


class TestCancel:
    """The hosted checkout's cancel link carries a token only Paylinks can make: a ``pay_``
    id alone (from a console, an export, a merchant webhook) cancels nothing and learns
    nothing — the same 404 as an id that does not exist."""

    @staticmethod
    def cancel_params(payment: Payment) -> dict[str, str]:
        query = parse_qs(urlsplit(payment.link.cancel_url(payment.public_id)).query)
        return {name: values[0] for name, values in query.items()}

    @staticmethod
    def cancel(client, payment_id: str, body=None):  # type: ignore[no-untyped-def]
        return client.post(
            f"/api/v1/public/payments/{payment_id}/cancel",
            data=json.dumps(body) if body is not None else "",
            content_type="application/json",
        )

    def started(self, client, acme) -> Payment:  # type: ignore[no-untyped-def]
        link = PaymentLinkFactory(merchant=acme, payment_limit=1)
        assert checkout(client, link.slug).status_code == 201
        return Payment.objects.get(link=link)

    def test_the_cancel_url_carries_the_payment_and_its_token(self, client, acme) -> None:
        payment = self.started(client, acme)
        params = self.cancel_params(payment)
        assert params["payment"] == payment.public_id
        assert len(params["token"]) >= 40

    def test_the_token_from_the_cancel_url_cancels(self, client, acme) -> None:
        payment = self.started(client, acme)
        token = self.cancel_params(payment)["token"]
        response = self.cancel(client, payment.public_id, {"token": token})
        assert response.status_code == 200, response.content
        assert response.json() == {
            "payment_id": payment.public_id,
            "status": "canceled",
            "link": payment.link.slug,
        }
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.CANCELED

    @pytest.mark.parametrize(
        "body",
        [None, {}, {"token": ""}, {"token": "x" * 43}, {"token": 5}, {"token": "a" * 5000}],
    )
    def test_without_the_token_it_is_the_unknown_payment_404(self, client, acme, body) -> None:
        payment = self.started(client, acme)
        response = self.cancel(client, payment.public_id, body)
        unknown = self.cancel(client, "pay_doesnotexist", body)
        assert response.status_code == unknown.status_code == 404
        assert response.json() == unknown.json()
        assert payment.public_id not in response.content.decode()
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PENDING

    def test_one_payments_token_cancels_no_other(self, client, acme, globex) -> None:
        mine = self.started(client, acme)
        theirs = self.started(client, globex)
        token = self.cancel_params(mine)["token"]
        response = self.cancel(client, theirs.public_id, {"token": token})
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.status == PaymentStatus.PENDING

    def test_tokens_outlive_a_secret_key_rotation_and_no_other_key_makes_one(
        self, client, acme, settings
    ) -> None:
        payment = self.started(client, acme)
        token = self.cancel_params(payment)["token"]
        old_key = settings.SECRET_KEY
        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "n" * 50, [old_key]
        assert cancel_token_valid(payment.public_id, token)
        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "m" * 50, []
        assert not cancel_token_valid(payment.public_id, token)
        assert self.cancel(client, payment.public_id, {"token": token}).status_code == 404


class TestClientAddress:
    """Who a rate limit counts: with PAYLINKS_TRUSTED_PROXIES=1 exactly one hop (the
    checkout page) is believed — the right-most X-Forwarded-For entry, the one it wrote."""

    @pytest.fixture(autouse=True)
    def one_hop(self, settings):  # type: ignore[no-untyped-def]
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        settings.PAYLINKS_RATE_LIMITS = {"checkout_ip": "3/min"}

    def test_entries_left_of_the_trusted_hop_do_not_count(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        codes = [
            checkout(
                client, link.slug, HTTP_X_FORWARDED_FOR=f"10.1.{n}.{n}, 198.51.100.7"
            ).status_code
            for n in range(5)
        ]
        assert codes == [201, 201, 201, 429, 429]
        other = checkout(client, link.slug, HTTP_X_FORWARDED_FOR="10.1.0.0, 198.51.100.8")
        assert other.status_code == 201

    def test_an_ipv6_client_is_its_64(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        codes = [
            checkout(client, link.slug, HTTP_X_FORWARDED_FOR=f"2001:db8:1:2::{n:x}").status_code
            for n in range(1, 6)
        ]
        assert codes == [201, 201, 201, 429, 429]
        elsewhere = checkout(client, link.slug, HTTP_X_FORWARDED_FOR="2001:db8:1:3::1")
        assert elsewhere.status_code == 201

    def test_what_is_not_an_address_counts_as_the_hop_itself(self, client, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        codes = [
            checkout(client, link.slug, HTTP_X_FORWARDED_FOR=f"junk-{n}").status_code
            for n in range(5)
        ]
        assert codes == [201, 201, 201, 429, 429]
