"""The public API runs without Django's session, user and message middleware.

The checkout page's API takes no session and signs nobody in, so
``project.middleware``'s Session-, Authentication- and MessageMiddleware pass its
requests straight on; everywhere else they are Django's own. What the API answers is
pinned in tests/payments/test_public_link_read.py; here, which requests they skip.
"""

from __future__ import annotations

import asyncio

import pytest
from django.http import HttpRequest, HttpResponse

from project.middleware import AuthenticationMiddleware, MessageMiddleware, SessionMiddleware

from ..factories import PaymentLinkFactory

STACK = (SessionMiddleware, AuthenticationMiddleware, MessageMiddleware)


def seen(path: str, rf) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    found: dict[str, bool] = {}

    def view(request: HttpRequest) -> HttpResponse:
        found.update(
            session=hasattr(request, "session"),
            user=hasattr(request, "user"),
            messages=hasattr(request, "_messages"),
        )
        return HttpResponse("ok")

    handler = view
    for middleware in reversed(STACK):
        handler = middleware(handler)
    assert handler(rf.get(path)).status_code == 200
    return found


@pytest.mark.parametrize(
    "path", ["/api/v1/public/links/abc", "/api/v1/public/links/abc/checkout", "/api/v1/public/x"]
)
def test_public_api_requests_get_no_session_user_or_messages(rf, path) -> None:  # type: ignore[no-untyped-def]
    assert seen(path, rf) == {"session": False, "user": False, "messages": False}


@pytest.mark.parametrize("path", ["/admin/", "/accounts/login/", "/api/v1/other", "/shop/", "/"])
def test_everything_else_gets_them(rf, path) -> None:  # type: ignore[no-untyped-def]
    assert seen(path, rf) == {"session": True, "user": True, "messages": True}


def test_under_asgi_too(rf) -> None:  # type: ignore[no-untyped-def]
    async def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(str(hasattr(request, "session")))

    handler = SessionMiddleware(view)
    for path, expected in (("/api/v1/public/links/abc", b"False"), ("/admin/", b"True")):
        response = asyncio.run(handler(rf.get(path)))  # type: ignore[arg-type]
        assert response.content == expected


@pytest.mark.django_db
def test_a_signed_in_cookie_is_not_read_by_the_public_api(client, acme, alice, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_RATE_LIMITS = {}
    settings.PAYLINKS_REQUIRE_MFA = True
    link = PaymentLinkFactory(merchant=acme)
    client.force_login(alice)
    response = client.get(f"/api/v1/public/links/{link.slug}")
    assert response.status_code == 200
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies
    # The console still knows who they are (and sends them to set MFA up).
    assert client.get("/admin/")["Location"] == "/accounts/2fa/totp/activate/"
