"""Customers' personal details: how they are shown masked.

One place for the masking rule, so the payments list, the payment page, exports, the
webhook inbox and the audit log hide the same things the same way:

- e-mail: first character, dots, the domain (``j•••@example.com``);
- name: initials (``J. D.``);
- phone: the last two digits (``••• 56``);
- billing address: the country only.

*Who* sees what masked is decided in ``paylinks.permissions``; this module only knows how.

A payment is found by its customer's exact e-mail through the keyed hash stored beside
the encrypted address (``paylinks.crypto.email_search_hash``), never by decrypting rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DOTS = "•••"

_EMAIL = re.compile(r"[^@\s\"'<>]+@[^@\s\"'<>]+\.[^@\s\"'<>]+")


def looks_like_email(text: str) -> bool:
    return bool(_EMAIL.fullmatch((text or "").strip()))


def mask_email(value: str) -> str:
    """``jane.doe@example.com`` -> ``j•••@example.com``; text without a domain -> ``j•••``."""
    value = (value or "").strip()
    if not value:
        return ""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return mask_text(value)
    return f"{local[0]}{DOTS}@{domain}"


def mask_text(value: str) -> str:
    """Any other personal text: its first character and dots."""
    value = (value or "").strip()
    return f"{value[0]}{DOTS}" if value else ""


def mask_name(value: str) -> str:
    """``Jane van Doe`` -> ``J. v. D.``; a single name -> ``J•••``."""
    words = (value or "").split()
    if len(words) < 2:
        return mask_text(value)
    return " ".join(f"{word[0]}." for word in words)


def mask_phone(value: str) -> str:
    """``+45 20 12 34 56`` -> ``••• 56``: the last two digits only."""
    digits = re.sub(r"\D", "", value or "")
    if not digits:
        return mask_text(value)
    return f"{DOTS} {digits[-2:]}"


def address_of(raw: Any) -> dict[str, Any] | None:
    """The gateway's address object, from the stored JSON text or a dict."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


ADDRESS_PARTS = ("line1", "line2", "postal_code", "city", "state", "country")


def address_line(raw: Any) -> str:
    """The address as one readable line (text that is not an address object, as it is)."""
    address = address_of(raw)
    if address is None:
        return str(raw or "")
    return ", ".join(str(address[p]) for p in ADDRESS_PARTS if address.get(p))


def mask_address(raw: Any) -> str:
    """Only the country of an address (``DK``); dots if it names none."""
    address = address_of(raw)
    if address is None:
        return DOTS if raw else ""
    country = str(address.get("country") or "").strip()
    if country:
        return f"{DOTS}, {country}"
    return DOTS if any(address.get(p) for p in ADDRESS_PARTS) else ""


@dataclass(frozen=True)
class CustomerDetails:
    """A payment's customer as one person may see it: in full or masked."""

    email: str
    name: str
    phone: str
    address: str
    masked: bool

    @property
    def any(self) -> bool:
        return bool(self.email or self.name or self.phone or self.address)


def customer_details(payment: Any, *, full: bool) -> CustomerDetails:
    """The four personal fields of ``payment``, as they may be shown."""
    if full:
        return CustomerDetails(
            email=payment.customer_email or "",
            name=payment.customer_name or "",
            phone=payment.customer_phone or "",
            address=address_line(payment.billing_address),
            masked=False,
        )
    return CustomerDetails(
        email=mask_email(payment.customer_email),
        name=mask_name(payment.customer_name),
        phone=mask_phone(payment.customer_phone),
        address=mask_address(payment.billing_address),
        masked=True,
    )


# --- gateway payloads -------------------------------------------------------------------
# Keys whose values are a person's, wherever they appear in a gateway's JSON (Stripe's
# customer_details, billing_details, shipping, receipt_email, ...).
_EMAIL_KEYS = frozenset({"email", "customer_email", "receipt_email"})
_PHONE_KEYS = frozenset({"phone"})
_ADDRESS_KEYS = frozenset({"address"})
# "name" is personal only inside these objects (elsewhere it names a product or a field).
_PERSON_OBJECTS = frozenset(
    {"customer_details", "billing_details", "shipping", "shipping_details", "owner",
     "collected_information", "individual", "customer"}
)  # fmt: skip


def mask_payload(value: Any, *, parent: str = "") -> Any:
    """A copy of a gateway payload with every personal value masked.

    Masks e-mail, phone and address values by key, names inside the objects that
    describe a person, and anything else that looks like an e-mail address (a custom
    field, metadata). Ids, amounts, statuses and codes stay as they are.
    """
    if isinstance(value, Mapping):
        return {key: _mask_entry(str(key), item, parent) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_payload(item, parent=parent) for item in value]
    if isinstance(value, str) and _EMAIL.search(value):
        return _EMAIL.sub(lambda found: mask_email(found.group(0)), value)
    return value


def _mask_entry(key: str, item: Any, parent: str) -> Any:
    if item is None or item == "":
        return item
    if key in _EMAIL_KEYS and isinstance(item, str):
        return mask_email(item)
    if key in _PHONE_KEYS and isinstance(item, str):
        return mask_phone(item)
    if key in _ADDRESS_KEYS and isinstance(item, Mapping):
        return {"country": item.get("country")} if item.get("country") else {}
    if key in _ADDRESS_KEYS and isinstance(item, str):
        return mask_address(item)
    if key == "name" and parent in _PERSON_OBJECTS and isinstance(item, str):
        return mask_name(item)
    return mask_payload(item, parent=key)
