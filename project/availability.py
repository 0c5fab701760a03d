"""What keeps a web request answerable when something it depends on is not.

- ``GatewayDeadlineMiddleware``: every gateway call a request makes shares one budget,
  ``PAYLINKS_GATEWAY_DEADLINE_SECONDS``, kept shorter than the web server's worker timeout
  (gunicorn's ``--timeout``, 30 s by default), so a gateway that accepts connections and
  never answers costs a customer an error they can act on, not a killed worker and an
  HTML 500 (docs/operations.md).
- ``server_error`` (``handler500``): with the database unreachable, HTML pages (the
  console, the sandbox's checkout, sign-in) answer a plain 503 page with ``Retry-After``,
  as the API and the webhook endpoint already do, instead of a 500.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from paylinks.gateways import gateway_deadline

from .errors import server_error as styled_server_error

logger = logging.getLogger("paylinks.availability")

RETRY_AFTER_SECONDS = 30


class GatewayDeadlineMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with gateway_deadline(float(settings.PAYLINKS_GATEWAY_DEADLINE_SECONDS)):
            return self.get_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's ``handler500``: a 503 page when the cause is an unreachable database.

    Django calls it for any exception no view or middleware handled, from inside the
    ``except`` block, at whichever layer it was raised (a view, the session middleware
    saving a session, the authentication middleware loading the user). Only
    connection-level failures (``OperationalError``, ``InterfaceError``) become 503 with
    ``Retry-After``; anything else is the ordinary 500 page. Under ``/api/`` the answer
    is in the API's JSON error shape. Neither page needs the database to render.
    """
    exc = sys.exc_info()[1]
    if not isinstance(exc, OperationalError | InterfaceError):
        return styled_server_error(request)
    logger.error("Database unavailable for %s %s: %s", request.method, request.path, exc)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "error": {
                    "code": "unavailable",
                    "message": "Paylinks is briefly unavailable. Try again in a moment.",
                }
            },
            status=503,
        )
    else:
        response = HttpResponse(
            render_to_string("503.html"), status=503, content_type="text/html; charset=utf-8"
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
