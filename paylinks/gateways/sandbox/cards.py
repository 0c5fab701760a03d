"""Stripe's published test instruments and the outcome each one produces.

Only these numbers work in the sandbox; anything else is refused, so a real card number
typed by mistake is never accepted (and never stored: only brand and last four are kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    AUTHENTICATE = "authenticate"  # 3-D Secure: the customer passes or fails a challenge
    SETTLE = "settle"  # delayed method that succeeds later
    FAIL_LATER = "fail_later"  # delayed method that fails later


@dataclass(frozen=True)
class TestInstrument:
    brand: str
    outcome: Outcome
    error_code: str = ""
    decline_code: str = ""
    message: str = ""


GENERIC_DECLINE = "Your card was declined."
AUTHENTICATION_FAILED = (
    "We are unable to authenticate your payment method. "
    "Please choose a different payment method and try again."
)

CARDS: dict[str, TestInstrument] = {
    "4242424242424242": TestInstrument("visa", Outcome.SUCCEED),
    "4000056655665556": TestInstrument("visa", Outcome.SUCCEED),  # Visa debit
    "5555555555554444": TestInstrument("mastercard", Outcome.SUCCEED),
    "2223003122003222": TestInstrument("mastercard", Outcome.SUCCEED),
    "378282246310005": TestInstrument("amex", Outcome.SUCCEED),
    "6011111111111117": TestInstrument("discover", Outcome.SUCCEED),
    "4000000000000002": TestInstrument(
        "visa", Outcome.DECLINE, "card_declined", "generic_decline", GENERIC_DECLINE
    ),
    "4000000000009995": TestInstrument(
        "visa",
        Outcome.DECLINE,
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "4000000000000069": TestInstrument(
        "visa", Outcome.DECLINE, "expired_card", "expired_card", "Your card has expired."
    ),
    "4000000000000127": TestInstrument(
        "visa",
        Outcome.DECLINE,
        "incorrect_cvc",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
    ),
    "4000002500003155": TestInstrument("visa", Outcome.AUTHENTICATE),
    "4000000000003155": TestInstrument("visa", Outcome.AUTHENTICATE),
}

IBANS: dict[str, TestInstrument] = {
    "DE89370400440532013000": TestInstrument("sepa_debit", Outcome.SETTLE),
    "DE62370400440532013001": TestInstrument(
        "sepa_debit",
        Outcome.FAIL_LATER,
        "payment_method_provider_decline",
        "insufficient_funds",
        "The bank declined the SEPA Direct Debit.",
    ),
}


def normalise_number(raw: str) -> str:
    return "".join(ch for ch in raw if not ch.isspace() and ch != "-")


def card_for(number: str) -> TestInstrument | None:
    return CARDS.get(normalise_number(number))


def iban_for(iban: str) -> TestInstrument | None:
    return IBANS.get(normalise_number(iban).upper())
