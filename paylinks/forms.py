"""Forms that turn what merchants type into the values services expect."""

from __future__ import annotations

from typing import Any

from django import forms

from paylinks import money
from paylinks.models import AmountType, PaymentLink
from paylinks.services.links import LINK_FIELDS

# Money fields are typed in major units ("12.50") and stored in minor units (1250).
MONEY_FIELDS = ("amount", "custom_amount_min", "custom_amount_max", "custom_amount_preset")


class PaymentLinkForm(forms.ModelForm):
    amount = forms.CharField(
        required=False,
        label="Amount",
        help_text="As the customer reads it: 12.50 for USD, 1500 for JPY.",
    )
    custom_amount_min = forms.CharField(required=False, label="Minimum amount")
    custom_amount_max = forms.CharField(required=False, label="Maximum amount")
    custom_amount_preset = forms.CharField(required=False, label="Suggested amount")
    # Optional on the form (a form without the quantity fields still saves): empty is 1.
    quantity_min = forms.IntegerField(
        required=False, min_value=1, initial=1, label="Minimum quantity"
    )
    metadata = forms.JSONField(
        required=False,
        initial=dict,
        help_text='Key–value pairs for your own systems, e.g. {"order": "A-1001"}.',
    )

    class Meta:
        model = PaymentLink
        fields = ["merchant", *LINK_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk and instance.currency:
            for name in MONEY_FIELDS:
                value = getattr(instance, name)
                if value is not None and name in self.fields:
                    self.initial[name] = money.format_major(
                        value, instance.currency, grouping=False
                    )
        if instance.pk and instance.payments.exists() and "currency" in self.fields:
            self.fields["currency"].disabled = True
            self.fields["currency"].help_text = "Fixed: this link already has payments."

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        currency = data.get("currency")
        if not currency:
            for name in MONEY_FIELDS:
                data[name] = None
            return data
        wanted = self._money_fields_for(data.get("amount_type"))
        for name in MONEY_FIELDS:
            raw = (
                (data.get(name) or "").strip()
                if isinstance(data.get(name), str)
                else data.get(name)
            )
            if name not in wanted or raw in (None, ""):
                data[name] = None
                continue
            try:
                data[name] = money.parse_major(raw, currency)
            except money.MoneyError as exc:
                self.add_error(name, str(exc))
        if data.get("metadata") is None:
            data["metadata"] = {}
        if data.get("quantity_min") is None and "quantity_min" not in self.errors:
            data["quantity_min"] = 1
        return data

    def _post_clean(self) -> None:
        # Fields that already failed here get no second, model-level message.
        self.instance._skip_clean_fields = set(self.errors)
        super()._post_clean()  # type: ignore[misc]

    @staticmethod
    def _money_fields_for(amount_type: str | None) -> tuple[str, ...]:
        if amount_type == AmountType.CUSTOMER:
            return ("custom_amount_min", "custom_amount_max", "custom_amount_preset")
        return ("amount",)
