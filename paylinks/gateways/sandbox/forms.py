"""The sandbox checkout's forms: card and SEPA debit, with Stripe-like field checks."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms

from .cards import TestInstrument, card_for, iban_for, normalise_number
from .models import SandboxSession

_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*$")


class CustomerFields(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)

    def __init__(self, *args: Any, session: SandboxSession, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        if session.customer_email:
            self.fields["email"].initial = session.customer_email
        if session.collect_phone:
            self.fields["phone"] = forms.CharField(label="Phone", max_length=40)
        if session.collect_billing_address:
            self.fields["address_line1"] = forms.CharField(label="Address", max_length=200)
            self.fields["address_city"] = forms.CharField(label="City", max_length=100)
            self.fields["address_postal_code"] = forms.CharField(label="Postal code", max_length=20)
            self.fields["address_country"] = forms.CharField(
                label="Country", max_length=2, min_length=2, help_text="Two letters, e.g. DK"
            )

    def address(self) -> dict[str, str] | None:
        if not self.session.collect_billing_address:
            return None
        data = self.cleaned_data
        return {
            "line1": data["address_line1"],
            "line2": "",
            "city": data["address_city"],
            "postal_code": data["address_postal_code"],
            "country": data["address_country"].upper(),
            "state": "",
        }


class CardForm(CustomerFields):
    number = forms.CharField(label="Card number", max_length=23)
    expiry = forms.CharField(label="Expiry", max_length=7, help_text="MM / YY")
    cvc = forms.CharField(label="CVC", max_length=4)
    name = forms.CharField(label="Name on card", max_length=200)

    field_order = ["email", "number", "expiry", "cvc", "name"]

    def clean_number(self) -> str:
        number = normalise_number(self.cleaned_data["number"])
        if not (number.isascii() and number.isdigit()):
            raise forms.ValidationError("Your card number is incomplete.")
        if card_for(number) is None:
            raise forms.ValidationError(
                "This is not a test card. The sandbox accepts only Stripe's test numbers, "
                "such as 4242 4242 4242 4242."
            )
        return number

    def clean_expiry(self) -> tuple[int, int]:
        match = _EXPIRY.match(self.cleaned_data["expiry"])
        if not match:
            raise forms.ValidationError("Enter the expiry as MM / YY.")
        month, year = int(match.group(1)), int(match.group(2))
        year = year + 2000 if year < 100 else year
        if not 1 <= month <= 12:
            raise forms.ValidationError("Your card's expiration month is invalid.")
        today = date.today()
        if (year, month) < (today.year, today.month):
            raise forms.ValidationError("Your card's expiration date is in the past.")
        return month, year

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        instrument = self.instrument
        cvc = (data.get("cvc") or "").strip()
        wanted = 4 if instrument is not None and instrument.brand == "amex" else 3
        if "cvc" in data and (not (cvc.isascii() and cvc.isdigit()) or len(cvc) != wanted):
            self.add_error("cvc", f"Your card's security code is {wanted} digits.")
        return data

    @property
    def instrument(self) -> TestInstrument | None:
        number = self.cleaned_data.get("number") if hasattr(self, "cleaned_data") else None
        return card_for(number) if number else None

    @property
    def last4(self) -> str:
        return str(self.cleaned_data["number"])[-4:]


class SepaForm(CustomerFields):
    name = forms.CharField(label="Name", max_length=200)
    iban = forms.CharField(label="IBAN", max_length=42)

    field_order = ["email", "name", "iban"]

    def clean_iban(self) -> str:
        iban = normalise_number(self.cleaned_data["iban"]).upper()
        if iban_for(iban) is None:
            raise forms.ValidationError(
                "This is not a test IBAN. Use one of Stripe's test IBANs, such as "
                "DE89370400440532013000."
            )
        return iban

    @property
    def instrument(self) -> TestInstrument:
        instrument = iban_for(self.cleaned_data["iban"])
        assert instrument is not None
        return instrument

    @property
    def last4(self) -> str:
        return str(self.cleaned_data["iban"])[-4:]
