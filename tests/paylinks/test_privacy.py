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


def test_email_hash_is_keyed_and_ignores_case_and_spaces(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_EMAIL_HASH_KEY = "key one"
    first = privacy.email_lookup_hash("Ada@Example.test ")
    assert first == privacy.email_lookup_hash("ada@example.test")
    assert len(first) == 64 and "ada" not in first
    assert privacy.email_lookup_hash("") == ""
    settings.PAYLINKS_EMAIL_HASH_KEY = "key two"
    assert privacy.email_lookup_hash("ada@example.test") != first


def test_payload_masks_every_personal_value_and_keeps_the_rest() -> None:
    """A checkout.session.completed as Stripe sends it (trimmed)."""
    payload = {
        "id": "evt_1",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_1",
                "object": "checkout.session",
                "amount_total": 4500,
                "customer_email": "ada@example.test",
                "customer_details": {
                    "email": "ada@example.test",
                    "name": "Ada Lovelace",
                    "phone": "+44 20 7946 0958",
                    "address": {"line1": "12 St James's Sq", "city": "London", "country": "GB"},
                },
                "custom_fields": [{"key": "note", "text": {"value": "call ada@example.test"}}],
                "line_items": [{"name": "Signed first edition"}],
                "payment_intent": "pi_123",
            }
        },
    }
    masked = privacy.mask_payload(payload)
    text = json.dumps(masked)
    for secret in ("ada@example.test", "Ada Lovelace", "7946", "St James", "London"):
        assert secret not in text
    session = masked["data"]["object"]
    assert session["customer_details"] == {
        "email": "a•••@example.test",
        "name": "A. L.",
        "phone": "••• 58",
        "address": {"country": "GB"},
    }
    assert session["custom_fields"][0]["text"]["value"] == "call a•••@example.test"
    # What support needs to follow a payment stays.
    assert (session["id"], session["amount_total"], session["payment_intent"]) == (
        "cs_test_1",
        4500,
        "pi_123",
    )
    assert session["line_items"] == [{"name": "Signed first edition"}]
    assert payload["data"]["object"]["customer_email"] == "ada@example.test"  # a copy
