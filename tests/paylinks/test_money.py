"""The money rules, table-driven over currencies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paylinks import money

ZERO_DECIMAL = [
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "JPY",
    "KMF",
    "KRW",
    "MGA",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
]
THREE_DECIMAL = ["BHD", "JOD", "KWD", "OMR", "TND"]


@pytest.mark.parametrize("code", ZERO_DECIMAL)
def test_zero_decimal_currencies_have_no_minor_unit(code: str) -> None:
    currency = money.get_currency(code)
    assert currency.exponent == 0
    amount = max(currency.minimum, 1500)
    assert money.parse_major(str(amount), code) == amount
    with pytest.raises(money.MoneyError, match="no fractional part"):
        money.parse_major(f"{amount}.5", code)


@pytest.mark.parametrize("code", THREE_DECIMAL)
def test_three_decimal_currencies_need_multiples_of_ten(code: str) -> None:
    assert money.get_currency(code).exponent == 3
    assert money.parse_major("12.340", code) == 12340
    assert money.parse_major("12.34", code) == 12340
    with pytest.raises(money.MoneyError, match=r"multiple of 0\.010"):
        money.parse_major("12.345", code)
    with pytest.raises(money.MoneyError, match="multiple"):
        money.validate_minor(12345, code)


@pytest.mark.parametrize(
    ("code", "typed", "minor"),
    [
        ("USD", "12.50", 1250),
        ("USD", "12.5", 1250),
        ("USD", "1,234.56", 123456),
        ("EUR", "0.50", 50),
        ("GBP", "0.30", 30),
        ("DKK", "2.50", 250),
        ("JPY", "1500", 1500),
        ("JPY", "1,500", 1500),
        ("KWD", "1.250", 1250),
        ("ISK", "70", 7000),
        ("HUF", "175.50", 17550),
        ("usd", " 7 ", 700),
    ],
)
def test_parse_major_to_minor(code: str, typed: str, minor: int) -> None:
    assert money.parse_major(typed, code) == minor


def test_isk_is_whole_kronur_in_a_two_decimal_representation() -> None:
    assert money.get_currency("ISK").exponent == 2
    with pytest.raises(money.MoneyError, match="no fractional part"):
        money.parse_major("70.50", "ISK")
    with pytest.raises(money.MoneyError, match="multiple of 1"):
        money.validate_minor(7050, "ISK")


@pytest.mark.parametrize(
    ("code", "below"),
    [
        ("USD", "0.49"),
        ("EUR", "0.49"),
        ("GBP", "0.29"),
        ("JPY", "49"),
        ("DKK", "2.49"),
        ("HUF", "174.99"),
    ],
)
def test_minimum_charge_per_currency(code: str, below: str) -> None:
    currency = money.get_currency(code)
    with pytest.raises(money.MoneyError, match="smallest amount"):
        money.parse_major(below, code)
    assert (
        money.parse_major(money.format_major(currency.minimum, code, grouping=False), code)
        == currency.minimum
    )


@pytest.mark.parametrize("code", sorted(money.CURRENCIES))
def test_every_currency_enforces_minimum_maximum_and_step(code: str) -> None:
    currency = money.get_currency(code)
    money.validate_minor(currency.minimum, code)
    money.validate_minor(money.maximum_minor(code), code)
    with pytest.raises(money.MoneyError):
        money.validate_minor(currency.minimum - currency.step, code)
    with pytest.raises(money.MoneyError, match="largest amount"):
        money.validate_minor(money.MAXIMUM_MINOR + 1, code)
    assert currency.minimum % currency.step == 0


@pytest.mark.parametrize(
    "typed", ["1e9", "-5", "", "abc", "12.34.56", "1,23", "+5", "0x10", "NaN", "Infinity", "½"]
)
def test_rejects_anything_but_plain_decimal_notation(typed: str) -> None:
    with pytest.raises(money.MoneyError):
        money.parse_major(typed, "USD")


# Python's int() and Decimal() read any script's digits ("١٢" is 12, fullwidth
# "\uff11\uff12" too): an amount is typed in ASCII digits 0-9 only, or it is refused.
@pytest.mark.parametrize(
    "typed",
    ["١٢", "١٢.٥٠", "１２", "12.５0", "१२", "๑๒", "𝟏𝟐", "1,٠٠٠", "1\n2", "12\x00"],
)
def test_only_ascii_digits_are_an_amount(typed: str) -> None:
    with pytest.raises(money.MoneyError, match="plain number"):
        money.parse_major(typed, "USD")
    with pytest.raises(money.MoneyError, match="plain number"):
        money.parse_major(typed, "USD", charge=False)


def test_too_many_decimals_is_explained_in_merchant_words() -> None:
    with pytest.raises(money.MoneyError, match="at most 2 decimal places"):
        money.parse_major("12.345", "EUR")


def test_unknown_currency() -> None:
    with pytest.raises(money.MoneyError, match="not a currency"):
        money.get_currency("XXX")


@pytest.mark.parametrize(
    ("minor", "code", "shown"),
    [
        (1250, "USD", "12.50 USD"),
        (150000, "JPY", "150,000 JPY"),
        (1250, "KWD", "1.250 KWD"),
        (7000, "ISK", "70 ISK"),
    ],
)
def test_format_money_always_names_the_currency(minor: int, code: str, shown: str) -> None:
    assert money.format_money(minor, code) == shown


def test_to_major_is_exact() -> None:
    assert money.to_major(1999, "USD") == Decimal("19.99")
    assert money.to_major(1999, "JPY") == Decimal(1999)
