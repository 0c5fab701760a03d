"""The masking rule (paylinks/privacy.py) and the e-mail search hash, without a database."""

from __future__ import annotations

import json

import pytest

from paylinks import privacy


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("jane.doe@example.com", "j•••@example.com"),
        ("  J@x.io ", "J•••@x.io"),
        ("not-an-address", "n•••"),
        ("", ""),
    ],
)
def test_email(value: str, masked: str) -> None:
    assert privacy.mask_email(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("Ada Lovelace", "A. L."), ("Liam O'Brien", "L. O."), ("Cher", "C•••"), ("", "")],
)
def test_name_becomes_initials(value: str, masked: str) -> None:
    assert privacy.mask_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("+45 20 12 34 56", "••• 56"), ("(555) 010-0199", "••• 99"), ("", "")],
)
def test_phone_keeps_two_digits(value: str, masked: str) -> None:
    assert privacy.mask_phone(value) == masked


def test_address_keeps_the_country_only() -> None:
    stored = json.dumps(
        {"line1": "Nørrebrogade 12", "postal_code": "2200", "city": "København N", "country": "DK"}
    )
    assert privacy.mask_address(stored) == "•••, DK"
    assert privacy.address_line(stored) == "Nørrebrogade 12, 2200, København N, DK"
    assert privacy.mask_address("") == ""
    assert privacy.mask_address("12 Main Street") == "•••"
