"""How Paylinks names things to people: payment methods, card brands, prices, audit actions.

One place per word, so the timeline, the payments list, the home page, filters and
exports all say "SEPA Direct Debit" and "Cash App" the same way. Codes are Stripe's
(``PaymentMethod.type``, ``card.brand``) and Paylinks' own audit actions; an unknown code
still reads as words, never as a raw identifier.
"""

from __future__ import annotations

from paylinks import money
from paylinks.models import AmountType, PaymentLink

#: Stripe's payment method types, as their owners write them.
METHOD_LABELS = {
    "acss_debit": "Canadian pre-authorized debit",
    "affirm": "Affirm",
    "afterpay_clearpay": "Afterpay / Clearpay",
    "alipay": "Alipay",
    "amazon_pay": "Amazon Pay",
    "au_becs_debit": "BECS Direct Debit",
    "bacs_debit": "Bacs Direct Debit",
    "bancontact": "Bancontact",
    "bank_transfer": "Bank transfer",
    "blik": "BLIK",
    "boleto": "Boleto",
    "card": "Card",
    "cashapp": "Cash App",
    "customer_balance": "Bank transfer",
    "eps": "EPS",
    "fpx": "FPX",
    "giropay": "giropay",
    "grabpay": "GrabPay",
    "ideal": "iDEAL",
    "klarna": "Klarna",
    "konbini": "Konbini",
    "link": "Link",
    "mobilepay": "MobilePay",
    "multibanco": "Multibanco",
    "oxxo": "OXXO",
    "p24": "Przelewy24",
    "paynow": "PayNow",
    "paypal": "PayPal",
    "pix": "Pix",
    "promptpay": "PromptPay",
    "revolut_pay": "Revolut Pay",
    "sepa_debit": "SEPA Direct Debit",
    "sofort": "Sofort",
    "swish": "Swish",
    "twint": "TWINT",
    "us_bank_account": "US bank account",
    "wechat_pay": "WeChat Pay",
    "zip": "Zip",
}

#: Stripe's card brands (``card.brand``).
CARD_BRAND_LABELS = {
    "amex": "Amex",
    "cartes_bancaires": "Cartes Bancaires",
    "diners": "Diners Club",
    "discover": "Discover",
    "eftpos_au": "eftpos",
    "interac": "Interac",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}


def _words(code: str) -> str:
    return code.replace("_", " ").replace(".", " ").strip().capitalize()


def method_label(code: str) -> str:
    """``"sepa_debit"`` -> ``"SEPA Direct Debit"``; an unknown type as words."""
    return METHOD_LABELS.get(code) or _words(code)


def card_brand_label(brand: str) -> str:
    return CARD_BRAND_LABELS.get(brand.lower()) or _words(brand)


def payment_method_label(method_type: str, card_brand: str = "", last4: str = "") -> str:
    """ "Visa •••• 4242", "SEPA Direct Debit •••• 3000", "Cash App", or "" when the
    gateway has not said which method was used."""
    name = card_brand_label(card_brand) if card_brand else method_label(method_type)
    if not name:
        return ""
    return f"{name} •••• {last4}" if last4 else name


#: The audit log's actions (``AuditEntry.action``).
ACTION_LABELS = {
    "link.created": "Link created",
    "link.updated": "Link changed",
    "link.activated": "Link activated",
    "link.deactivated": "Link deactivated",
    "member.added": "Member added",
    "member.role_changed": "Role changed",
    "member.removed": "Member removed",
    "merchant.created": "Merchant created",
    "merchant.updated": "Settings changed",
    "payment.refund_requested": "Refund requested",
    "payment.over_limit_refunded": "Refunded beyond the limit",
    "api_client.created": "API client created",
    "api_client.updated": "API client changed",
    "api_client.secret_rotated": "API client secret rotated",
    "api_client.revoked": "API client revoked",
}


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code) or _words(code)


def price_label(link: PaymentLink) -> str:
    """How the console states a link's price: always with its currency."""
    low, high = price_parts(link)
    return f"{low} · {high}" if high else low


def price_parts(link: PaymentLink) -> tuple[str, str]:
    """(the amount or range with its currency, "" or "customer chooses")."""
    if link.amount_type == AmountType.FIXED and link.amount is not None:
        return money.format_money(link.amount, link.currency), ""
    low, high = link.custom_amount_min, link.custom_amount_max
    if low is not None and high is not None:
        span = f"{money.format_major(low, link.currency)}–{money.format_money(high, link.currency)}"
    elif low is not None:
        span = f"from {money.format_money(low, link.currency)}"
    elif high is not None:
        span = f"up to {money.format_money(high, link.currency)}"
    else:
        span = f"any amount in {link.currency}"
    return span, "customer chooses"
