"""Who may do what in the console.

Viewers read; managers write links but not the team or settings; owners do everything
for their merchant; support staff read every merchant and change nothing; people
without a membership do not get in.
"""

from __future__ import annotations

from typing import Any

import pytest

from paylinks.models import AuditEntry, Membership, PaymentLink, Role

from .conftest import ADMIN, change_url

pytestmark = pytest.mark.django_db

LINK_FORM = {
    "title": "Poetry evening",
    "currency": "USD",
    "amount_type": "fixed",
    "amount": "15.00",
    "after_payment": "message",
    "metadata": "{}",
    "_save": "Save",
}


def action_names(response: Any) -> set[str]:
    form = response.context["action_form"]
    return {value for value, _ in form.fields["action"].choices if value}


class TestViewer:
    def test_reads_links_and_payments(self, console, victor, acme_link, acme_payment) -> None:
        client = console(victor)
        assert client.get(f"{ADMIN}/paymentlink/").status_code == 200
        assert client.get(change_url(acme_link)).status_code == 200
        assert client.get(change_url(acme_payment)).status_code == 200

    def test_cannot_open_the_add_form(self, console, victor) -> None:
        assert console(victor).get(f"{ADMIN}/paymentlink/add/").status_code == 403

    def test_cannot_create_a_link(self, console, victor, acme) -> None:
        response = console(victor).post(f"{ADMIN}/paymentlink/add/", LINK_FORM)
        assert response.status_code == 403
        assert not PaymentLink.objects.exists()

    def test_link_page_is_read_only(self, console, victor, acme_link) -> None:
        response = console(victor).get(change_url(acme_link))
        page = response.content.decode()
        assert 'name="_save"' not in page
        assert 'name="title"' not in page
        # Amounts are shown as a person reads them, not in minor units.
        assert "45.00 USD" in page

    def test_cannot_change_a_link(self, console, victor, acme_link) -> None:
        response = console(victor).post(change_url(acme_link), {**LINK_FORM, "title": "Changed"})
        assert response.status_code == 403
        acme_link.refresh_from_db()
        assert acme_link.title == "Acme signed edition"

    def test_is_offered_export_but_no_write_actions(self, console, victor, acme_link) -> None:
        response = console(victor).get(f"{ADMIN}/paymentlink/")
        assert action_names(response) == {"export_selected"}

    def test_cannot_run_a_write_action(self, console, victor, acme_link) -> None:
        console(victor).post(
            f"{ADMIN}/paymentlink/",
            {"action": "deactivate_links", "_selected_action": [acme_link.pk]},
        )
        acme_link.refresh_from_db()
        assert acme_link.is_active

    def test_has_no_deactivate_button_and_cannot_deactivate(
        self, console, victor, acme_link
    ) -> None:
        client = console(victor)
        page = client.get(change_url(acme_link)).content.decode()
        assert f"/paymentlink/{acme_link.pk}/deactivate/" not in page
        url = f"{ADMIN}/paymentlink/{acme_link.pk}/deactivate/"
        assert client.post(url, {"_form_submitted": "on"}).status_code == 403
        acme_link.refresh_from_db()
        assert acme_link.is_active

    def test_cannot_add_members(self, console, victor) -> None:
        assert console(victor).get(f"{ADMIN}/membership/add/").status_code == 403


