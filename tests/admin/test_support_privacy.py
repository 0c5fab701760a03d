"""Support without exposure: customers masked for support staff, an audited reveal per
payment, search by the ids and the e-mail a customer quotes, the pi_ id at the top, and
declined attempts said as such.

People: alice owner, mallory manager, victor viewer at Acme; bob owner at Globex;
sam support staff; root a superuser with no merchant.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone

from paylinks import crypto
from paylinks.models import AuditEntry, Payment, PaymentEvent, PaymentStatus, User, WebhookEvent

from ..factories import PaymentFactory
from .conftest import ADMIN, change_url

pytestmark = pytest.mark.django_db

PAYMENTS = f"{ADMIN}/payment/"
ADA = {
    "customer_email": "ada.lovelace@example.test",
    "customer_name": "Ada Lovelace",
    "customer_phone": "+44 20 7946 0958",
    "billing_address": json.dumps(
        {"line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH",
         "country": "GB"}
    ),
}  # fmt: skip
# What must never reach support unrevealed, and what they see instead.
SECRETS = ("ada.lovelace@example.test", "Ada Lovelace", "7946", "St James", "London", "SW1Y")
MASKED = ("a•••@example.test", "A. L.", "••• 58", "•••, GB")


@pytest.fixture
def root(db: Any) -> User:
    return User.objects.create_superuser(email="root@paylinks.test", password="x" * 16)


@pytest.fixture
def ada_payment(acme_link: Any) -> Payment:
    return PaymentFactory(
        link=acme_link,
        status=PaymentStatus.SUCCEEDED,
        payment_intent_id="pi_3PayAda000000001",
        gateway_session_id="cs_test_ada_0001",
        payment_method_type="card",
        card_brand="visa",
        card_last4="4242",
        **ADA,
    )


@pytest.fixture
def other_payment(acme_link: Any) -> Payment:
    return PaymentFactory(
        link=acme_link,
        status=PaymentStatus.SUCCEEDED,
        customer_email="grace.hopper@example.test",
        customer_name="Grace Hopper",
    )


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def reveal(client: Client, payment: Payment, reason: str) -> Any:
    return client.post(
        f"{PAYMENTS}{payment.pk}/reveal-customer/", {"_form_submitted": "on", "reason": reason}
    )


# --- who sees what ------------------------------------------------------------------------
class TestMasking:
    def test_support_sees_customers_masked_on_every_page(
        self, console, sam, ada_payment, globex_payment
    ) -> None:
        client = console(sam)
        pages = {
            "list": text(client.get(PAYMENTS)),
            "search": text(client.get(PAYMENTS, {"q": ada_payment.payment_intent_id})),
            "detail": text(client.get(change_url(ada_payment))),
            "home": text(client.get("/admin/")),
            "audit": text(client.get(f"{ADMIN}/auditentry/")),
        }
        for name, page in pages.items():
            for secret in SECRETS:
                assert secret not in page, f"{secret!r} on the {name} page"
        assert "a•••@example.test" in pages["list"]
        for masked in MASKED:
            assert masked in pages["detail"]
        assert "data-customer-masked" in pages["detail"]

    def test_support_exports_customers_masked(self, console, sam, ada_payment) -> None:
        (row,) = csv_rows(console(sam).get(f"{PAYMENTS}export/"))
        assert (row["customer_email"], row["customer_name"]) == ("a•••@example.test", "A. L.")
        assert row["payment_intent"] == "pi_3PayAda000000001"

    def test_a_superuser_without_a_role_sees_them_masked_too(
        self, console, root, ada_payment
    ) -> None:
        page = text(console(root).get(change_url(ada_payment)))
        assert "ada.lovelace@example.test" not in page and "a•••@example.test" in page

    @pytest.mark.parametrize("who", ["alice", "mallory", "victor"])
    def test_the_merchants_own_team_sees_its_customers(
        self, request, console, who, ada_payment
    ) -> None:
        client = console(request.getfixturevalue(who))
        detail = text(client.get(change_url(ada_payment)))
        for value in ("ada.lovelace@example.test", "Ada Lovelace", "+44 20 7946 0958",
                      "12 St James&#x27;s Square, SW1Y 4JH, London, GB"):  # fmt: skip
            assert value in detail
        assert "data-customer-masked" not in detail
        assert f"{ada_payment.pk}/reveal-customer/" not in detail
        assert "ada.lovelace@example.test" in text(client.get(PAYMENTS))
        (row,) = csv_rows(client.get(f"{PAYMENTS}export/"))
        assert (row["customer_email"], row["customer_name"]) == (
            "ada.lovelace@example.test",
            "Ada Lovelace",
        )


# --- the audited reveal -------------------------------------------------------------------
class TestReveal:
    def test_support_reveals_one_payment_with_a_reason(
        self, console, sam, ada_payment, other_payment
    ) -> None:
        client = console(sam)
        assert f"{ada_payment.pk}/reveal-customer/" in text(client.get(change_url(ada_payment)))

        response = reveal(client, ada_payment, "Ticket 4821: customer asks for a receipt")
        assert response.status_code == 302 and response["Location"] == change_url(ada_payment)

        entry = AuditEntry.objects.get(action="payment.customer_revealed")
        assert (entry.actor, entry.merchant, entry.object_type, entry.object_id) == (
            sam,
            ada_payment.merchant,
            "paylinks.payment",
            str(ada_payment.pk),
        )
        assert entry.changes["reason"] == "Ticket 4821: customer asks for a receipt"

        page = text(client.get(change_url(ada_payment)))
        assert "ada.lovelace@example.test" in page and "Ada Lovelace" in page
        assert "data-customer-revealed" in page
        assert f"{ada_payment.pk}/reveal-customer/" not in page  # nothing left to reveal
        # Per payment: the other customer stays masked, on its page and in the list.
        assert "grace.hopper@example.test" not in text(client.get(change_url(other_payment)))
        listing = text(client.get(PAYMENTS))
        assert "ada.lovelace@example.test" in listing
        assert "grace.hopper@example.test" not in listing and "g•••@example.test" in listing

    def test_a_reveal_ends_after_its_minutes_and_stays_in_its_session(
        self, console, settings, sam, ada_payment
    ) -> None:
        settings.PAYLINKS_REVEAL_MINUTES = 10
        client = console(sam)
        assert reveal(client, ada_payment, "Customer on the phone, ticket 77").status_code == 302
        assert "ada.lovelace@example.test" in text(client.get(change_url(ada_payment)))
        # Another session of the same person (another browser) was not shown anything.
        assert "ada.lovelace@example.test" not in text(console(sam).get(change_url(ada_payment)))
        with time_machine.travel(timezone.now() + timedelta(minutes=11)):
            page = text(client.get(change_url(ada_payment)))
        assert "ada.lovelace@example.test" not in page and "a•••@example.test" in page

    @pytest.mark.parametrize("reason", ["", "because", "          x"])
    def test_a_reason_is_required(self, console, sam, ada_payment, reason) -> None:
        client = console(sam)
        response = reveal(client, ada_payment, reason)
        assert response.status_code == 200  # the dialog again, with the error
        assert "reason" in response.content.decode().lower()
        assert not AuditEntry.objects.filter(action="payment.customer_revealed").exists()
        assert "ada.lovelace@example.test" not in text(client.get(change_url(ada_payment)))

    def test_the_merchants_team_has_nothing_to_reveal(self, console, alice, ada_payment) -> None:
        assert reveal(console(alice), ada_payment, "I want to see it anyway").status_code == 403
        assert not AuditEntry.objects.filter(action="payment.customer_revealed").exists()

    def test_another_merchants_payment_answers_404(self, console, bob, ada_payment) -> None:
        assert reveal(console(bob), ada_payment, "Not my payment at all").status_code == 404

    def test_owners_read_reveals_of_their_customers(
        self, console, sam, alice, bob, ada_payment
    ) -> None:
        reveal(console(sam), ada_payment, "Ticket 4821: customer asks for a receipt")
        audit = f"{ADMIN}/auditentry/"
        owner_view = text(console(alice).get(audit, {"action": "payment.customer_revealed"}))
        assert "Customer details revealed" in owner_view and "sam@paylinks.test" in owner_view
        entry = AuditEntry.objects.get(action="payment.customer_revealed")
        detail = text(console(alice).get(change_url(entry)))
        assert "Ticket 4821: customer asks for a receipt" in detail
        assert change_url(ada_payment) in detail  # the entry links to the payment
        assert "sam@paylinks.test" not in text(console(bob).get(audit))


# --- search ----------------------------------------------------------------------------
class TestSearch:
    def found(self, client: Client, term: str) -> str:
        return text(client.get(PAYMENTS, {"q": term}))

    def test_by_the_customers_exact_email_in_any_letter_case(
        self, console, alice, ada_payment, other_payment
    ) -> None:
        page = self.found(console(alice), "  Ada.Lovelace@EXAMPLE.test ")
        assert ada_payment.public_id in page and other_payment.public_id not in page
        assert other_payment.public_id not in self.found(console(alice), "ada@example.test")

    def test_stays_inside_the_persons_merchants(
        self, console, alice, bob, sam, ada_payment, globex_link
    ) -> None:
        bobs = PaymentFactory(link=globex_link, customer_email=ADA["customer_email"])
        assert ada_payment.public_id not in self.found(console(bob), ADA["customer_email"])
        assert bobs.public_id in self.found(console(bob), ADA["customer_email"])
        assert bobs.public_id not in self.found(console(alice), ADA["customer_email"])
        support = self.found(console(sam), ADA["customer_email"])
        assert ada_payment.public_id in support and bobs.public_id in support

    @pytest.mark.parametrize("field", ["payment_intent_id", "gateway_session_id", "public_id"])
    def test_by_the_ids_a_customer_or_gateway_quotes(
        self, console, sam, field, ada_payment, other_payment
    ) -> None:
        page = self.found(console(sam), getattr(ada_payment, field))
        assert ada_payment.public_id in page and other_payment.public_id not in page

    def test_decrypts_only_the_rows_it_shows(
        self, console, alice, acme_link, ada_payment, monkeypatch
    ) -> None:
        for n in range(30):
            PaymentFactory(link=acme_link, customer_email=f"reader{n}@example.test")
        calls: list[str] = []
        real = crypto.decrypt

        def counting(token: str, **kwargs: Any) -> str:
            calls.append(kwargs.get("where", ""))
            return real(token, **kwargs)

        monkeypatch.setattr(crypto, "decrypt", counting)
        page = self.found(console(alice), ADA["customer_email"])
        assert ada_payment.public_id in page
        # One row found and shown: its four fields, not the other 30 customers' e-mails.
        assert 0 < len(calls) <= 4 * 2, calls


# --- the payment's page -----------------------------------------------------------------
class TestPaymentPage:
    def test_payment_intent_is_at_the_top_and_copyable(self, console, sam, ada_payment) -> None:
        page = text(console(sam).get(change_url(ada_payment)))
        head = page.index("data-payment-ids")
        first_section = page.index('<fieldset class="module')
        # Above the first section, so never in a collapsed one.
        assert head < page.index("pi_3PayAda000000001", head) < first_section
        assert 'data-copy="pi_3PayAda000000001"' in page
        assert 'data-copy="cs_test_ada_0001"' in page

    def test_a_pending_payment_with_a_declined_attempt_says_so(
        self, console, alice, acme_link
    ) -> None:
        payment = PaymentFactory(
            link=acme_link,
            status=PaymentStatus.PENDING,
            failure_code="card_declined",
            failure_message="Your card has insufficient funds.",
        )
        PaymentEvent.objects.create(
            payment=payment,
            kind="attempt_failed",
            message="Your card has insufficient funds.",
            source="gateway",
            data={"code": "insufficient_funds"},
        )
        client = console(alice)
        said = "1 declined attempt (insufficient funds)"
        assert said in text(client.get(PAYMENTS))
        page = text(client.get(change_url(payment)))
        assert said in page
        assert "Attempt declined: insufficient funds" in page  # the timeline
        assert "Last attempt declined: Your card has insufficient funds." in page
        (row,) = csv_rows(client.get(f"{PAYMENTS}export/"))
        assert (row["status"], row["declined_attempts"]) == ("pending", "1")

    def test_declines_are_counted_and_a_paid_payment_does_not_mention_them(
        self, console, alice, acme_link
    ) -> None:
        pending = PaymentFactory(link=acme_link, status=PaymentStatus.PENDING)
        paid = PaymentFactory(link=acme_link, status=PaymentStatus.SUCCEEDED)
        for payment in (pending, pending, paid):
            PaymentEvent.objects.create(
                payment=payment, kind="attempt_failed", data={"code": "expired_card"}
            )
        listing = text(console(alice).get(PAYMENTS))
        assert listing.count("declined attempt") == 1
        assert "2 declined attempts (expired card)" in listing

    def test_times_name_their_zone(self, console, acme, globex, alice, sam, ada_payment) -> None:
        # A payment's page reads in its merchant's zone for everyone; support's list of
        # every merchant's payments in site time. Each says which, so support, the
        # merchant and the customer on the phone can agree on a moment.
        acme.timezone = "Europe/Copenhagen"
        acme.save()
        moment = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
        Payment.objects.filter(pk=ada_payment.pk).update(created_at=moment)
        assert "15 Jan 2026, 13:00 CET" in text(console(alice).get(change_url(ada_payment)))
        assert "15 Jan 2026, 13:00 CET" in text(console(sam).get(change_url(ada_payment)))
        assert "15 Jan 2026, 12:00 UTC" in text(console(sam).get(PAYMENTS))


# --- the webhook inbox ------------------------------------------------------------------
def test_webhook_payloads_are_masked_for_platform_staff(console, sam, root) -> None:
    event = WebhookEvent.objects.create(
        gateway="sandbox",
        event_id="evt_test_masked",
        type="checkout.session.completed",
        object_id="cs_test_ada_0001",
        payload={
            "id": "evt_test_masked",
            "data": {
                "object": {
                    "id": "cs_test_ada_0001",
                    "customer_email": ADA["customer_email"],
                    "customer_details": {
                        "email": ADA["customer_email"],
                        "name": ADA["customer_name"],
                        "phone": ADA["customer_phone"],
                        "address": json.loads(ADA["billing_address"]),
                    },
                }
            },
        },
        status=WebhookEvent.Status.PROCESSED,
    )
    for person in (sam, root):
        page = text(console(person).get(change_url(event)))
        for secret in SECRETS:
            assert secret not in page
        assert "a•••@example.test" in page and "cs_test_ada_0001" in page
