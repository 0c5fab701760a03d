"""Security headers that depend on which part of Paylinks answers."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware as DjangoCSPMiddleware


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
        return super().process_response(request, response)
