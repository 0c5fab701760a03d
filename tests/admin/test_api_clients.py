"""API clients in the console: owners create (the secret shown once), rename, re-scope,
rotate and revoke them; everything is audited; nobody else manages them."""

from __future__ import annotations

import re

import pytest
from allauth.idp.oidc.models import Client as OAuthClient
from django.test import Client

from paylinks.models import ApiClient, ApiScope, AuditEntry
from paylinks.services.api_clients import api_client_create

from ..api.conftest import TOKEN_URL, basic
from .conftest import ADMIN

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"data-client-secret>(pls_[A-Za-z0-9_-]+)<")
CLIENT_ID = re.compile(r"data-client-id>(plc_[0-9a-f]+)<")


def create(console, owner, **fields):  # type: ignore[no-untyped-def]
    body = {"name": "Shop backend", "scopes": ["links:read", "links:write"], "_save": "Save"}
    return console(owner).post(f"{ADMIN}/apiclient/add/", {**body, **fields})


def test_owner_creates_a_client_and_sees_the_secret_once(console, alice, acme) -> None:
    response = create(console, alice)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    secret = SECRET.search(page).group(1)
    client_id = CLIENT_ID.search(page).group(1)
    api_client = ApiClient.objects.get()
    assert (api_client.merchant, api_client.client_id) == (acme, client_id)
    assert OAuthClient.objects.get(pk=client_id).get_scopes() == ["links:read", "links:write"]
    # Stored hashed only, and it works at the token endpoint.
    assert secret not in OAuthClient.objects.get(pk=client_id).secret
    token = Client().post(
        TOKEN_URL, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(client_id, secret)
    )
    assert token.status_code == 200
    # Never shown again: not on its page, not in the list.
    detail = console(alice).get(f"{ADMIN}/apiclient/{api_client.pk}/change/").content.decode()
    listing = console(alice).get(f"{ADMIN}/apiclient/").content.decode()
    assert secret not in detail and secret not in listing
    assert client_id in listing
    entry = AuditEntry.objects.get(action="api_client.created")
    assert entry.actor == alice and secret not in str(entry.changes)


def test_a_client_needs_a_name_and_a_scope(console, alice) -> None:
    response = create(console, alice, name="", scopes=[])
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not ApiClient.objects.exists()


def test_owner_renames_and_rescopes(console, alice, acme) -> None:
    issued = api_client_create(merchant=acme, actor=alice, name="Old", scopes=["links:read"])
    response = console(alice).post(
        f"{ADMIN}/apiclient/{issued.api_client.pk}/change/",
        {"name": "Warehouse", "scopes": ["payments:read"], "_save": "Save"},
    )
    assert response.status_code == 302
    issued.api_client.refresh_from_db()
    assert issued.api_client.name == "Warehouse"
    assert issued.api_client.oauth_client.get_scopes() == ["payments:read"]
    assert AuditEntry.objects.filter(action="api_client.updated").count() == 1


def test_rotate_asks_first_then_shows_a_new_secret(console, alice, acme) -> None:
    issued = api_client_create(merchant=acme, actor=alice, name="Shop", scopes=["links:read"])
    url = f"{ADMIN}/apiclient/{issued.api_client.pk}/rotate-secret/"
    confirm = console(alice).get(url)
    assert confirm.status_code == 200 and b"Rotate secret" in confirm.content
    assert OAuthClient.objects.get(pk=issued.client_id).check_secret(issued.client_secret)
    rotated = console(alice).post(url)
    new_secret = SECRET.search(rotated.content.decode()).group(1)
    client = OAuthClient.objects.get(pk=issued.client_id)
    assert client.check_secret(new_secret) and not client.check_secret(issued.client_secret)
    assert AuditEntry.objects.filter(action="api_client.secret_rotated").count() == 1


def test_revoke_asks_first_then_ends_the_client(console, alice, acme) -> None:
    issued = api_client_create(merchant=acme, actor=alice, name="Shop", scopes=["links:read"])
    url = f"{ADMIN}/apiclient/{issued.api_client.pk}/revoke/"
    assert console(alice).get(url).status_code == 200
    assert ApiClient.objects.get().revoked_at is None
    response = console(alice).post(url)
    assert response.status_code == 302
    api_client = ApiClient.objects.get()
    assert api_client.revoked_at is not None and api_client.oauth_client is None
    assert not OAuthClient.objects.exists()
    listing = console(alice).get(f"{ADMIN}/apiclient/").content.decode()
    assert "Revoked" in listing
    assert AuditEntry.objects.filter(action="api_client.revoked").count() == 1


@pytest.mark.parametrize("who", ["mallory", "victor", "bob", "olivia"])
def test_only_owners_manage_their_own_merchants_clients(console, alice, acme, who, request):  # type: ignore[no-untyped-def]
    person = request.getfixturevalue(who)
    issued = api_client_create(merchant=acme, actor=alice, name="Shop", scopes=["links:read"])
    pk = issued.api_client.pk
    browser = console(person)
    for path in (f"{ADMIN}/apiclient/{pk}/change/", f"{ADMIN}/apiclient/{pk}/revoke/"):
        assert browser.get(path).status_code in (302, 403, 404)
    assert browser.post(f"{ADMIN}/apiclient/{pk}/revoke/").status_code in (302, 403, 404)
    assert browser.post(f"{ADMIN}/apiclient/{pk}/rotate-secret/").status_code in (302, 403, 404)
    create(console, person, merchant=acme.pk)
    assert ApiClient.objects.filter(merchant=acme).count() == 1
    assert ApiClient.objects.get(merchant=acme).revoked_at is None
    assert OAuthClient.objects.get(pk=issued.client_id).check_secret(issued.client_secret)


def test_support_staff_read_but_do_not_change(console, alice, acme, sam) -> None:
    issued = api_client_create(merchant=acme, actor=alice, name="Shop", scopes=["links:read"])
    assert console(sam).get(f"{ADMIN}/apiclient/").status_code == 200
    assert console(sam).post(f"{ADMIN}/apiclient/{issued.api_client.pk}/revoke/").status_code in (
        403,
        404,
    )
    assert ApiClient.objects.get().revoked_at is None


def test_sidebar_has_developers_for_owners_only(console, alice, victor) -> None:
    assert b"API clients" in console(alice).get("/admin/").content
    home = console(victor).get("/admin/").content
    assert b"API clients" not in home and b"API documentation" in home


def test_every_scope_is_offered(console, alice) -> None:
    page = console(alice).get(f"{ADMIN}/apiclient/add/").content.decode()
    for scope in ApiScope.values:
        assert f'value="{scope}"' in page
