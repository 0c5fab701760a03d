"""Payment links: create, list, retrieve, update, activate/deactivate, QR code."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from paylinks import money
from paylinks.api.errors import ApiError
from paylinks.api.schema import COMMON, errors
from paylinks.models import AfterPayment, AmountType, ApiScope, LinkState, PaymentLink
from paylinks.models.links import QUANTITY_CEILING
from paylinks.qr import qr_png, qr_svg
from paylinks.selectors.links import link_get_for_merchant, links_of_merchant
from paylinks.services import links as link_services

from .auth import link_read_with_token
from .base import IDEMPOTENCY_KEY, MerchantApi, paginate
from .outputs import LinkOutput, LinkPage, render

TAGS = ["Payment links"]
AMOUNT_MAX = 10**15  # far above any currency's maximum, far below a database overflow
LINK_ID = OpenApiParameter(
    "link_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The link's id (its `id`)."
)


def _link(view: MerchantApi, link_id: str) -> PaymentLink:
    read, link = (
        link_read_with_token(view.request, link_id) if view.link_with_token else (False, None)
    )
    if not read:
        link = link_get_for_merchant(view.merchant, link_id)
    if link is None:
        raise ApiError("not_found", "No payment link with this id.", 404)
    return link


def amount_field(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=AMOUNT_MAX, help_text=help_text
    )


class LinkFields(serializers.Serializer):
    """What a merchant sets on a link; amounts in the currency's minor unit."""

    title = serializers.CharField(max_length=120, help_text="What the customer pays for.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    currency = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217, e.g. USD.")
    amount_type = serializers.ChoiceField(choices=AmountType.choices, required=False)
    amount = amount_field("The price, for amount_type fixed: 2500 is USD 25.00.")
    custom_amount_min = amount_field("For amount_type customer: the least a customer may pay.")
    custom_amount_max = amount_field("For amount_type customer: the most a customer may pay.")
    custom_amount_preset = amount_field("For amount_type customer: the pre-filled amount.")
    quantity_enabled = serializers.BooleanField(
        required=False,
        help_text="For amount_type fixed: the customer chooses how many units to buy; the "
        "total is amount x quantity, and payment_limit counts units.",
    )
    quantity_min = serializers.IntegerField(
        required=False, min_value=1, max_value=QUANTITY_CEILING, help_text="Default 1."
    )
    quantity_max = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=QUANTITY_CEILING,
        help_text=f"Null: up to {QUANTITY_CEILING} (or as many as the largest charge allows).",
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="ISO 8601 with a time zone."
    )
    payment_limit = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**31 - 1,
        help_text="Stop after this many payments (units, when quantity_enabled).",
    )
    inactive_message = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    after_payment = serializers.ChoiceField(choices=AfterPayment.choices, required=False)
    confirmation_message = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    redirect_url = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    collect_name = serializers.BooleanField(required=False)
    collect_phone = serializers.BooleanField(required=False)
    collect_billing_address = serializers.BooleanField(required=False)
    metadata = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=500),
        required=False,
        help_text="Up to 47 key–value pairs (text) for your own systems.",
    )

    def validate_currency(self, value: str) -> str:
        try:
            return money.get_currency(value).code
        except money.MoneyError as exc:
            raise serializers.ValidationError(str(exc)) from None


class LinkListApi(MerchantApi):
    required_scope = ApiScope.LINKS_READ

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=LinkState.choices, required=False)
        currency = serializers.CharField(required=False, min_length=3, max_length=3)
        cursor = serializers.CharField(required=False, help_text="From `next` or `previous`.")
        limit = serializers.IntegerField(required=False, min_value=1, max_value=100)

    OutputSerializer = LinkOutput

    @extend_schema(
        operation_id="links_list",
        description="Newest first, a page at a time (follow `next`).",
        summary="List payment links",
        tags=TAGS,
        parameters=[FilterSerializer],
        responses={200: LinkPage, **errors(*COMMON)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        links: QuerySet[Any] = links_of_merchant(self.merchant).select_related("merchant")
        if state := filters.validated_data.get("state"):
            links = links.filter(state=state)
        if currency := filters.validated_data.get("currency"):
            links = links.filter(currency=currency.upper())
        return paginate(self, links, self.OutputSerializer)


class LinkCreateApi(MerchantApi):
    required_scope = ApiScope.LINKS_WRITE

    @extend_schema_serializer(component_name="LinkCreateInput")
    class InputSerializer(LinkFields):
        pass

    OutputSerializer = LinkOutput

    @extend_schema(
        operation_id="links_create",
        description="Amounts in the currency's minor unit: 2500 is USD 25.00, 1500 is "
        "JPY 1,500. Send an Idempotency-Key to make a retry safe.",
        summary="Create a payment link",
        tags=TAGS,
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: OutputSerializer, **errors(*COMMON, 413, 422)},
    )
    def post(self, request: Request) -> Response:
        def run() -> tuple[int, Any]:
            data = self.InputSerializer(data=self.body(request))
            data.is_valid(raise_exception=True)
            link = link_services.payment_link_create(
                merchant=self.merchant,
                actor=None,
                api_client=self.api_client,
                **data.validated_data,
            )
            link.completed_count = 0  # type: ignore[attr-defined] # a new link: none paid yet
            return 201, render(self.OutputSerializer, link)

        return self.idempotent(request, run)


class LinkRetrieveApi(MerchantApi):
    required_scope = ApiScope.LINKS_READ
    link_with_token = True
    OutputSerializer = LinkOutput

    @extend_schema(
        operation_id="links_retrieve",
        description="With its `state` as a customer meets it and `completed_payments`.",
        summary="Retrieve a payment link",
        tags=TAGS,
        parameters=[LINK_ID],
        responses={200: OutputSerializer, **errors(*COMMON, 404)},
    )
    def get(self, request: Request, link_id: str) -> Response:
        return Response(render(self.OutputSerializer, _link(self, link_id)))


class LinkUpdateApi(MerchantApi):
    required_scope = ApiScope.LINKS_WRITE

    @extend_schema_serializer(component_name="LinkUpdateInput")
    class InputSerializer(LinkFields):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, partial=True, **kwargs)

    OutputSerializer = LinkOutput

    @extend_schema(
        operation_id="links_update",
        summary="Change a payment link",
        description="Send only the fields to change. The currency is fixed once the link "
        "has payments.",
        tags=TAGS,
        parameters=[LINK_ID],
        request=InputSerializer,
        responses={200: OutputSerializer, **errors(*COMMON, 404, 413)},
    )
    def patch(self, request: Request, link_id: str) -> Response:
        link = _link(self, link_id)
        data = self.InputSerializer(data=self.body(request))
        data.is_valid(raise_exception=True)
        link_services.payment_link_update(
            link=link, actor=None, api_client=self.api_client, **data.validated_data
        )
        return Response(render(self.OutputSerializer, _link(self, link_id)))


