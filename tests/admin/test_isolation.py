"""Tenant isolation in the console: Acme's people never see or touch Globex's data.

Every route a person could type is tried with another merchant's object: lists, change
pages, the QR code and copy views, detail actions, exports, autocomplete and filters.
"""

from __future__ import annotations

import csv
import io

import pytest

from paylinks.models import AuditEntry, Membership, PaymentLink, Role
from paylinks.services.links import payment_link_create

from ..factories import MembershipFactory, MerchantFactory, PaymentLinkFactory
from .conftest import ADMIN, change_url

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


class TestLists:
    def test_links_list_shows_only_own_merchant(
        self, console, alice, acme_link, globex_link
    ) -> None:
        page = console(alice).get(f"{ADMIN}/paymentlink/").content.decode()
        assert acme_link.title in page
        assert globex_link.title not in page
        assert globex_link.slug not in page

    def test_payments_list_shows_only_own_merchant(
        self, console, alice, acme_payment, globex_payment
    ) -> None:
        page = console(alice).get(f"{ADMIN}/payment/").content.decode()
        assert acme_payment.public_id in page
        assert globex_payment.public_id not in page

    def test_team_list_shows_only_own_members(self, console, alice, bob) -> None:
        page = console(alice).get(f"{ADMIN}/membership/").content.decode()
        assert alice.email in page
        assert bob.email not in page

    def test_audit_log_shows_only_own_entries(self, console, alice, bob, acme, globex) -> None:
        payment_link_create(
            merchant=acme, actor=alice, title="Acme audit", currency="USD", amount=900
        )
        payment_link_create(
            merchant=globex, actor=bob, title="Globex audit", currency="EUR", amount=900
        )
        page = console(alice).get(f"{ADMIN}/auditentry/").content.decode()
        assert "Acme audit" in page
        assert "Globex audit" not in page

    def test_merchant_settings_list_has_only_own_merchant(
        self, console, alice, acme, globex
    ) -> None:
        # Alice belongs to one merchant: "Merchant settings" takes her straight to it.
        response = console(alice).get(f"{ADMIN}/merchant/")
        assert response.status_code == 302
        assert response["Location"] == change_url(acme)


class TestObjectUrls:
    """Another merchant's object answers 404, as if it did not exist."""

    @pytest.mark.parametrize(
        "fixture", ["globex_link", "globex_payment", "globex_membership", "globex"]
    )
    def test_change_page_is_404(self, request, console, alice, fixture) -> None:
        obj = request.getfixturevalue(fixture)
        response = console(alice).get(change_url(obj))
        assert response.status_code == 404

    def test_audit_entry_of_other_merchant_is_404(self, console, alice, bob, globex) -> None:
        payment_link_create(merchant=globex, actor=bob, title="Secret", currency="EUR", amount=900)
        entry = AuditEntry.objects.get(object_repr="Secret")
        assert console(alice).get(change_url(entry)).status_code == 404

    def test_post_to_other_merchants_link_is_404_and_changes_nothing(
        self, console, alice, globex_link
    ) -> None:
        response = console(alice).post(
            change_url(globex_link),
            {"title": "Hijacked", "currency": "EUR", "amount_type": "fixed", "amount": "1.00"},
        )
        assert response.status_code == 404
        globex_link.refresh_from_db()
        assert globex_link.title == "Globex vinyl pre-order"

    @pytest.mark.parametrize(
        "suffix", ["qr.svg", "qr/download/", "qr/save/", "copy-link/", "open/", "history/"]
    )
    def test_share_and_history_views_are_404(self, console, alice, globex_link, suffix) -> None:
        url = f"{ADMIN}/paymentlink/{globex_link.pk}/{suffix}"
        assert console(alice).get(url).status_code == 404

    @pytest.mark.parametrize("suffix", ["deactivate/", "activate/"])
    def test_activation_dialogs_are_404(self, console, alice, globex_link, suffix) -> None:
        url = f"{ADMIN}/paymentlink/{globex_link.pk}/{suffix}"
        client = console(alice)
        assert client.get(url).status_code == 404
        assert client.post(url, {"_form_submitted": "on"}).status_code == 404
        globex_link.refresh_from_db()
        assert globex_link.is_active

    def test_membership_delete_of_other_merchant_is_404(
        self, console, alice, globex_membership
    ) -> None:
        url = f"{ADMIN}/membership/{globex_membership.pk}/delete/"
        client = console(alice)
        assert client.get(url).status_code == 404
        assert client.post(url, {"post": "yes"}).status_code == 404
        assert Membership.objects.filter(pk=globex_membership.pk).exists()

    def test_bulk_action_ignores_other_merchants_rows(
        self, console, alice, acme_link, globex_link
    ) -> None:
        console(alice).post(
            f"{ADMIN}/paymentlink/",
            {"action": "deactivate_links", "_selected_action": [acme_link.pk, globex_link.pk]},
        )
        acme_link.refresh_from_db()
        globex_link.refresh_from_db()
        assert not acme_link.is_active
        assert globex_link.is_active


