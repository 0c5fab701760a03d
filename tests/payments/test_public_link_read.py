"""The public link read answers exactly as before its hot path was made cheaper.

``GET /api/v1/public/links/<slug>`` is the busiest request Paylinks serves
(docs/scaling.md). Its short cuts -- content negotiation without parsing the Accept
header every client sends, the per-IP limit reading its address from ``META``, the CSP
header built once per policy -- must not change a single answer: these tests pin the
endpoint's whole contract (methods, Accept variants, headers, limits) and compare each
short cut with the DRF or Django code it stands in for.
"""

from __future__ import annotations

import json

import pytest
from django.utils.csp import CSP, build_policy
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from paylinks.api.negotiation import JSONFirstNegotiation

from ..factories import PaymentLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_limits(settings):  # type: ignore[no-untyped-def]
    settings.PAYLINKS_RATE_LIMITS = {}


@pytest.fixture
def url(acme) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/public/links/{PaymentLinkFactory(merchant=acme).slug}"


def error(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    return response.status_code, response.json()["error"]["code"]


# --- content negotiation ----------------------------------------------------------------
ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "",
    "text/html",
    "application/json; indent=2",
    "application/json, text/html",
    "text/html;q=0.9, */*;q=0.8",
    "application/*",
    "application/xml",
    " application/json",
]
QUERIES = ["", "format=json", "format=xml", "format=api", "x=1"]
RENDERER_LISTS = [
    [JSONRenderer],
    [JSONRenderer, BrowsableAPIRenderer],
    [BrowsableAPIRenderer, JSONRenderer],
]


def negotiate(negotiation, accept, query, renderer_classes):  # type: ignore[no-untyped-def]
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/x?{query}" if query else "/x", **extra))
    renderers = [cls() for cls in renderer_classes]
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except Exception as exc:  # the exception is the answer compared
        return type(exc)
    return type(renderer), media_type