class TestManager:
    def test_creates_a_link(self, console, mallory, acme) -> None:
        response = console(mallory).post(f"{ADMIN}/paymentlink/add/", LINK_FORM)
        assert response.status_code == 302
        link = PaymentLink.objects.get(title="Poetry evening")
        assert (link.merchant, link.amount, link.created_by) == (acme, 1500, mallory)
        assert AuditEntry.objects.filter(action="link.created", actor_email=mallory.email).exists()

    def test_deactivates_a_link_from_its_page(self, console, mallory, acme_link) -> None:
        url = f"{ADMIN}/paymentlink/{acme_link.pk}/deactivate/"
        response = console(mallory).post(
            url, {"_form_submitted": "on", "message": "Back in spring."}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 204
        assert response["HX-Redirect"] == change_url(acme_link)
        acme_link.refresh_from_db()
        assert not acme_link.is_active
        assert acme_link.inactive_message == "Back in spring."
        assert AuditEntry.objects.filter(action="link.deactivated").exists()

    def test_reactivates_a_link(self, console, mallory, acme_link) -> None:
        PaymentLink.objects.filter(pk=acme_link.pk).update(is_active=False)
        url = f"{ADMIN}/paymentlink/{acme_link.pk}/activate/"
        response = console(mallory).post(url, {"_form_submitted": "on"})
        assert response.status_code == 302
        acme_link.refresh_from_db()
        assert acme_link.is_active

    def test_cannot_add_members(self, console, mallory) -> None:
        client = console(mallory)
        assert client.get(f"{ADMIN}/membership/add/").status_code == 403
        response = client.post(
            f"{ADMIN}/membership/add/", {"email": "new@acme.test", "role": Role.OWNER}
        )
        assert response.status_code == 403
        assert not Membership.objects.filter(user__email="new@acme.test").exists()

    def test_cannot_promote_themself(self, console, mallory) -> None:
        mine = Membership.objects.get(user=mallory)
        response = console(mallory).post(change_url(mine), {"role": Role.OWNER})
        assert response.status_code == 403
        mine.refresh_from_db()
        assert mine.role == Role.MANAGER

    def test_cannot_change_merchant_settings(self, console, mallory, acme) -> None:
        client = console(mallory)
        page = client.get(change_url(acme)).content.decode()
        assert 'name="_save"' not in page
        response = client.post(change_url(acme), settings_form(acme, name="Mallory's Books"))
        assert response.status_code == 403
        acme.refresh_from_db()
        assert acme.name == "Acme Books"


class TestOwner:
    def test_adds_a_member_by_email(self, console, alice, acme) -> None:
        response = console(alice).post(
            f"{ADMIN}/membership/add/",
            {"email": "Newcomer@Acme.test", "role": Role.MANAGER, "_save": "Save"},
        )
        assert response.status_code == 302
        membership = Membership.objects.get(user__email="newcomer@acme.test")
        assert (membership.merchant, membership.role) == (acme, Role.MANAGER)

    def test_changes_merchant_settings(self, console, alice, acme) -> None:
        response = console(alice).post(
            change_url(acme), settings_form(acme, support_email="help@acme.test")
        )
        assert response.status_code == 302
        acme.refresh_from_db()
        assert acme.support_email == "help@acme.test"
        assert AuditEntry.objects.filter(action="merchant.updated").exists()

    def test_bad_settings_are_form_errors(self, console, alice, acme) -> None:
        response = console(alice).post(
            change_url(acme), settings_form(acme, brand_color="purple", timezone="Mars/Base")
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "brand_color" in errors and "timezone" in errors


class TestSupportStaff:
    def test_sees_every_merchant(self, console, sam, acme_link, globex_link) -> None:
        page = console(sam).get(f"{ADMIN}/paymentlink/").content.decode()
        assert acme_link.title in page and globex_link.title in page

    def test_reads_any_payment(self, console, sam, globex_payment) -> None:
        response = console(sam).get(change_url(globex_payment))
        assert response.status_code == 200
        assert globex_payment.public_id in response.content.decode()

    def test_changes_nothing(self, console, sam, acme, acme_link) -> None:
        client = console(sam)
        assert client.get(f"{ADMIN}/paymentlink/add/").status_code == 403
        response = client.post(change_url(acme_link), {**LINK_FORM, "title": "Support edit"})
        assert response.status_code == 403
        assert client.post(change_url(acme), settings_form(acme, name="X")).status_code == 403
        assert client.get(f"{ADMIN}/membership/add/").status_code == 403
        acme_link.refresh_from_db()
        assert acme_link.title == "Acme signed edition"

    def test_is_offered_no_write_actions(self, console, sam, acme_link) -> None:
        response = console(sam).get(f"{ADMIN}/paymentlink/")
        assert action_names(response) == {"export_selected"}


class TestOutsider:
    @pytest.mark.parametrize(
        "path", ["/admin/", f"{ADMIN}/paymentlink/", f"{ADMIN}/payment/", f"{ADMIN}/membership/"]
    )
    def test_is_refused_the_console(self, console, olivia, acme_link, path) -> None:
        response = console(olivia).get(path)
        assert response.status_code == 302
        assert "login" in response["Location"]

    def test_anonymous_visitor_is_sent_to_sign_in(self, client) -> None:  # type: ignore[no-untyped-def]
        response = client.get("/admin/")
        assert response.status_code == 302
        assert "login" in response["Location"]


class TestNavigation:
    def test_sidebar_offers_users_only_to_superusers(self, console, alice) -> None:
        page = console(alice).get("/admin/").content.decode()
        assert f"{ADMIN}/paymentlink/" in page
        assert f"{ADMIN}/user/" not in page
        assert console(alice).get(f"{ADMIN}/user/").status_code == 403

    def test_superuser_gets_platform_section(self, console, db) -> None:  # type: ignore[no-untyped-def]
        from paylinks.models import User

        root = User.objects.create_superuser(email="root@paylinks.test", password="x" * 12)
        client = console(root)
        page = client.get("/admin/").content.decode()
        assert f"{ADMIN}/user/" in page
        assert client.get(f"{ADMIN}/user/").status_code == 200
        assert client.get(change_url(root)).status_code == 200

    def test_every_sidebar_link_opens(self, console, alice, acme_link) -> None:
        import re

        client = console(alice)
        page = client.get("/admin/").content.decode()
        links = set(re.findall(r'href="(/admin/paylinks/[a-z]+/)"', page))
        assert len(links) >= 5
        for link in links:
            assert client.get(link, follow=True).status_code == 200, link


def settings_form(merchant: Any, **changes: Any) -> dict[str, Any]:
    data = {
        "name": merchant.name,
        "brand_color": merchant.brand_color,
        "default_currency": merchant.default_currency,
        "timezone": merchant.timezone,
        "support_email": merchant.support_email,
        "inactive_message": merchant.inactive_message,
        "_save": "Save",
    }
    data.update(changes)
    return data
