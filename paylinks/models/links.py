from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from paylinks import money

from .merchants import Merchant, link_image_content_type, validate_link_image

SLUG_BYTES = 18  # 144 bits from the OS CSPRNG -> 24 URL-safe characters
# Stripe allows 50 metadata keys; Paylinks adds its own three (paylinks_payment, _link,
# _merchant: see CheckoutRequest.reference_metadata), so a link may carry 47, and none of
# them may start with the reserved prefix.
METADATA_RESERVED_PREFIX = "paylinks_"
METADATA_MAX_KEYS = 50 - 3
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500
#: The most units one payment may buy: Stripe Checkout's own ceiling for an adjustable
#: quantity (``adjustable_quantity.maximum`` is at most 999), kept for every gateway so a
#: link behaves the same on all of them.
QUANTITY_CEILING = 999

#: Where product images are stored (and served from, paylinks/logos.py), under MEDIA_ROOT.
LINK_IMAGE_DIRECTORY = "link-images"
_IMAGE_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def link_image_path(instance: Any, filename: str) -> str:
    """A fresh, unguessable name for every upload (never the uploader's file name), so an
    image's address never shows another file and can be cached for as long as it lives."""
    extension = ".img"
    file = getattr(getattr(instance, "image", None), "_file", None)
    if file is not None:
        position = file.tell()
        file.seek(0)
        extension = _IMAGE_EXTENSIONS.get(link_image_content_type(file.read(16)) or "", extension)
        file.seek(position)
    return f"{LINK_IMAGE_DIRECTORY}/{secrets.token_urlsafe(16)}{extension}"


http_url = URLValidator(
    schemes=["http", "https"], message="Enter a web address that starts with http:// or https://."
)


def redirect_url_problem(url: str) -> str | None:
    """Why a customer must not be sent to ``url`` after paying, or None when it is fine.

    Django's URLValidator accepts addresses that read as the merchant's shop but lead
    elsewhere: user-info (``https://shop.example@evil.example/`` goes to evil.example),
    backslashes (browsers read ``\\`` as ``/``, so the host a person reads is not the one
    the browser opens), and invisible or control characters (``U+202E`` turns the text
    around). The URLValidator still checks the rest.
    """
    if "\\" in url:
        return "Enter the web address without backslashes (\\): use / between its parts."
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in url):
        return "Enter the web address without invisible or control characters."
    try:
        parts = urlsplit(url)
    except ValueError:
        return None  # a malformed host: the URLValidator explains
    if parts.scheme.lower() not in ("http", "https"):
        return "Enter a web address that starts with http:// or https://."
    if "@" in parts.netloc:
        return (
            "Enter the web address without a user name or password before the host "
            "(the part before @): customers would be sent to the host after the @."
        )
    return None


# The cancel link's proof of possession: an HMAC of the payment's id under SECRET_KEY.
# A ``pay_`` id is seen in consoles, exports and merchant webhooks; the token only in the
# cancel address Paylinks gives the gateway, which returns the customer to it.
def _cancel_signer() -> signing.Signer:
    # Made per call: it reads SECRET_KEY and SECRET_KEY_FALLBACKS as they are now.
    return signing.Signer(salt="paylinks.checkout-cancel", algorithm="sha256")


def cancel_token(payment_public_id: str) -> str:
    return _cancel_signer().signature(payment_public_id)


def cancel_token_valid(payment_public_id: str, token: object) -> bool:
    """Whether ``token`` was made by :func:`cancel_token` for this payment id (with the
    current ``SECRET_KEY`` or one of its fallbacks), compared in constant time."""
    if not isinstance(token, str) or not 0 < len(token) <= 100:
        return False
    signer = _cancel_signer()
    try:
        signer.unsign(f"{payment_public_id}{signer.sep}{token}")
    except signing.BadSignature:
        return False
    return True


def new_slug() -> str:
    """An unguessable, URL-safe link identifier: knowing one link tells nothing of another."""
    return secrets.token_urlsafe(SLUG_BYTES)


class AmountType(models.TextChoices):
    FIXED = "fixed", "Fixed amount"
    CUSTOMER = "customer", "Customer chooses"


