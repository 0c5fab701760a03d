"""Security headers that depend on which part of Paylinks answers."""

from collections.abc import Callable
from urllib.parse import unquote_plus, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware as DjangoCSPMiddleware
from django.utils.csp import CSP

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
