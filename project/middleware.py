"""Middleware that depends on which part of Paylinks answers: security headers, and the
session, user and messages the public API has no use for."""

import copy
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware as DjangoCSPMiddleware
from django.middleware.csp import get_nonce
from django.utils.csp import CSP, build_policy
from django.utils.deprecation import MiddlewareMixin


class ContentSecurityPolicyMiddleware(DjangoCSPMiddleware):
    """Django's CSP middleware, with the console's looser policy under console paths.

    Unfold's console runs Alpine.js, which needs ``'unsafe-eval'``; public pages (the
    sandbox checkout, API responses, the storefront) keep the strict nonce-based policy.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not hasattr(response, "_csp_config") and request.path.startswith(
            settings.CONSOLE_PATH_PREFIXES
        ):
            response._csp_config = settings.CONSOLE_CSP  # type: ignore[attr-defined]
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
