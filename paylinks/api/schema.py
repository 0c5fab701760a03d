"""What the OpenAPI schema says about every operation: the error shape, the errors each
kind of operation can answer, and how the merchant API authenticates (OAuth 2.0 client
credentials, one scope per operation)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from paylinks.models import ApiScope


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: invalid_request, not_found, …")
    message = serializers.CharField(help_text="For people: what went wrong and what to do.")
    field = serializers.CharField(
        required=False, help_text="The request field the error is about, when there is one."
    )


class ErrorOutput(serializers.Serializer):
    error = ErrorDetail()


ERROR_TEXT = {
    400: "The request is not valid (`invalid_request`, `invalid_json`, …); `field` names "
    "the field when there is one.",
    401: "No access token, or one that is malformed, forged, expired or revoked "
    "(`unauthorized`, `invalid_token`); see `WWW-Authenticate`.",
    403: "The token lacks the scope this operation needs (`insufficient_scope`).",
    404: "No such object for this merchant (another merchant's object answers the same).",
    405: "This path does not take this method.",
    409: "The request conflicts with the object's state.",
    410: "The link no longer takes payments.",
    413: "The request body is too large.",
    422: "The Idempotency-Key was already used for a different request.",
    429: "Rate limited: wait the seconds `Retry-After` says.",
    502: "The payment provider refused to start the checkout.",
    503: "Paylinks is briefly unavailable: retry after `Retry-After` seconds.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorOutput, description=ERROR_TEXT[code]) for code in codes}


def page_of(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The schema of one page of a cursor-paginated list of ``item``."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "next": serializers.URLField(
                allow_null=True, help_text="The next page, or null on the last one."
            ),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous page, or null on the first one."
            ),
            "results": item(many=True),
        },
    )


#: What any merchant API operation can answer besides its own outcome.
COMMON = (400, 401, 403, 429, 503)


class ClientTokenScheme(OpenApiAuthenticationExtension):
    target_class = "paylinks.api.merchant.auth.ClientTokenAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "description": (
                "OAuth 2.0 client credentials: POST your client id and secret to the token "
                "URL (HTTP Basic or form fields) with `grant_type=client_credentials`, then "
                "send the JWT as `Authorization: Bearer <token>`."
            ),
            "flows": {
                "clientCredentials": {
                    "tokenUrl": reverse("idp:oidc:token"),
                    "scopes": {scope.value: scope.label for scope in ApiScope},
                }
            },
        }

    def get_security_requirement(self, auto_schema: AutoSchema) -> dict[str, list[str]]:
        view = auto_schema.view
        operation = getattr(view, "operations", {}).get(auto_schema.method, view)
        scope = getattr(operation, "required_scope", "")
        return {self.name: [scope] if scope else []}


def only_paylinks_api(endpoints: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """drf-spectacular preprocessing hook: the paths under /api/v1/ only."""
    return [endpoint for endpoint in endpoints if str(endpoint[0]).startswith("/api/v1/")]
