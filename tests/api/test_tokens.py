"""Access tokens: what the token endpoint issues, and every way a token is refused."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
import time_machine
from allauth.idp.oidc.models import Client as OAuthClient
from allauth.idp.oidc.models import Token
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.hashers import identify_hasher
from django.utils import timezone

from paylinks.models import ApiClient, ApiScope, AuditEntry
from paylinks.services import api_clients as client_services

from .conftest import TOKEN_URL, Caller, basic, fetch_token, make_client

pytestmark = pytest.mark.django_db


def jwks_key(http, token: str):  # type: ignore[no-untyped-def]
    keys = http.get("/.well-known/jwks.json").json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [key for key in keys if key["kid"] == kid]
    return jwt.PyJWK(jwk).key


def test_token_is_a_jwt_signed_by_a_key_in_the_served_jwks(http, acme_issued, settings) -> None:
    answer = fetch_token(http, acme_issued)
    assert answer["token_type"].lower() == "bearer"
    assert answer["expires_in"] == settings.IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN
    token = answer["access_token"]
    claims = jwt.decode(
        token, jwks_key(http, token), algorithms=["RS256"], issuer=settings.SITE_URL
    )
    assert claims["client_id"] == acme_issued.client_id
    assert claims["sub"] == acme_issued.client_id
    assert set(claims["scope"].split()) == set(ApiScope.values)
    assert claims["exp"] - claims["iat"] == settings.IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN
    assert claims["token_use"] == "access"


def test_discovery_document_names_the_token_endpoint_scopes_and_grant(http) -> None:
    doc = http.get("/.well-known/openid-configuration").json()
    assert doc["token_endpoint"].endswith(TOKEN_URL)
    assert doc["jwks_uri"].endswith("/.well-known/jwks.json")
    assert doc["grant_types_supported"] == ["client_credentials"]
    assert set(doc["scopes_supported"]) == set(ApiScope.values)


def test_a_client_may_ask_for_fewer_scopes_but_not_more(http, alice, acme) -> None:
    issued = make_client(acme, alice, scopes=[ApiScope.LINKS_READ])
    narrow = fetch_token(http, issued, scope="links:read")
    assert jwt.decode(narrow["access_token"], options={"verify_signature": False})["scope"] == (
        "links:read"
    )
    wider = http.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "links:read links:write"},
        HTTP_AUTHORIZATION=basic(issued.client_id, issued.client_secret),
    )
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


def test_wrong_secret_gets_no_token(http, acme_issued) -> None:
    response = http.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(acme_issued.client_id, "pls_wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_secret_is_stored_hashed_only(acme_issued) -> None:
    stored = OAuthClient.objects.get(pk=acme_issued.client_id).secret
    assert acme_issued.client_secret not in stored
    assert identify_hasher(stored)  # Django's password hashing, as allauth does it
    assert acme_issued.client_secret.startswith("pls_")


def _no_token(caller: Caller) -> None:
    response = caller.get("/api/v1/links")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] in ("unauthorized", "invalid_token")


def test_missing_token_is_401_with_www_authenticate(http) -> None:
    response = http.get("/api/v1/links")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="Paylinks API"'
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer    ",
        "Basic abc",
        "Token abc",
        "Bearer not-a-jwt",
        "Bearer eyJ.e30.e30",
        # headers that are not a JSON object: nested past Python's recursion limit, a
        # list, bytes that are not UTF-8, a kid that is not a string, too long a header
        "Bearer " + base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("=") + ".e30.e30",
        "Bearer " + base64.urlsafe_b64encode(b'["kid"]').decode().rstrip("=") + ".e30.e30",
        "Bearer " + base64.urlsafe_b64encode(b"\xff\xfe{}").decode().rstrip("=") + ".e30.e30",
        "Bearer " + base64.urlsafe_b64encode(b'{"kid": 7}').decode().rstrip("=") + ".e30.e30",
        "Bearer " + "e" * 3000 + ".e30.e30",
    ],
)
def test_malformed_authorization_is_401(http, header) -> None:
    response = http.get("/api/v1/links", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response.json()["error"]["code"] == "invalid_token"


def test_forged_token_signed_with_another_key_is_401(http, acme_api, settings) -> None:
    genuine = jwt.decode(acme_api.token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(acme_api.token)["kid"]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(genuine, other, algorithm="RS256", headers={"kid": kid})
    _no_token(Caller(http, forged))
    # ... and one that claims no signature at all
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": kid}).encode())
    body = base64.urlsafe_b64encode(json.dumps(genuine).encode())
    _no_token(Caller(http, f"{header.decode().rstrip('=')}.{body.decode().rstrip('=')}."))


def test_tampered_scope_is_401(http, acme_issued) -> None:
    token = fetch_token(http, acme_issued, scope="links:read")["access_token"]
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "==="))
    claims["scope"] = " ".join(ApiScope.values)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    _no_token(Caller(http, f"{head}.{body}.{signature}"))


def test_expired_token_is_401(http, acme_api, settings) -> None:
    later = timezone.now() + timedelta(seconds=settings.IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN + 5)
    with time_machine.travel(later):
        _no_token(acme_api)


def test_revoked_client_token_stops_working_at_once(http, acme_api, alice) -> None:
    assert acme_api.get("/api/v1/links").status_code == 200
    api_client = ApiClient.objects.get()
    client_services.api_client_revoke(api_client=api_client, actor=alice)
    # The JWT itself is still well signed and unexpired ...
    assert jwt.decode(acme_api.token, options={"verify_signature": False})["exp"] > (
        timezone.now().timestamp()
    )
    # ... and refused all the same.
    response = acme_api.get("/api/v1/links")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "The access token has been revoked."
    assert not Token.objects.exists()
    assert AuditEntry.objects.filter(action="api_client.revoked").count() == 1


def test_revoked_client_gets_no_new_token(http, acme_issued, alice) -> None:
    client_services.api_client_revoke(api_client=acme_issued.api_client, actor=alice)
    response = http.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(acme_issued.client_id, acme_issued.client_secret),
    )
    assert response.status_code == 401


def test_rotating_the_secret_ends_old_tokens_and_the_old_secret(http, acme_api, acme_issued, alice):  # type: ignore[no-untyped-def]
    rotated = client_services.api_client_rotate_secret(
        api_client=acme_issued.api_client, actor=alice
    )
    assert rotated.client_secret != acme_issued.client_secret
    assert acme_api.get("/api/v1/links").status_code == 401
    old = http.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(acme_issued.client_id, acme_issued.client_secret),
    )
    assert old.status_code == 401
    fresh = Caller(http, fetch_token(http, rotated)["access_token"])
    assert fresh.get("/api/v1/links").status_code == 200


def test_missing_scope_is_403_naming_it(http, alice, acme) -> None:
    issued = make_client(acme, alice, scopes=[ApiScope.LINKS_READ])
    caller = Caller(http, fetch_token(http, issued)["access_token"])
    assert caller.get("/api/v1/links").status_code == 200
    response = caller.post("/api/v1/links", {"title": "x", "currency": "USD", "amount": 100})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert 'scope="links:write"' in response["WWW-Authenticate"]
    for path in ("/api/v1/payments", "/api/v1/analytics/summary"):
        assert caller.get(path).status_code == 403


def test_narrowing_a_client_applies_to_tokens_already_issued(http, acme_api, acme_issued, alice):  # type: ignore[no-untyped-def]
    assert acme_api.get("/api/v1/payments").status_code == 200
    client_services.api_client_update(
        api_client=acme_issued.api_client, actor=alice, scopes=[ApiScope.LINKS_READ]
    )
    assert acme_api.get("/api/v1/payments").status_code == 403
    assert acme_api.get("/api/v1/links").status_code == 200


def test_rate_limit_per_client_answers_429_with_retry_after(http, acme_api, globex_api, settings):  # type: ignore[no-untyped-def]
    settings.PAYLINKS_RATE_LIMITS = {"api_client": "3/min"}
    for _ in range(3):
        assert acme_api.get("/api/v1/links").status_code == 200
    limited = acme_api.get("/api/v1/links")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    # Per client: another client is not slowed down by the first one.
    assert globex_api.get("/api/v1/links").status_code == 200


def test_token_endpoint_is_rate_limited_per_ip(http, acme_issued, settings) -> None:
    settings.PAYLINKS_RATE_LIMITS = {"token_ip": "2/min"}
    assert fetch_token(http, acme_issued)["access_token"]
    assert fetch_token(http, acme_issued)["access_token"]
    limited = http.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(acme_issued.client_id, acme_issued.client_secret),
    )
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert limited.json()["error"] == "rate_limited"


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_a_rotated_signing_key_keeps_old_tokens_until_it_expires(http, acme_issued, settings):  # type: ignore[no-untyped-def]
    """API_TOKEN_PRIVATE_KEY rotation: the new key signs, the previous one still verifies
    the tokens it signed (and is published) until it is dropped or passes ``expires_at``."""
    (current,) = settings.IDP_OIDC_PRIVATE_KEYS
    old_token = fetch_token(http, acme_issued)["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_key = {
        "pem": _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "issued_at": "2026-01-01T00:00:00+00:00",
    }

    settings.IDP_OIDC_PRIVATE_KEYS = [new_key, {"pem": current["pem"]}]
    new_token = fetch_token(http, acme_issued)["access_token"]
    new_kid = jwt.get_unverified_header(new_token)["kid"]
    assert new_kid != old_kid
    served = {key["kid"] for key in http.get("/.well-known/jwks.json").json()["keys"]}
    assert served == {old_kid, new_kid}
    jwt.decode(new_token, jwks_key(http, new_token), algorithms=["RS256"], issuer=settings.SITE_URL)
    assert Caller(http, old_token).get("/api/v1/links").status_code == 200
    assert Caller(http, new_token).get("/api/v1/links").status_code == 200

    expired = (timezone.now() - timedelta(seconds=1)).isoformat()
    settings.IDP_OIDC_PRIVATE_KEYS = [new_key, {"pem": current["pem"], "expires_at": expired}]
    _no_token(Caller(http, old_token))
    assert Caller(http, new_token).get("/api/v1/links").status_code == 200
    served = {key["kid"] for key in http.get("/.well-known/jwks.json").json()["keys"]}
    assert served == {new_kid}

    settings.IDP_OIDC_PRIVATE_KEYS = [new_key]
    _no_token(Caller(http, old_token))
