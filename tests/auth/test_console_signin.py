"""Getting into the console goes through allauth, and only through allauth.

E-mail + password with mandatory verification; the Django admin's and Wagtail's own login
and password pages never accept a credential; sign-up is closed unless switched on; an
invited member who sets a password from the e-mailed link is verified by doing so.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.test import Client

from paylinks.models import Role, User
from paylinks.services.merchants import membership_add

from ..factories import PASSWORD
from ..mailbox import sent_mail
from .conftest import LOGIN, sign_in, signed_in_user_id, verified

pytestmark = pytest.mark.django_db

NEW_PERSON = {
    "email": "new@example.test",
    "password1": "a long new password",
    "password2": "a long new password",
}
KEY_LINK = re.compile(r"http://testserver(/accounts/password/reset/key/\S+/)")


def set_password_from_mail(client: Client, password: str) -> None:
    """Follow the last e-mailed reset link and choose ``password``."""
    body = sent_mail()[-1].body
    link = KEY_LINK.search(body)
    assert link, body
    form = client.get(link.group(1), follow=True)
    done = client.post(form.redirect_chain[-1][0], {"password1": password, "password2": password})
    assert done.status_code == 302


def test_anonymous_console_visit_ends_on_the_allauth_login_page() -> None:
    response = Client().get("/admin/paylinks/paymentlink/", follow=True)
    final = urlsplit(response.redirect_chain[-1][0])
    assert final.path == LOGIN
    assert parse_qs(final.query)["next"] == ["/admin/paylinks/paymentlink/"]
    assert response.templates[0].name == "account/login.html"


def test_verified_owner_signs_in_and_lands_in_the_console(alice) -> None:
    verified(alice)
    client = Client()
    response = sign_in(client, alice.email)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert signed_in_user_id(client) == str(alice.pk)
    console = client.get("/admin/")
    assert console.status_code == 200
    assert alice.email in console.content.decode()


def test_sign_in_keeps_where_the_person_was_going(mallory) -> None:
    verified(mallory)
    client = Client()
    response = client.post(
        f"{LOGIN}?next=/admin/paylinks/paymentlink/",
        {"login": mallory.email, "password": PASSWORD},
    )
    assert response["Location"] == "/admin/paylinks/paymentlink/"


def test_wrong_password_is_a_form_error_not_a_session(alice) -> None:
    verified(alice)
    client = Client()
    response = sign_in(client, alice.email, "not the password")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert signed_in_user_id(client) is None


def test_unverified_address_gets_a_verification_mail_instead_of_the_console(alice) -> None:
    client = Client()
    response = sign_in(client, alice.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_user_id(client) is None
    assert [m.to for m in sent_mail()] == [[alice.email]]
    assert client.get("/admin/").status_code == 302  # still outside


def test_following_the_verification_link_signs_in(alice) -> None:
    client = Client()
    sign_in(client, alice.email)
    body = sent_mail()[0].body
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", body)
    assert link, body
    client.post(link.group(1))
    assert EmailAddress.objects.get(user=alice).verified
    assert signed_in_user_id(client) == str(alice.pk)
    assert client.get("/admin/").status_code == 200


def test_outsider_signs_in_but_gets_a_clear_no_access_page(olivia) -> None:
    verified(olivia)
    client = Client()
    sign_in(client, olivia.email)
    assert signed_in_user_id(client) == str(olivia.pk)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert len(response.redirect_chain) <= 3  # no redirect loop
    assert "not part of a merchant" in response.content.decode()
    assert client.get("/admin/paylinks/paymentlink/").status_code == 302


@pytest.mark.parametrize("path", ["/admin/login/", "/cms/login/"])
def test_admin_and_wagtail_login_pages_never_take_a_password(alice, path) -> None:
    verified(alice)
    alice.is_superuser = True  # Wagtail would let a superuser in
    alice.save()
    client = Client()
    response = client.post(path, {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert SESSION_KEY not in client.session
    assert client.get(path)["Location"].startswith(LOGIN)


@pytest.mark.parametrize("path", ["/cms/password_reset/", "/admin/password_change/"])
def test_admin_and_wagtail_password_pages_lead_to_allauth(alice, path) -> None:
    response = Client().post(path, {"email": alice.email})
    assert response["Location"] == "/accounts/password/reset/"
    assert sent_mail() == []


def test_signed_in_person_on_the_admin_login_page_goes_to_the_console(alice) -> None:
    client = Client()
    client.force_login(alice)
    response = client.get("/admin/login/?next=/admin/paylinks/payment/")
    assert response["Location"] == "/admin/paylinks/payment/"


def test_admin_login_next_cannot_point_elsewhere() -> None:
    response = Client().get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2F"


def test_sign_out(alice) -> None:
    client = Client()
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 200  # asks first
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
    assert signed_in_user_id(client) is None


def test_sign_up_is_closed_by_default() -> None:
    client = Client()
    page = client.get("/accounts/signup/")
    assert page.templates[0].name == "account/signup_closed.html"
    client.post("/accounts/signup/", NEW_PERSON)
    assert not User.objects.filter(email="new@example.test").exists()
    assert "invite you" in client.get(LOGIN).content.decode()


def test_open_sign_up_creates_an_unverified_account_that_must_verify(settings) -> None:
    settings.PAYLINKS_OPEN_SIGNUP = True
    client = Client()
    assert "Create an account" in client.get(LOGIN).content.decode()
    response = client.post("/accounts/signup/", NEW_PERSON)
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="new@example.test")
    assert not EmailAddress.objects.get(user=user).verified
    assert signed_in_user_id(client) is None
    assert sent_mail()[0].to == ["new@example.test"]


def test_invited_member_sets_a_password_from_the_link_and_is_verified(
    alice, acme, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        membership_add(merchant=acme, actor=alice, email="Nina@Acme.test", role=Role.VIEWER)
    invitation = sent_mail()[-1]
    assert invitation.to == ["nina@acme.test"]
    nina = User.objects.get(email="nina@acme.test")
    assert not nina.has_usable_password()

    client = Client()
    reset_page = re.search(r"https?://[^/\s]+(/accounts/password/reset/)", invitation.body)
    assert reset_page, invitation.body
    client.post(reset_page.group(1), {"email": "nina@acme.test"})
    new_password = "nina picks a long password"
    set_password_from_mail(client, new_password)

    address = EmailAddress.objects.get(user=nina)
    assert (address.email, address.verified, address.primary) == ("nina@acme.test", True, True)
    response = sign_in(client, "nina@acme.test", new_password)
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_reset_link_does_not_verify_when_the_account_has_another_address(alice) -> None:
    EmailAddress.objects.create(user=alice, email="alice.new@acme.test", verified=False)
    client = Client()
    client.post("/accounts/password/reset/", {"email": "alice.new@acme.test"})
    set_password_from_mail(client, "x long password 1")
    assert not EmailAddress.objects.filter(user=alice, verified=True).exists()
