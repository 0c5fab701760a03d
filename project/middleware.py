"""Middleware that depends on which part of Paylinks answers: security headers, the
session, user and messages the public API has no use for, and requests stopped or
flagged before they reach a view."""

import copy
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware as DjangoCSPMiddleware
from django.middleware.csp import get_nonce
from django.utils.csp import CSP, build_policy
from django.utils.deprecation import MiddlewareMixin
from rest_framework.settings import api_settings

# Where each social provider's sign-in form leads (its authorize page's origin).
PROVIDER_ORIGINS = {"google": "https://accounts.google.com", "github": "https://github.com"}
LOCAL_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*")


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def console_form_action() -> list[str]:
    """``form-action`` for the console: itself, and the authorize page of each sign-in
    provider that is configured (a provider button posts here, then is redirected there).

    Nothing else: not "any https site" (a form injected into a console page could send
    what it collects anywhere), and local ports only under DEBUG.
    """
    providers = settings.SOCIALACCOUNT_PROVIDERS
    origins: list[str | None] = []
    for name, default in PROVIDER_ORIGINS.items():
        if name in providers:
            origins.append(_origin(providers[name].get("GITHUB_URL", default)))
    for app in providers.get("openid_connect", {}).get("APPS", []):
        origins.append(_origin(app.get("settings", {}).get("server_url", "")))
    origins += [_origin(url) for url in settings.PAYLINKS_CONSOLE_FORM_ORIGINS]
    if settings.DEBUG:
        origins += LOCAL_ORIGINS
    return [CSP.SELF, *dict.fromkeys(o for o in origins if o)]


class ContentSecurityPolicyMiddleware(DjangoCSPMiddleware):
    """Django's CSP middleware, with the console's looser policy under console paths.

    Unfold's console runs Alpine.js, which needs ``'unsafe-eval'``; public pages (the
    sandbox checkout, API responses, the storefront) keep the strict nonce-based policy.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not hasattr(response, "_csp_config") and request.path.startswith(
            settings.CONSOLE_PATH_PREFIXES
        ):
            response._csp_config = {  # type: ignore[attr-defined]
                **settings.CONSOLE_CSP,
                "form-action": console_form_action(),
            }
            # Built per response: the console's form-action follows the sign-in settings.
            return super().process_response(request, response)
        if get_nonce(request):
            # A page used its nonce: the policy names it, so it is built for this response.
            return super().process_response(request, response)
        # No nonce (every API answer, every redirect): Django would build the same text
        # from the same settings on every response (4% of a public link read's CPU).
        for header, config in [
            (CSP.HEADER_ENFORCE, getattr(response, "_csp_config", settings.SECURE_CSP)),
            (
                CSP.HEADER_REPORT_ONLY,
                getattr(response, "_csp_ro_config", settings.SECURE_CSP_REPORT_ONLY),
            ),
        ]:
            if config and header not in response:
                response.headers[str(header)] = _policy_without_nonce(config)
        return response


_POLICIES: dict[int, tuple[Mapping[str, Any], str]] = {}


def _policy_without_nonce(config: Mapping[str, Any]) -> str:
    """``build_policy(config)``, built once per policy: keyed by the dict and checked
    against a copy of it, so a changed or replaced setting (tests override them) gets
    its own text."""
    cached = _POLICIES.get(id(config))
    if cached is not None and cached[0] == config:
        return cached[1]
    policy = build_policy(config)
    if len(_POLICIES) >= 32:
        _POLICIES.clear()
    _POLICIES[id(config)] = (copy.deepcopy(config), policy)
    return policy


class RejectNullBytesMiddleware:
    """A NUL byte in the path or the query string never reaches a view.

    PostgreSQL text cannot hold one, so a lookup or an admin search with ``%00`` in it
    would fail in the database driver; SQLite would quietly compare it. Such a path is
    answered like any unknown address (404), such a query string as a bad request (400),
    under ``/api/`` in the API's own error shape. (Form fields already refuse NUL bytes:
    Django's form ``CharField`` validates them.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            return self._refuse(request, 404, "not_found", "Not found.")
        if "\x00" in unquote_plus(request.META.get("QUERY_STRING", "")):
            return self._refuse(request, 400, "invalid_request", "The address is not valid.")
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"error": {"code": code, "message": message}}, status=status)
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


proxy_logger = logging.getLogger("paylinks.proxies")


class UntrustedProxyMiddleware:
    """Says so, once per process and setting, when a request carries X-Forwarded-For while
    Django believes no proxy (``PAYLINKS_TRUSTED_PROXIES`` / ``PAYLINKS_SIGNIN_TRUSTED_PROXIES``
    at 0) outside DEBUG.

    Behind a proxy Django was not told about, ``REMOTE_ADDR`` is the proxy's for every
    client: per-address limits become one limit for everybody, and anyone's failed
    sign-ins lock everyone out for a while. The header alone cannot tell a proxy from a
    client that writes it, so this only logs (an error, naming the setting); the request
    is served as before. ``manage.py check --deploy`` flags the same mistake when
    ``BEHIND_TLS_PROXY`` is on (``paylinks.W010``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.reported: set[str] = set()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_X_FORWARDED_FOR" in request.META and not settings.DEBUG:
            for name, count in untrusted_counts():
                if not count and name not in self.reported:
                    self.reported.add(name)
                    proxy_logger.error(
                        "A request to %s arrived with X-Forwarded-For, but %s=0: Django "
                        "counts every client as REMOTE_ADDR (%s). If a proxy is in front of "
                        "Django, set %s to the number of proxies (usually 1), or per-address "
                        "limits and sign-in lockouts apply to everyone at once; if Django is "
                        "reached directly, a client wrote the header and nothing changes. "
                        "See docs/security.md, 'Proxies and rate limits'.",
                        request.path[:100],
                        name,
                        request.META.get("REMOTE_ADDR", "?"),
                        name,
                    )
        return self.get_response(request)


def untrusted_counts() -> list[tuple[str, int]]:
    """The trusted-proxy counts, by the environment variable that sets each."""
    return [
        ("PAYLINKS_TRUSTED_PROXIES", int(api_settings.NUM_PROXIES or 0)),
        ("PAYLINKS_SIGNIN_TRUSTED_PROXIES", int(settings.ALLAUTH_TRUSTED_PROXY_COUNT or 0)),
    ]


class _NotOnThePublicApi(MiddlewareMixin):
    """Django's middleware, except under ``PUBLIC_API_PREFIX``.

    The public API (what the checkout page calls for every customer) takes no session,
    signs nobody in and shows no messages: its views read neither ``request.session``
    nor ``request.user`` (DRF sets its own ``user``, None, with no authenticators).
    Setting up a session store, a lazy user and a message store for each of its
    requests, then checking on the way out that none was used, is work for nothing on
    the busiest path Paylinks has (docs/scaling.md). Everywhere else, including the
    rest of ``/api/``, these run as Django ships them.
    """

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if request.path.startswith(settings.PUBLIC_API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_NotOnThePublicApi, DjangoSessionMiddleware):
    pass


class AuthenticationMiddleware(_NotOnThePublicApi, DjangoAuthMiddleware):
    pass


class MessageMiddleware(_NotOnThePublicApi, DjangoMessageMiddleware):
    pass