class TestExports:
    def test_link_export_has_only_own_rows(self, console, alice, acme_link, globex_link) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/export/")
        titles = {row["title"] for row in rows_of(response)}
        assert titles == {acme_link.title}

    def test_payment_export_has_only_own_rows(
        self, console, alice, acme_payment, globex_payment
    ) -> None:
        response = console(alice).get(f"{ADMIN}/payment/export/")
        assert {row["payment"] for row in rows_of(response)} == {acme_payment.public_id}

    def test_export_of_selected_rows_drops_other_merchants_ids(
        self, console, alice, acme_payment, globex_payment
    ) -> None:
        response = console(alice).post(
            f"{ADMIN}/payment/",
            {
                "action": "export_selected",
                "_selected_action": [acme_payment.pk, globex_payment.pk],
            },
        )
        assert {row["payment"] for row in rows_of(response)} == {acme_payment.public_id}

    def test_filter_for_other_merchant_exports_nothing(
        self, console, alice, acme_link, globex_link, globex
    ) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/export/?merchant={globex.pk}")
        assert rows_of(response) == []


class TestAutocomplete:
    def url(self, model: str, field: str) -> str:
        return f"/admin/autocomplete/?app_label=paylinks&model_name={model}&field_name={field}"

    def test_link_autocomplete_returns_only_own_links(
        self, console, alice, acme_link, globex_link
    ) -> None:
        response = console(alice).get(self.url("payment", "link"))
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        assert ids == {str(acme_link.pk)}

    def test_link_autocomplete_search_cannot_find_other_merchants_link(
        self, console, alice, globex_link
    ) -> None:
        response = console(alice).get(self.url("payment", "link") + "&term=Globex")
        assert response.json()["results"] == []

    def test_merchant_autocomplete_returns_only_own_merchant(
        self, console, alice, acme, globex
    ) -> None:
        response = console(alice).get(self.url("paymentlink", "merchant"))
        assert {row["text"] for row in response.json()["results"]} == {acme.name}

    def test_outsider_gets_no_autocomplete(self, console, olivia, acme_link) -> None:
        response = console(olivia).get(self.url("payment", "link"))
        assert response.status_code in (302, 403)


class TestFilterChoices:
    def filter_choices(self, response, title: str) -> list[str]:  # type: ignore[no-untyped-def]
        for spec in response.context["cl"].filter_specs:
            if str(spec.title) == title:
                return [str(label) for _, label in spec.lookup_choices]
        return []

    def test_single_merchant_person_gets_no_merchant_filter(
        self, console, alice, globex_link
    ) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/")
        assert self.filter_choices(response, "merchant") == []
        assert "Globex" not in response.content.decode()

    def test_merchant_filter_offers_only_own_merchants(
        self, console, alice, acme, globex, globex_link
    ) -> None:
        initech = MerchantFactory(name="Initech")
        MembershipFactory(user=alice, merchant=initech, role=Role.VIEWER)
        response = console(alice).get(f"{ADMIN}/paymentlink/")
        choices = self.filter_choices(response, "merchant")
        assert sorted(choices) == ["Acme Books", "Initech"]

    def test_currency_filter_offers_only_own_currencies(
        self, console, alice, acme_link, acme_yen_link, globex_link
    ) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/")
        assert self.filter_choices(response, "currency") == ["JPY", "USD"]

    def test_support_staff_see_every_merchant_in_filter(
        self, console, sam, acme, globex, acme_link, globex_link
    ) -> None:
        response = console(sam).get(f"{ADMIN}/paymentlink/")
        assert sorted(self.filter_choices(response, "merchant")) == ["Acme Books", "Globex Records"]


@pytest.fixture
def globex_membership(bob) -> Membership:  # type: ignore[no-untyped-def]
    return Membership.objects.get(user=bob)


def test_link_created_through_console_belongs_to_own_merchant(console, alice, acme, globex) -> None:
    """Posting another merchant's id with the form cannot place a link there."""
    console(alice).post(
        f"{ADMIN}/paymentlink/add/",
        {
            "merchant": globex.pk,
            "title": "Sneaky",
            "currency": "USD",
            "amount_type": "fixed",
            "amount": "5.00",
            "after_payment": "message",
            "metadata": "{}",
        },
    )
    assert not PaymentLink.objects.filter(merchant=globex).exists()
    assert PaymentLinkFactory._meta.model.objects.filter(title="Sneaky", merchant=acme).exists()
