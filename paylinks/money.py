"""Money rules: every amount in Paylinks is an integer in the currency's minor unit.

This module is the only place that knows how many decimals a currency has, what the
smallest and largest charge are, and how a merchant's "12.50" becomes 1250. Forms,
services, the API and the checkout all go through it.

Sources: Stripe's "Supported currencies" page (zero-decimal and three-decimal lists, the
special cases for ISK and HUF, the minimum charge table, the eight-digit maximum).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Stripe: "The amount value supports up to eight digits".
MAXIMUM_MINOR = 99_999_999


class MoneyError(ValueError):
    """An amount or currency a merchant or customer typed that Paylinks cannot accept.

    The message is written for the person who typed it.
    """


@dataclass(frozen=True)
class Currency:
    code: str
    name: str
    exponent: int
    """Decimal places of the minor unit the gateway API expects (JPY 0, USD 2, KWD 3)."""
    minimum: int
    """Smallest charge, in minor units."""
    display_exponent: int | None = None
    """Decimal places a person may type, when fewer than ``exponent`` (ISK: whole krónur)."""
    step: int = 1
    """Amounts must be a multiple of this many minor units (10 for three-decimal currencies)."""
    minimum_from_stripe: bool = True
    """False where Stripe publishes no minimum and Paylinks uses its own ~US$0.50 floor."""

    @property
    def places(self) -> int:
        return self.exponent if self.display_exponent is None else self.display_exponent


def _two(code: str, name: str, minimum: int) -> Currency:
    return Currency(code, name, 2, minimum)


def _zero(code: str, name: str, minimum: int) -> Currency:
    # Stripe publishes no minimum for these; the floor is Paylinks' estimate of US$0.50.
    return Currency(code, name, 0, minimum, minimum_from_stripe=code == "JPY")


def _three(code: str, name: str, minimum: int) -> Currency:
    # Stripe: three-decimal amounts must be a multiple of 10 minor units.
    return Currency(code, name, 3, minimum, step=10, minimum_from_stripe=False)


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in [
        # Stripe's minimum charge table.
        _two("USD", "US dollar", 50),
        _two("AED", "UAE dirham", 200),
        _two("AUD", "Australian dollar", 50),
        _two("BGN", "Bulgarian lev", 100),
        _two("BRL", "Brazilian real", 50),
        _two("CAD", "Canadian dollar", 50),
        _two("CHF", "Swiss franc", 50),
        _two("CZK", "Czech koruna", 1500),
        _two("DKK", "Danish krone", 250),
        _two("EUR", "Euro", 50),
        _two("GBP", "British pound", 30),
        _two("HKD", "Hong Kong dollar", 400),
        # HUF: two decimals for charges (Stripe treats it as zero-decimal only for payouts).
        _two("HUF", "Hungarian forint", 17500),
        _two("INR", "Indian rupee", 50),
        _two("MXN", "Mexican peso", 1000),
        _two("MYR", "Malaysian ringgit", 200),
        _two("NOK", "Norwegian krone", 300),
        _two("NZD", "New Zealand dollar", 50),
        _two("PLN", "Polish złoty", 200),
        _two("RON", "Romanian leu", 200),
        _two("SEK", "Swedish krona", 300),
        _two("SGD", "Singapore dollar", 50),
        _two("THB", "Thai baht", 1000),
        # Zero-decimal currencies.
        _zero("BIF", "Burundian franc", 1500),
        _zero("CLP", "Chilean peso", 500),
        _zero("DJF", "Djiboutian franc", 100),
        _zero("GNF", "Guinean franc", 4500),
        _zero("JPY", "Japanese yen", 50),
        _zero("KMF", "Comorian franc", 250),
        _zero("KRW", "South Korean won", 700),
        _zero("MGA", "Malagasy ariary", 2500),
        _zero("PYG", "Paraguayan guaraní", 4000),
        _zero("RWF", "Rwandan franc", 700),
        _zero("UGX", "Ugandan shilling", 2000),
        _zero("VND", "Vietnamese đồng", 13000),
        _zero("VUV", "Vanuatu vatu", 60),
        _zero("XAF", "Central African CFA franc", 300),
        _zero("XOF", "West African CFA franc", 300),
        _zero("XPF", "CFP franc", 60),
        # Three-decimal currencies.
        _three("BHD", "Bahraini dinar", 200),
        _three("JOD", "Jordanian dinar", 400),
        _three("KWD", "Kuwaiti dinar", 200),
        _three("OMR", "Omani rial", 200),
        _three("TND", "Tunisian dinar", 1500),
        # ISK: zero-decimal in practice, but Stripe's API keeps a two-decimal representation
        # whose fractional part must be 00 (5 ISK is sent as 500).
        Currency(
            "ISK",
            "Icelandic króna",
            2,
            7000,
            display_exponent=0,
            step=100,
            minimum_from_stripe=False,
        ),
    ]
}

CURRENCY_CHOICES = sorted((c.code, f"{c.code} — {c.name}") for c in CURRENCIES.values())

# ASCII digits only: ``\d``, ``int()`` and ``Decimal()`` also read other scripts' digits
# (Arabic-Indic "١٢" and fullwidth "\uff11\uff12" are 12 to Python), which nobody means
# as an amount here.
_AMOUNT_RE = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?", re.ASCII)


def get_currency(code: str) -> Currency:
    try:
        return CURRENCIES[code.upper()]
    except (KeyError, AttributeError):
        raise MoneyError(f"{code!r} is not a currency Paylinks can charge in.") from None


def parse_major(text: str | int | Decimal, code: str, *, charge: bool = True) -> int:
    """Turn what a person typed ("12.50", "1,500") into minor units, or raise MoneyError.

    Only plain decimal notation is accepted: no signs, exponents ("1e9") or stray text.
    ``charge=False`` is for amounts that are not charges (a partial refund): they keep the
    currency's decimals and step but may be below the smallest charge.
    """
    currency = get_currency(code)
    raw = str(text).strip().replace(" ", "").replace("\u00a0", "")
    match = _AMOUNT_RE.fullmatch(raw)
    if not match:
        raise MoneyError(
            f"Enter the amount as a plain number, like {example(currency)}: "
            "digits with an optional decimal point."
        )
    fraction = (match.group(1) or "").rstrip("0")
    if len(fraction) > currency.places:
        raise MoneyError(_too_many_decimals(currency))
    try:
        major = Decimal(raw.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise MoneyError("Enter a valid amount.") from None
    minor = int(major.scaleb(currency.exponent))
    if charge:
        validate_minor(minor, currency.code)
    elif minor % currency.step:
        raise MoneyError(_not_a_step(currency))
    return minor


def validate_minor(minor: int, code: str) -> None:
    """Check an amount in minor units against the currency's step, minimum and maximum."""
    currency = get_currency(code)
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise MoneyError("The amount must be a whole number of minor units.")
    if minor % currency.step:
        raise MoneyError(_not_a_step(currency))
    if minor < currency.minimum:
        raise MoneyError(
            f"The smallest amount Paylinks can charge in {currency.code} is "
            f"{format_money(currency.minimum, currency.code)}."
        )
    if minor > MAXIMUM_MINOR:
        raise MoneyError(
            f"The largest amount Paylinks can charge in {currency.code} is "
            f"{format_money(maximum_minor(currency.code), currency.code)}."
        )


