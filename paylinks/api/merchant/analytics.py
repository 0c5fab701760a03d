"""The analytics summary: money received per currency, payments by status, links.

Deliberately thin: it asks ``dashboards.selectors`` (the console's home page figures)
and writes the answer, so richer analytics selectors can replace the one call.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from dashboards.selectors import overview
from paylinks.api.schema import COMMON, errors
from paylinks.models import ApiScope, Merchant

from .base import MerchantApi
from .outputs import MoneyOutput, money_data, render


class CurrencyTotalOutput(serializers.Serializer):
    currency = serializers.CharField()
    count = serializers.IntegerField(help_text="Payments that took money.")
    amount = MoneyOutput(help_text="Taken, before refunds.")
    refunded = MoneyOutput()
    net = MoneyOutput(help_text="Taken minus refunded.")


class CountOutput(serializers.Serializer):
    value = serializers.CharField(help_text="A payment status or a link state.")
    count = serializers.IntegerField()


class PeriodOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    days = serializers.IntegerField()


class LinksOutput(serializers.Serializer):
    total = serializers.IntegerField()
    by_state = CountOutput(many=True)


class SummaryOutput(serializers.Serializer):
    period = PeriodOutput()
    received = CurrencyTotalOutput(
        many=True, help_text="One entry per currency, never summed across currencies."
    )
    payments_by_status = CountOutput(many=True)
    payment_count = serializers.IntegerField()
    success_rate = serializers.FloatField(
        allow_null=True, help_text="Paid share of the attempts that finished (0-1), or null."
    )
    links = LinksOutput()


class AnalyticsSummaryApi(MerchantApi):
    required_scope = ApiScope.ANALYTICS_READ

    class FilterSerializer(serializers.Serializer):
        days = serializers.IntegerField(
            required=False, min_value=1, max_value=366, default=30, help_text="Length, in days."
        )
        end = serializers.DateTimeField(
            required=False, help_text="End of the period (ISO 8601); default: now."
        )

    OutputSerializer = SummaryOutput

    @extend_schema(
        operation_id="analytics_summary",
        description="Money received per currency (never summed across currencies), payments "
        "by status, the success rate and link counts, over `days` ending at `end`.",
        summary="Totals for a period",
        tags=["Analytics"],
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **errors(*COMMON)},
    )
    def get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days: int = query.validated_data["days"]
        end = query.validated_data.get("end") or timezone.now()
        return Response(render(self.OutputSerializer, summary(self.merchant, days, end)))


def summary(merchant: Merchant, days: int, end: Any) -> dict[str, Any]:
    data = overview(merchants=Merchant.objects.filter(pk=merchant.pk), days=days, now=end)
    return {
        "period": {"start": end - timedelta(days=days), "end": end, "days": days},
        "received": [
            {
                "currency": row.currency,
                "count": row.count,
                "amount": money_data(row.amount, row.currency),
                "refunded": money_data(row.refunded, row.currency),
                "net": money_data(row.net, row.currency),
            }
            for row in data.received
        ],
        "payments_by_status": [{"value": s.status, "count": s.count} for s in data.by_status],
        "payment_count": data.payment_count,
        "success_rate": data.success_rate,
        "links": {
            "total": data.links,
            "by_state": [{"value": s.status, "count": s.count} for s in data.links_by_state],
        },
    }
