"""One error shape for the whole API: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from paylinks.gateways import GatewayError
from paylinks.services.payments import CheckoutError


class ApiError(exceptions.APIException):
    def __init__(self, code: str, message: str, status_code: int = 400) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.message = message


def error_response(
    code: str,
    message: str,
    status_code: int,
    *,
    retry_after: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    headers = dict(headers or {})
    if retry_after is not None:
        # In the body for the page (the message says it in minutes), and as the header.
        error["retry_after"] = retry_after
        headers["Retry-After"] = str(retry_after)
    response = Response({"error": error}, status=status_code)
    for name, value in headers.items():
        response[name] = value
    return response


def _flatten(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DataError):
        # A value the database refuses (out of range, not storable): bad input that got
        # past validation. The client's fault, so a 400, not "try again"; logged so the
        # missing validation gets noticed.
        logger.warning("Public API: the database refused a value: %s", exc)
        return error_response(
            "invalid_request", "The request contains a value Paylinks cannot store.", 400
        )
    if isinstance(exc, DatabaseError) and not isinstance(exc, IntegrityError):
        # The database is down or overloaded: a retryable 503, never a stack trace.
        logger.exception("Public API: database unavailable")
        return error_response(
            "unavailable",
            "Paylinks is briefly unavailable. Try again in a moment.",
            503,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, CheckoutError):
        return error_response(exc.code, exc.message, exc.status, retry_after=exc.retry_after)
    if isinstance(exc, GatewayError):
        # A gateway call no view caught (or one cut short by the request's deadline): the
        # API's JSON, never a stack trace; 503 when retrying can help, 502 when not.
        logger.warning("Public API: gateway error: %s", exc)
        return error_response(
            "gateway_unavailable",
            "The payment provider did not answer. Please try again.",
            502 if exc.permanent else 503,
        )
    if isinstance(exc, ApiError):
        return error_response(exc.error_code, exc.message, exc.status_code)
    if isinstance(exc, exceptions.Throttled):
        wait = max(int(exc.wait or 1), 1)
        return error_response(
            "rate_limited",
            f"Too many requests. Try again in {wait} seconds.",
            status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
        )
    if isinstance(exc, Http404 | exceptions.NotFound):
        return error_response("not_found", "Not found.", 404)
    if isinstance(exc, exceptions.ParseError):
        return error_response("invalid_json", "The request body is not valid JSON.", 400)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_response("invalid_request", "Send the request body as application/json.", 400)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error_response("method_not_allowed", str(exc.detail), 405)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return error_response("unauthorized", _flatten(exc.detail), 401)
    if isinstance(exc, exceptions.PermissionDenied):
        return error_response("forbidden", _flatten(exc.detail), 403)
    if isinstance(exc, exceptions.ValidationError):
        return error_response("invalid_request", _flatten(exc.detail), 400)
    if isinstance(exc, exceptions.APIException):
        return error_response(exc.default_code, _flatten(exc.detail), exc.status_code)
    return None
