from .analytics import LinkView
from .api import ApiClient, ApiScope, IdempotencyKey
from .audit import AuditEntry
from .links import AfterPayment, AmountType, LinkState, PaymentLink
from .merchants import Membership, Merchant, Role
from .outgoing import Delivery, EventType, OutgoingEvent, WebhookEndpoint
from .payments import Payment, PaymentEvent, PaymentStatus, Refund, RefundReason
from .users import User
from .webhooks import WebhookEvent

__all__ = [
    "AfterPayment",
    "AmountType",
    "ApiClient",
    "ApiScope",
    "AuditEntry",
    "Delivery",
    "EventType",
    "IdempotencyKey",
    "LinkState",
    "LinkView",
    "Membership",
    "Merchant",
    "OutgoingEvent",
    "Payment",
    "PaymentEvent",
    "PaymentLink",
    "PaymentStatus",
    "Refund",
    "RefundReason",
    "Role",
    "User",
    "WebhookEndpoint",
    "WebhookEvent",
]