def maximum_minor(code: str) -> int:
    currency = get_currency(code)
    return MAXIMUM_MINOR - MAXIMUM_MINOR % currency.step


def to_major(minor: int, code: str) -> Decimal:
    return Decimal(minor).scaleb(-get_currency(code).exponent)


def format_major(minor: int, code: str, *, grouping: bool = True) -> str:
    """Minor units as a person reads them: 1250 USD -> "12.50", 150000 JPY -> "150,000"."""
    currency = get_currency(code)
    value = to_major(minor, code)
    pattern = f"{{:{',' if grouping else ''}.{currency.places}f}}"
    return pattern.format(value)


def format_money(minor: int, code: str) -> str:
    """An amount with its currency code, never without: "12.50 USD", "1,500 JPY"."""
    return f"{format_major(minor, code)} {get_currency(code).code}"


def example(currency: Currency) -> str:
    return format_major(max(currency.minimum, 1250 * currency.step), currency.code, grouping=False)


def _too_many_decimals(currency: Currency) -> str:
    if currency.places == 0:
        return (
            f"{currency.code} has no fractional part: enter a whole number, "
            f"like {example(currency)}."
        )
    return f"{currency.code} amounts have at most {currency.places} decimal places."


def _not_a_step(currency: Currency) -> str:
    step = format_major(currency.step, currency.code)
    return f"{currency.code} amounts must be a multiple of {step}."