@pytest.mark.parametrize("renderer_classes", RENDERER_LISTS)
@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_negotiation_answers_as_drfs_own(accept, query, renderer_classes) -> None:  # type: ignore[no-untyped-def]
    ours = negotiate(JSONFirstNegotiation(), accept, query, renderer_classes)
    drfs = negotiate(DefaultContentNegotiation(), accept, query, renderer_classes)
    assert ours == drfs


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_what_clients_send_gets_json(client, url, accept) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url, **({} if accept is None else {"HTTP_ACCEPT": accept}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    data = json.loads(response.content)
    assert data["state"] == "active"
    # Compact and UTF-8, as DRF's JSONRenderer writes it.
    assert response.content == json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def test_other_accept_headers_are_negotiated_as_before(client, url) -> None:  # type: ignore[no-untyped-def]
    assert error(client.get(url, HTTP_ACCEPT="text/html")) == (406, "not_acceptable")
    assert error(client.get(url, HTTP_ACCEPT="")) == (406, "not_acceptable")
    pretty = client.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert pretty.status_code == 200
    assert pretty["Content-Type"] == "application/json"
    assert pretty.content.startswith(b'{\n  "slug"')
    assert client.get(f"{url}?format=json").status_code == 200
    assert error(client.get(f"{url}?format=xml")) == (404, "not_found")


# --- methods ------------------------------------------------------------------------
def test_methods(client, url) -> None:  # type: ignore[no-untyped-def]
    head = client.head(url)
    assert head.status_code == 200 and head["Content-Type"] == "application/json"
    options = client.options(url)
    assert options.status_code == 200
    assert options.json() == {
        "name": "Link",
        "description": "",
        "renders": ["application/json"],
        "parses": ["application/json"],
    }
    for method in (client.post, client.put, client.patch, client.delete):
        response = method(url, data="{}", content_type="application/json")
        assert error(response) == (405, "method_not_allowed")
        assert response["Allow"] == "GET, HEAD, OPTIONS"


# --- the per-IP limit ---------------------------------------------------------------
def test_behind_one_trusted_proxy_each_customer_has_their_own_limit(client, url, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_RATE_LIMITS = {"public_ip": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    def read(forwarded: str) -> int:
        return client.get(url, HTTP_X_FORWARDED_FOR=forwarded).status_code

    # The right-most address is the one the trusted proxy saw; what the client wrote
    # to the left of it is not trusted.
    assert [read(f"6.6.6.{n}, 10.0.0.1") for n in range(3)] == [200, 200, 429]
    assert read("10.0.0.2") == 200
    limited = client.get(url, HTTP_X_FORWARDED_FOR="10.0.0.1")
    assert error(limited) == (429, "rate_limited")
    assert 0 < int(limited["Retry-After"]) <= 60


def test_without_a_trusted_proxy_the_header_is_ignored(client, url, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_RATE_LIMITS = {"public_ip": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    codes = [client.get(url, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(3)]
    assert codes == [200, 200, 429]


# --- the CSP header -----------------------------------------------------------------
def test_the_policy_is_djangos_and_follows_the_setting(client, url, settings) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)
    assert "Content-Security-Policy-Report-Only" not in response
    # A changed setting (replaced, or changed in place) is a changed header at once.
    settings.SECURE_CSP = {**settings.SECURE_CSP, "img-src": [CSP.SELF]}
    assert client.get(url)["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)
    settings.SECURE_CSP["img-src"].append("https://img.example.test")
    assert "https://img.example.test" in client.get(url)["Content-Security-Policy"]
    settings.SECURE_CSP_REPORT_ONLY = {"default-src": [CSP.NONE]}
    assert client.get(url)["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    settings.SECURE_CSP = {}
    assert "Content-Security-Policy" not in client.get(url)


def test_a_page_that_uses_its_nonce_still_names_it(rf, settings) -> None:  # type: ignore[no-untyped-def]
    from django.http import HttpResponse

    from project.middleware import ContentSecurityPolicyMiddleware

    def page(request):  # type: ignore[no-untyped-def]
        return HttpResponse(f"<script nonce='{request._csp_nonce}'></script>")

    middleware = ContentSecurityPolicyMiddleware(page)
    first, second = (middleware(rf.get("/shop/")) for _ in range(2))
    nonces = [r.content.decode().split("'")[1] for r in (first, second)]
    assert nonces[0] != nonces[1]
    for response, nonce in zip((first, second), nonces, strict=True):
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_a_view_may_turn_the_policy_off(rf) -> None:  # type: ignore[no-untyped-def]
    from django.http import HttpResponse

    from project.middleware import ContentSecurityPolicyMiddleware

    def page(request):  # type: ignore[no-untyped-def]
        response = HttpResponse("raw")
        response._csp_config = None
        return response

    assert "Content-Security-Policy" not in ContentSecurityPolicyMiddleware(page)(rf.get("/x"))


# --- the plain JSON read (LinkView._plain_json_read) against DRF's dispatch ---------
#: A request that wants plain JSON takes the short path; the same request with another
#: acceptable type listed takes DRF's, which negotiates to the same renderer.
SHORT = {"HTTP_ACCEPT": "application/json"}
DRF = {"HTTP_ACCEPT": "application/json, text/html"}


def answer(response) -> tuple[int, bytes, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    # Every answer carries its own request's id (project/logging.py): the rest must match.
    assert response["X-Request-ID"]
    headers = sorted((k, v) for k, v in response.items() if k != "X-Request-ID")
    return response.status_code, response.content, headers


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"is_active": False, "inactive_message": "Closed for the season."},
        {"expires_at": "past"},
        {"amount_type": "customer", "amount": None, "custom_amount_min": 500, "currency": "JPY"},
        {"title": "Fünf Bücher \u2028 line", "description": "<script>\u2029</script>"},
    ],
)
def test_the_short_path_answers_byte_for_byte_as_drf(client, acme, kwargs) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    if kwargs.get("expires_at") == "past":
        kwargs["expires_at"] = timezone.now() - timedelta(minutes=1)
    url = f"/api/v1/public/links/{PaymentLinkFactory(merchant=acme, **kwargs).slug}"
    short, drf = client.get(url, **SHORT), client.get(url, **DRF)
    assert short.status_code == 200
    assert answer(short) == answer(drf)
    assert answer(client.head(url, **SHORT)) == answer(client.head(url, **DRF))


def test_unknown_links_answer_as_drf(client) -> None:  # type: ignore[no-untyped-def]
    url = "/api/v1/public/links/nope"
    assert answer(client.get(url, **SHORT)) == answer(client.get(url, **DRF))
    assert error(client.get(url, **SHORT)) == (404, "not_found")


def test_limited_reads_answer_as_drf(client, url, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_RATE_LIMITS = {"public_ip": "1/min"}
    assert client.get(url, **SHORT).status_code == 200
    short, drf = client.get(url, **SHORT), client.get(url, **DRF)
    assert error(short) == error(drf) == (429, "rate_limited")
    assert sorted(short.headers) == sorted(drf.headers)
    assert abs(int(short["Retry-After"]) - int(drf["Retry-After"])) <= 1


@pytest.mark.parametrize(
    ("raised", "expected"),
    [("OperationalError", (503, "unavailable")), ("DataError", (400, "invalid_request"))],
)
def test_database_errors_answer_as_drf(client, url, monkeypatch, raised, expected) -> None:  # type: ignore[no-untyped-def]
    from django import db

    from paylinks.api import public

    def fails(slug: str) -> None:
        raise getattr(db, raised)("the database says no")

    monkeypatch.setattr(public, "link_get_public", fails)
    short, drf = client.get(url, **SHORT), client.get(url, **DRF)
    assert error(short) == error(drf) == expected
    assert answer(short) == answer(drf)


def test_an_unexpected_error_is_raised_as_drf_raises_it(client, url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from paylinks.api import public

    def fails(slug: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(public, "link_get_public", fails)
    for headers in (SHORT, DRF):
        with pytest.raises(RuntimeError, match="a bug"):
            client.get(url, **headers)
