"""The book page's editing form: prices typed as people read them, choices scoped to the
page's merchant."""

from __future__ import annotations

from typing import Any

from django import forms
from wagtail.admin.forms import WagtailAdminPageForm

from paylinks import money
from paylinks.models import Merchant, PaymentLink


class BookPageForm(WagtailAdminPageForm):
    """Editors type "12.50", the page stores 1250 (the currency's minor unit); the category
    and payment-link choices list only the shop's merchant's own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.merchant = self._merchant()
        instance = self.instance
        self.fields["price"] = forms.CharField(
            label="Price",
            required=False,
            help_text=self.fields["price"].help_text + " Type it as customers read it: 12.50.",
            initial=(
                money.format_major(instance.price, instance.currency, grouping=False)
                if instance.price is not None and instance.currency
                else None
            ),
        )
        if not self.is_bound and instance.price is not None and instance.currency:
            self.initial["price"] = self.fields["price"].initial
        scope: dict[str, Any] = {"merchant": self.merchant} if self.merchant else {"pk__in": []}
        categories = self.fields["categories"]
        categories.queryset = categories.queryset.model.objects.filter(**scope)
        links = self.fields["payment_link"]
        links.queryset = PaymentLink.objects.filter(**scope)

    def _merchant(self) -> Merchant | None:
        holder = self.instance if self.instance.pk else getattr(self, "parent_page", None)
        holder = holder.specific if holder is not None else None
        return getattr(holder, "merchant", None)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        text = (cleaned.get("price") or "").strip() if isinstance(cleaned.get("price"), str) else ""
        currency = cleaned.get("currency") or ""
        cleaned["price"] = None
        if text and currency:
            try:
                cleaned["price"] = money.parse_major(text, currency)
            except money.MoneyError as exc:
                self.add_error("price", str(exc))
        link = cleaned.get("payment_link")
        if link is not None:
            self._check_link(link, currency)
        return cleaned

    def _check_link(self, link: PaymentLink, currency: str) -> None:
        owner = type(self.instance).objects.filter(payment_link=link).exclude(pk=self.instance.pk)
        if owner.exists():
            self.add_error("payment_link", f"“{owner.first()}” already sells with this link.")
        elif currency and link.currency != currency and link.payments.exists():
            self.add_error(
                "currency",
                f"The payment link already has payments in {link.currency}, so this book's "
                "currency stays the link's.",
            )