class AfterPayment(models.TextChoices):
    MESSAGE = "message", "Show a confirmation message"
    REDIRECT = "redirect", "Redirect to a web address"


class LinkState(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    INACTIVE = "inactive", "Inactive"
    SOLD_OUT = "sold_out", "Sold out"


def link_url(slug: str) -> str:
    """The customer's address of the link with this slug."""
    return f"{settings.PUBLIC_CHECKOUT_URL}/pay/{slug}"


class PaymentLink(models.Model):
    """A shareable request for money: a price (or a range), a currency and some rules."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="links")
    slug = models.CharField(max_length=32, unique=True, default=new_slug, editable=False)
    title = models.CharField(max_length=120, help_text="What the customer pays for.")
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=3, choices=money.CURRENCY_CHOICES)
    amount_type = models.CharField(
        max_length=10, choices=AmountType.choices, default=AmountType.FIXED
    )
    amount = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="In the currency's minor unit (cents, öre, yen)."
    )
    custom_amount_min = models.PositiveBigIntegerField(null=True, blank=True)
    custom_amount_max = models.PositiveBigIntegerField(null=True, blank=True)
    custom_amount_preset = models.PositiveBigIntegerField(null=True, blank=True)
    quantity_enabled = models.BooleanField(
        "customer chooses a quantity",
        default=False,
        help_text="Fixed-amount links only: the customer buys one or more units at the price.",
    )
    quantity_min = models.PositiveIntegerField(
        "minimum quantity", default=1, validators=[MinValueValidator(1)]
    )
    quantity_max = models.PositiveIntegerField(
        "maximum quantity",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=f"Empty: up to {QUANTITY_CEILING}, or as many as the largest charge allows.",
    )
    expires_at = models.DateTimeField("expires at", null=True, blank=True)
    payment_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Stop accepting payments after this many have completed (with a "
        "quantity: after this many units are sold).",
    )
    units_sold = models.PositiveBigIntegerField(
        default=0,
        editable=False,
        help_text="Units bought by this link's payments that took money (one per payment "
        "without a quantity): kept in the transaction of every payment's change "
        "(paylinks.services.rollups), rebuilt by rebuild_rollups.",
    )
    is_active = models.BooleanField("active", default=True)
    inactive_message = models.TextField(
        blank=True, help_text="Shown when the link is deactivated. Empty: the merchant's default."
    )
    after_payment = models.CharField(
        max_length=10, choices=AfterPayment.choices, default=AfterPayment.MESSAGE
    )
    confirmation_message = models.TextField(blank=True)
    redirect_url = models.CharField(
        "redirect URL", max_length=2000, blank=True, validators=[http_url]
    )
    collect_name = models.BooleanField("collect name", default=False)
    collect_phone = models.BooleanField("collect phone number", default=False)
    collect_billing_address = models.BooleanField("collect billing address", default=False)
    metadata = models.JSONField(default=dict, blank=True)
    image = models.ImageField(
        "product image",
        upload_to=link_image_path,
        blank=True,
        width_field="image_width",
        height_field="image_height",
        help_text="Shown on the payment page and the hosted checkout. PNG, JPEG or WebP, "
        "at most 2 MB.",
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The expiry as loaded from the database: only a *changed* expiry must lie in the future.
    _loaded_expires_at: datetime | None = None

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="link_merchant_created")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(amount_type="fixed", amount__isnull=False, amount__gt=0)
                    | Q(amount_type="customer", amount__isnull=True)
                ),
                name="link_amount_matches_type",
            ),
            models.CheckConstraint(
                condition=(
                    Q(custom_amount_min__isnull=True)
                    | Q(custom_amount_max__isnull=True)
                    | Q(custom_amount_min__lte=models.F("custom_amount_max"))
                ),
                name="link_custom_min_lte_max",
            ),
            models.CheckConstraint(
                condition=Q(payment_limit__isnull=True) | Q(payment_limit__gte=1),
                name="link_limit_positive",
            ),
            models.CheckConstraint(
                condition=Q(quantity_enabled=False) | Q(amount_type="fixed"),
                name="link_quantity_fixed_only",
            ),
            models.CheckConstraint(
                condition=Q(quantity_min__gte=1)
                & (Q(quantity_max__isnull=True) | Q(quantity_max__gte=models.F("quantity_min"))),
                name="link_quantity_min_lte_max",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> PaymentLink:
        instance = super().from_db(db, field_names, values)
        instance._loaded_expires_at = instance.__dict__.get("expires_at")
        return instance

    # --- derived values ---------------------------------------------------------------
    @property
    def image_url(self) -> str | None:
        """The product image's absolute address (Django serves it, paylinks/logos.py), or
        None. Absolute, because Stripe, merchants' systems and the checkout page on its
        own origin all fetch it."""
        if not self.image:
            return None
        return f"{settings.SITE_URL}{self.image.url}"

    @property
    def public_url(self) -> str:
        """Where customers open the link: the checkout page's ``/pay/<slug>``."""
        return link_url(self.slug)

    @property
    def success_url(self) -> str:
        """Where the gateway sends a customer who paid (Stripe fills the session id in)."""
        return f"{self.public_url}/success?session_id={{CHECKOUT_SESSION_ID}}"

    def cancel_url(self, payment_public_id: str) -> str:
        """Where the gateway sends a customer who left the checkout of that payment, with
        the token that lets that page (and only a holder of this address) cancel it."""
        token = cancel_token(payment_public_id)
        return f"{self.public_url}/cancel?payment={payment_public_id}&token={token}"

    @property
    def effective_min(self) -> int:
        return self.custom_amount_min or money.get_currency(self.currency).minimum

    @property
    def effective_max(self) -> int:
        return self.custom_amount_max or money.maximum_minor(self.currency)

    @property
    def quantity_ceiling(self) -> int:
        """The most units one payment may buy: the link's maximum, Stripe's 999, and as
        many as fit the currency's largest charge at the link's price."""
        if not self.quantity_enabled or not self.amount:
            return 1
        fits = money.maximum_minor(self.currency) // self.amount
        return max(0, min(self.quantity_max or QUANTITY_CEILING, QUANTITY_CEILING, fits))

    @property
    def quantity_floor(self) -> int:
        return self.quantity_min if self.quantity_enabled else 1

    @property
    def effective_inactive_message(self) -> str:
        return self.inactive_message or self.merchant.inactive_message

    def state_at(self, now: datetime, completed_count: int) -> LinkState:
        """The state a customer meets at ``now``, given how many payments have completed.

        A deactivated link reads as inactive even when it has also expired: the merchant's
        explicit decision (and message) wins.
        """
        if not self.is_active:
            return LinkState.INACTIVE
        if self.expires_at is not None and self.expires_at <= now:
            return LinkState.EXPIRED
        if self.payment_limit is not None and completed_count >= self.payment_limit:
            return LinkState.SOLD_OUT
        return LinkState.ACTIVE

    # --- invariants -------------------------------------------------------------------
    def clean_fields(self, exclude: Any = None) -> None:
        """The redirect address gets its specific refusal instead of the URLValidator's
        generic one (which accepts some of these addresses and words others vaguely)."""
        exclude = set(exclude or ())
        problem = None
        if "redirect_url" not in exclude and self.redirect_url:
            problem = redirect_url_problem(self.redirect_url)
            if problem:
                exclude.add("redirect_url")
        errors: dict[str, list[ValidationError]] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.error_dict
        if problem:
            errors.setdefault("redirect_url", []).append(ValidationError(problem))
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        skip = getattr(self, "_skip_clean_fields", ())

        def add(field: str, message: str) -> None:
            if field not in skip:
                errors.setdefault(field, []).append(message)

        try:
            currency = money.get_currency(self.currency or "")
        except money.MoneyError as exc:
            add("currency", str(exc))
            if errors:
                raise ValidationError(errors) from None
            return
        self.currency = currency.code

        if self.amount_type == AmountType.FIXED:
            self._clean_fixed(add)
        else:
            self._clean_customer_chooses(add)
        self._clean_quantity(add)
        self._clean_expiry(add)
        if self.after_payment == AfterPayment.REDIRECT and not self.redirect_url:
            add("redirect_url", "Enter the web address customers go to after paying.")
        self._clean_metadata(add)
        try:
            validate_link_image(self.image)
        except ValidationError as exc:
            for message in exc.message_dict.get("image", []):
                add("image", message)
        if errors:
            raise ValidationError(errors)

    def _clean_fixed(self, add: Any) -> None:
        if self.amount is None:
            add("amount", "Enter the amount customers pay.")
        else:
            _check_amount(add, "amount", self.amount, self.currency)
        self.custom_amount_min = self.custom_amount_max = self.custom_amount_preset = None

    def _clean_customer_chooses(self, add: Any) -> None:
        self.amount = None
        for field in ("custom_amount_min", "custom_amount_max", "custom_amount_preset"):
            value = getattr(self, field)
            if value is not None:
                _check_amount(add, field, value, self.currency)
        low, high = self.custom_amount_min, self.custom_amount_max
        if low is not None and high is not None and low > high:
            add("custom_amount_max", "The maximum must be at least the minimum.")
        preset = self.custom_amount_preset
        if preset is not None and not (self.effective_min <= preset <= self.effective_max):
            add(
                "custom_amount_preset",
                "The suggested amount must lie between the minimum and maximum.",
            )

    def _clean_quantity(self, add: Any) -> None:
        if not self.quantity_enabled:
            self.quantity_min, self.quantity_max = 1, None
            return
        if self.amount_type != AmountType.FIXED:
            add(
                "quantity_enabled",
                "Only a fixed-amount link can sell a quantity: "
                "a customer who chooses the amount pays once.",
            )
            return
        low, high = self.quantity_min, self.quantity_max
        if low is None or low < 1:
            add("quantity_min", "The minimum quantity is at least 1.")
            return
        if high is not None and high < low:
            add("quantity_max", "The maximum quantity must be at least the minimum.")
        for field, value in (("quantity_min", low), ("quantity_max", high)):
            if value is not None and value > QUANTITY_CEILING:
                add(field, f"A customer can buy at most {QUANTITY_CEILING} units at once.")
        if self.amount and self.currency:
            largest = money.maximum_minor(self.currency)
            fits = largest // self.amount
            for field, value in (("quantity_min", low), ("quantity_max", high)):
                if value is not None and value > fits:
                    add(
                        field,
                        f"{value} × {money.format_money(self.amount, self.currency)} is more "
                        f"than the largest charge, {money.format_money(largest, self.currency)}: "
                        f"choose at most {fits}.",
                    )
        if self.payment_limit is not None and low > self.payment_limit:
            add(
                "quantity_min",
                f"The minimum quantity is more than the link's limit of {self.payment_limit} "
                "units: nobody could buy.",
            )

    def _clean_expiry(self, add: Any) -> None:
        changed = self._state.adding or self.expires_at != getattr(self, "_loaded_expires_at", None)
        if changed and self.expires_at is not None and self.expires_at <= timezone.now():
            add("expires_at", "The expiry date is in the past: choose a later date and time.")

    def _clean_metadata(self, add: Any) -> None:
        data = self.metadata
        if not isinstance(data, dict):
            add("metadata", "Metadata must be a set of key: value pairs.")
            return
        if len(data) > METADATA_MAX_KEYS:
            add("metadata", f"Metadata can have at most {METADATA_MAX_KEYS} keys.")
        if any(not k or len(k) > METADATA_KEY_MAX or "[" in k for k in data):
            add("metadata", f"Metadata keys are 1–{METADATA_KEY_MAX} characters, without '['.")
        if any(str(k).startswith(METADATA_RESERVED_PREFIX) for k in data):
            add(
                "metadata",
                f"Metadata keys starting with '{METADATA_RESERVED_PREFIX}' are Paylinks' own.",
            )
        if any(not isinstance(v, str) or len(v) > METADATA_VALUE_MAX for v in data.values()):
            add("metadata", f"Metadata values are text of at most {METADATA_VALUE_MAX} characters.")


def _check_amount(add: Any, field: str, minor: int, code: str) -> None:
    try:
        money.validate_minor(minor, code)
    except money.MoneyError as exc:
        add(field, str(exc))