class LinkDeactivateApi(MerchantApi):
    required_scope = ApiScope.LINKS_WRITE

    @extend_schema_serializer(component_name="LinkDeactivateInput")
    class InputSerializer(serializers.Serializer):
        message = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=2000,
            help_text="What customers who open the link read; default: the link's own.",
        )

    OutputSerializer = LinkOutput

    @extend_schema(
        operation_id="links_deactivate",
        description="Customers who open it see `message` (or the link's own) instead of a "
        "payment form.",
        summary="Stop a link from taking payments",
        tags=TAGS,
        parameters=[LINK_ID, IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={200: OutputSerializer, **errors(*COMMON, 404, 413, 422)},
    )
    def post(self, request: Request, link_id: str) -> Response:
        def run() -> tuple[int, Any]:
            link = _link(self, link_id)
            data = self.InputSerializer(data=self.body(request))
            data.is_valid(raise_exception=True)
            link_services.payment_link_deactivate(
                link=link,
                actor=None,
                api_client=self.api_client,
                message=data.validated_data.get("message") or None,
            )
            return 200, render(self.OutputSerializer, _link(self, link_id))

        return self.idempotent(request, run)


class LinkActivateApi(MerchantApi):
    required_scope = ApiScope.LINKS_WRITE
    OutputSerializer = LinkOutput

    @extend_schema(
        operation_id="links_activate",
        description="Undoes a deactivation; an expired or sold-out link stays so.",
        summary="Let a deactivated link take payments again",
        tags=TAGS,
        parameters=[LINK_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={200: OutputSerializer, **errors(*COMMON, 404, 413, 422)},
    )
    def post(self, request: Request, link_id: str) -> Response:
        def run() -> tuple[int, Any]:
            link = _link(self, link_id)
            link_services.payment_link_activate(link=link, actor=None, api_client=self.api_client)
            return 200, render(self.OutputSerializer, _link(self, link_id))

        return self.idempotent(request, run)


class FirstRenderer(BaseContentNegotiation):
    # Images are answered as images whatever ``Accept`` says; errors as JSON.

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class LinkQrApi(MerchantApi):
    required_scope = ApiScope.LINKS_READ
    link_with_token = True
    content_negotiation_class = FirstRenderer
    kind = "svg"
    media_type = "image/svg+xml"

    def image(self, link: PaymentLink) -> HttpResponse:
        draw = qr_svg if self.kind == "svg" else qr_png
        response = HttpResponse(draw(link.public_url), content_type=self.media_type)
        name = f"paylinks-{slugify(link.title)[:40] or 'link'}-qr.{self.kind}"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        response["Cache-Control"] = "private, max-age=300"
        return response


class LinkQrSvgApi(LinkQrApi):
    @extend_schema(
        operation_id="links_qr_svg",
        description="Encodes the link's `url`; for print.",
        summary="The link's QR code as SVG",
        tags=TAGS,
        parameters=[LINK_ID],
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, description="SVG"),
            **errors(*COMMON, 404),
        },
    )
    def get(self, request: Request, link_id: str) -> HttpResponse:
        return self.image(_link(self, link_id))


class LinkQrPngApi(LinkQrApi):
    kind, media_type = "png", "image/png"

    @extend_schema(
        operation_id="links_qr_png",
        description="Encodes the link's `url`; 10 pixels per module.",
        summary="The link's QR code as PNG",
        tags=TAGS,
        parameters=[LINK_ID],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="PNG"),
            **errors(*COMMON, 404),
        },
    )
    def get(self, request: Request, link_id: str) -> HttpResponse:
        return self.image(_link(self, link_id))
