"""How Paylinks names things to people: payment methods, card brands, prices, declines,
audit actions.

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


#: Why an attempt or a payment failed, by Stripe's decline and error codes (and Paylinks'
#: own ``gateway_error``), as the analytics' "why attempts fail" chart names them.
FAILURE_LABELS = {
    "insufficient_funds": "Insufficient funds",
    "expired_card": "Expired card",
    "generic_decline": "Card declined",
    "card_declined": "Card declined",
    "incorrect_cvc": "Incorrect security code",
    "incorrect_number": "Incorrect card number",
    "lost_card": "Card reported lost",
    "stolen_card": "Card reported stolen",
    "fraudulent": "Suspected fraud",
    "do_not_honor": "Card declined by the bank",
    "processing_error": "Processing error",
    "payment_intent_authentication_failure": "3-D Secure failed",
    "authentication_required": "3-D Secure required",
    "payment_method_provider_decline": "Bank declined the payment",
    "payment_intent_payment_attempt_expired": "Voucher not paid in time",
    "gateway_error": "Payment provider unavailable",
}


def failure_label(code: str, method: str = "") -> str:
    """ "Insufficient funds"; a failed delayed method by its name ("SEPA Direct Debit
    failed"); an unknown code as words."""
    if code == "payment_method_provider_decline" and method:
        return f"{method_label(method)} failed"
    return FAILURE_LABELS.get(code) or _words(code) or "Declined, no reason given"


#: The final outcomes that are not payments: the analytics' other failure reasons.
OUTCOME_LABELS = {
    "expired": "Abandoned: checkout expired",
    "canceled": "Abandoned: customer canceled",
}


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
    "payment.customer_revealed": "Customer details revealed",
    "webhook.reprocessed": "Webhook event reprocessed",
    "auth.signed_in": "Signed in",
    "auth.sign_in_failed": "Sign-in failed",
    "api_client.created": "API client created",
    "api_client.updated": "API client changed",
    "api_client.secret_rotated": "API client secret rotated",
    "api_client.revoked": "API client revoked",
}

#: Groups of actions the audit log can be filtered by at once (value: (label, actions)).
ACTION_GROUPS = {
    "refunds": ("All refunds", ("payment.refund_requested", "payment.over_limit_refunded")),
    "sign_ins": ("All sign-ins and failures", ("auth.signed_in", "auth.sign_in_failed")),
    "support": (
        "All support access",
        ("payment.customer_revealed", "webhook.reprocessed"),
    ),
}


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code) or _words(code)


#: Why a gateway declined an attempt: Stripe's ``decline_code`` and error ``code`` values.
DECLINE_LABELS = {
    "authentication_required": "authentication required",
    "card_declined": "card declined",
    "card_not_supported": "card not supported",
    "card_velocity_exceeded": "card limit exceeded",
    "currency_not_supported": "currency not supported by the card",
    "do_not_honor": "declined by the bank",
    "expired_card": "expired card",
    "fraudulent": "declined as suspected fraud",
    "generic_decline": "declined by the bank",
    "incorrect_cvc": "incorrect security code",
    "incorrect_number": "incorrect card number",
    "insufficient_funds": "insufficient funds",
    "invalid_account": "invalid account",
    "lost_card": "card reported lost",
    "payment_failed": "payment failed",
    "payment_intent_authentication_failure": "3-D Secure check failed",
    "payment_method_provider_decline": "declined by the bank",
    "pickup_card": "card cannot be used",
    "processing_error": "processing error at the bank",
    "stolen_card": "card reported stolen",
    "withdrawal_count_limit_exceeded": "card limit exceeded",
}


def decline_label(code: str) -> str:
    """``"insufficient_funds"`` -> ``"insufficient funds"``; an unknown code as words."""
    code = (code or "").strip()
    return DECLINE_LABELS.get(code) or _words(code).lower()


def declined_attempts_label(count: int, code: str = "") -> str:
    """ "1 declined attempt (insufficient funds)", "3 declined attempts", or ""."""
    if count <= 0:
        return ""
    text = f"{count} declined attempt{'s' if count != 1 else ''}"
    reason = decline_label(code) if code else ""
    return f"{text} ({reason})" if reason else text


def price_label(link: PaymentLink) -> str:
    """How the console states a link's price: always with its currency."""
    low, high = price_parts(link)
    return f"{low} · {high}" if high else low


def price_parts(link: PaymentLink) -> tuple[str, str]:
    """(the amount or range with its currency, "" or "customer chooses")."""
    if link.amount_type == AmountType.FIXED and link.amount is not None:
        if link.quantity_enabled:
            units = f"each, {link.quantity_floor}–{link.quantity_ceiling} per payment"
            return money.format_money(link.amount, link.currency), units
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
