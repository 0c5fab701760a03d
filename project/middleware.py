"""Security headers that depend on which part of Paylinks answers, and requests stopped or
flagged before they reach a view."""

import logging
from collections.abc import Callable
from urllib.parse import unquote_plus, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware as DjangoCSPMiddleware
from django.utils.csp import CSP
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
        return super().process_response(request, response)


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
