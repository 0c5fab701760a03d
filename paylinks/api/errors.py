"""One error shape for the whole API: ``{"error": {"code": ..., "message": ...}}``.

A validation error also names the ``field`` it is about (the first one, when several are
wrong). A 401 carries ``WWW-Authenticate`` (RFC 6750), and so does a 403 for a token that
lacks the scope an operation needs.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
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


class InvalidToken(exceptions.AuthenticationFailed):
    """A bearer token that is malformed, forged, expired or revoked (RFC 6750
    ``invalid_token``)."""


class InsufficientScope(exceptions.PermissionDenied):
    """A valid token without the scope this operation needs."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"This access token lacks the scope {scope}, which this operation needs.")
        self.scope = scope


class IdempotencyKeyReused(exceptions.APIException):
    status_code = 422
    default_code = "idempotency_key_reused"


def error_response(
    code: str,
    message: str,
    status_code: int,
    field: str | None = None,
    *,
    retry_after: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    headers = dict(headers or {})
    if retry_after is not None:
        # In the body for the page (the message says it in minutes), and as the header.
        error["retry_after"] = retry_after
        headers["Retry-After"] = str(retry_after)
    response = Response({"error": error}, status=status_code)
    for name, value in headers.items():
        response[name] = value
    return response


def _first_field(detail: Any, prefix: str = "") -> str | None:
    """The first field a validation error names, dotted for nested ones (``metadata.key``)."""
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        if key in ("non_field_errors", "__all__"):
            return prefix.rstrip(".") or None
        return _first_field(value, f"{prefix}{key}.") or f"{prefix}{key}"
    if isinstance(detail, list) and detail and isinstance(detail[0], dict | list):
        return _first_field(detail[0], prefix)
    return prefix.rstrip(".") or None


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict) and detail:
        return _first_message(next(iter(detail.values())))
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def _bearer(error: str = "", description: str = "", scope: str = "") -> str:
    value = 'Bearer realm="Paylinks API"'
    if error:
        value += f', error="{error}"'
    if description:
        text = description.replace('"', "'").encode("ascii", "replace").decode()
        value += f', error_description="{text}"'
    if scope:
        value += f', scope="{scope}"'
    return value


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
    if isinstance(exc, InvalidToken):
        message = _flatten(exc.detail)
        return error_response(
            "invalid_token",
            message,
            401,
            headers={"WWW-Authenticate": _bearer("invalid_token", message)},
        )
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        headers = {"WWW-Authenticate": _bearer()} if getattr(exc, "auth_header", None) else {}
        return error_response("unauthorized", _flatten(exc.detail), 401, headers=headers)
    if isinstance(exc, InsufficientScope):
        message = _flatten(exc.detail)
        return error_response(
            "insufficient_scope",
            message,
            403,
            headers={"WWW-Authenticate": _bearer("insufficient_scope", message, exc.scope)},
        )
    if isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
        detail = exc.detail if isinstance(exc, exceptions.PermissionDenied) else str(exc)
        return error_response("forbidden", _flatten(detail), 403)
    if isinstance(exc, IdempotencyKeyReused):
        return error_response(exc.default_code, _flatten(exc.detail), 422)
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(exc.detail, dict):
            return error_response(
                "invalid_request", _first_message(exc.detail), 400, _first_field(exc.detail)
            )
        return error_response("invalid_request", _flatten(exc.detail), 400)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            field, problems = next(iter(exc.message_dict.items()))
            return error_response(
                "invalid_request",
                problems[0],
                400,
                None if field == "__all__" else field,
            )
        return error_response("invalid_request", " ".join(exc.messages), 400)
    if isinstance(exc, exceptions.APIException):
        return error_response(exc.default_code, _flatten(exc.detail), exc.status_code)
    return None
