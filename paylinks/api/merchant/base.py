"""What every merchant API operation shares: authentication, scope, rate limit, the
merchant it acts for, cursor pagination, ``Idempotency-Key`` on POST, and ``route()``,
which puts several one-operation views on one path (``GET`` and ``POST /links``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from paylinks.api.errors import ApiError, IdempotencyKeyReused
from paylinks.models import ApiClient, Merchant
from paylinks.services import idempotency

from .auth import ApiClientThrottle, ClientTokenAuthentication, HasScope, api_client_of
from .outputs import render_many

MAX_BODY_BYTES = 64 * 1024
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Makes a retry safe: the first answer is replayed for 24 hours. Up to "
    "255 printable ASCII characters, e.g. a UUID.",
)


class MerchantApi(APIView):
    # One operation of the merchant API; subclasses name the scope they need. (A comment,
    # not a docstring: drf-spectacular would print a docstring as every operation's
    # description.)

    authentication_classes = [ClientTokenAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ApiClientThrottle]
    required_scope: ClassVar[str] = ""
    # A GET of one link (its ``link_id`` in the path) reads the link in the token's own
    # statement; views that change the link read it afresh.
    link_with_token: ClassVar[bool] = False

    def get_authenticators(self) -> list[Any]:
        link_id = self.kwargs.get("link_id") if self.link_with_token else None
        if isinstance(link_id, str):
            return [ClientTokenAuthentication(link_id=link_id)]
        return super().get_authenticators()

    @property
    def api_client(self) -> ApiClient:
        return api_client_of(self.request)

    @property
    def merchant(self) -> Merchant:
        return self.api_client.merchant

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            raise ApiError("payload_too_large", "The request body is too large.", 413)
        super().initial(request, *args, **kwargs)

    def body(self, request: Request) -> Any:
        """The JSON body, ``{}`` when there is none; anything but an object is a 400."""
        if not request.body:
            return {}
        data = request.data
        if not isinstance(data, dict):
            raise ApiError("invalid_request", "The request body must be a JSON object.", 400)
        return data

    def idempotent(self, request: Request, run: Callable[[], tuple[int, Any]]) -> Response:
        """Run a POST once per ``Idempotency-Key`` (when one is sent) and answer with the
        stored response on a retry; see ``paylinks.services.idempotency``."""
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            status_code, body = run()
            return Response(body, status=status_code)
        if len(key) > idempotency.KEY_MAX or not key.isprintable() or not key.isascii():
            raise ApiError(
                "invalid_request",
                f"Idempotency-Key must be 1-{idempotency.KEY_MAX} printable ASCII characters.",
                400,
            )
        try:
            outcome = idempotency.idempotent_call(
                api_client=self.api_client,
                key=key,
                fingerprint=idempotency.fingerprint(
                    request.method or "", request.path, request.body
                ),
                run=run,
            )
        except idempotency.KeyReused:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used for a different request. Use a new "
                "key for each new request, and the same key only to retry the same one."
            ) from None
        response = Response(outcome.body, status=outcome.status_code)
        if outcome.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class Cursor(CursorPagination):
    """Newest first; ``?limit=`` (1-100, default 25) and the opaque ``cursor`` from
    ``next`` / ``previous``."""

    page_size = 25
    max_page_size = 100
    page_size_query_param = "limit"
    ordering = ("-created_at", "-id")
    invalid_cursor_message = "The cursor is not valid: use the next or previous URL as given."

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except Exception:  # DRF raises NotFound: a bad cursor is a bad request here
            raise serializers.ValidationError({"cursor": [self.invalid_cursor_message]}) from None

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise serializers.ValidationError(
                {"limit": [f"limit must be a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)


def paginate(
    view: MerchantApi, queryset: Any, serializer: type[serializers.Serializer]
) -> Response:
    paginator = Cursor()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(render_many(serializer, page))


class Route(APIView):
    # Several one-operation views on one path. Each request goes to the view for its
    # method, which authenticates, checks its scope and runs on its own; a method no view
    # handles answers 405. drf-spectacular reads each operation from the method copied
    # here (with its ``@extend_schema``). Comments, not a docstring: see MerchantApi.

    operations: ClassVar[dict[str, type[MerchantApi]]] = {}
    handlers: ClassVar[dict[str, Callable[..., HttpResponseBase]]] = {}
    authentication_classes = [ClientTokenAuthentication]
    permission_classes: ClassVar[list[Any]] = []
    throttle_classes: ClassVar[list[Any]] = []
    http_method_names = ["get", "post", "patch", "head"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        method = "GET" if request.method == "HEAD" else (request.method or "")
        handler = self.handlers.get(method)
        if handler is None:
            return super().dispatch(request, *args, **kwargs)  # 405 with Allow
        return handler(request, *args, **kwargs)


def route(name: str, *views: type[MerchantApi]) -> type[Route]:
    operations: dict[str, type[MerchantApi]] = {}
    attrs: dict[str, Any] = {"__module__": __name__}
    for view in views:
        for method in ("get", "post", "patch"):
            if hasattr(view, method):
                operations[method.upper()] = view
                attrs[method] = getattr(view, method)
    attrs["operations"] = operations
    attrs["handlers"] = {method: view.as_view() for method, view in operations.items()}
    return type(name, (Route,), attrs)
