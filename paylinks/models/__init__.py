from .analytics import LinkView
from .api import ApiClient, ApiScope, IdempotencyKey
from .audit import AuditEntry
from .links import AfterPayment, AmountType, LinkState, PaymentLink
from .merchants import Membership, Merchant, Role
from .payments import Payment, PaymentEvent, PaymentStatus, Refund, RefundReason
from .users import User
from .webhooks import WebhookEvent

__all__ = [
    "AfterPayment",
    "AmountType",
    "ApiClient",
    "ApiScope",
    "AuditEntry",
    "IdempotencyKey",
    "LinkState",
    "LinkView",
    "Membership",
    "Merchant",
    "Payment",
    "PaymentEvent",
    "PaymentLink",
    "PaymentStatus",
    "Refund",
    "RefundReason",
    "Role",
    "User",
    "WebhookEvent",
]
