from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from paylinks.crypto import EncryptedCharField
from paylinks.money import CURRENCY_CHOICES

DEFAULT_INACTIVE_MESSAGE = "This payment link is not accepting payments right now."

hex_colour = RegexValidator(
    r"^#[0-9A-Fa-f]{6}$", "Enter a colour as # followed by six hex digits, like #4F46E5."
)


ga4_measurement_id = RegexValidator(
    r"^G-[A-Z0-9]{4,20}$", "Enter a GA4 measurement ID like G-ABC123XYZ (Admin > Data streams)."
)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (try Europe/Copenhagen).")


#: The logo formats Paylinks accepts and serves, by their first bytes (never by the file's
#: name): raster images every browser shows in an <img>. Not SVG: an SVG is a document
#: that can carry scripts and links, and a 40-pixel logo gains nothing from being one
#: (docs/decisions.md).
LOGO_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),  # after "RIFF" and the length
)
LOGO_FORMATS_TEXT = "PNG, JPEG, WebP or GIF"


def logo_content_type(head: bytes) -> str | None:
    """The content type of a logo from its first 16 bytes, or None for anything else."""
    for signature, offset, content_type in LOGO_SIGNATURES:
        if head[offset : offset + len(signature)] == signature and (
            offset == 0 or head.startswith(b"RIFF")
        ):
            return content_type
    return None


#: A link's product image: a photo or a cover, never a GIF or SVG (what Stripe Checkout
#: shows too), and at most this many bytes.
LINK_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
LINK_IMAGE_FORMATS_TEXT = "PNG, JPEG or WebP"
LINK_IMAGE_MAX_BYTES = 2 * 1024 * 1024


def _upload_head(upload: models.fields.files.FieldFile) -> bytes:
    """An upload's first 16 bytes (what its type is told by), the file left where it was."""
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(16)
    upload.seek(position)
    return bytes(head)


def link_image_content_type(head: bytes) -> str | None:
    """The content type of a product image from its first 16 bytes, or None."""
    content_type = logo_content_type(head)
    return content_type if content_type in LINK_IMAGE_TYPES else None


def validate_link_image(image: models.fields.files.FieldFile) -> None:
    """A newly uploaded product image must be PNG, JPEG or WebP by its first bytes, and
    no larger than ``LINK_IMAGE_MAX_BYTES``."""
    if not image or getattr(image, "_committed", True):
        return  # nothing new: the stored file was checked when it was uploaded
    if image.size > LINK_IMAGE_MAX_BYTES:
        raise ValidationError(
            {"image": f"The image is too large: at most {LINK_IMAGE_MAX_BYTES // 1024 // 1024} MB."}
        )
    if link_image_content_type(_upload_head(image)) is None:
        raise ValidationError(
            {"image": f"Upload the image as {LINK_IMAGE_FORMATS_TEXT} (not GIF or SVG)."}
        )


def validate_logo(logo: models.fields.files.FieldFile) -> None:
    """A newly uploaded logo must be one of ``LOGO_SIGNATURES``."""
    if not logo or getattr(logo, "_committed", True):
        return  # nothing new: the stored file was checked when it was uploaded
    if logo_content_type(_upload_head(logo)) is None:
        raise ValidationError({"logo": f"Upload the logo as {LOGO_FORMATS_TEXT} (not SVG)."})


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    VIEWER = "viewer", "Viewer"


WRITE_ROLES = frozenset({Role.OWNER, Role.MANAGER})


class Merchant(models.Model):
    """A business that takes payments through Paylinks: the unit of tenant isolation."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    brand_color = models.CharField(
        "brand colour", max_length=7, default="#4F46E5", validators=[hex_colour]
    )
    logo = models.ImageField(upload_to="merchant-logos/", blank=True)
    default_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")
    timezone = models.CharField(
        "time zone", max_length=64, default="UTC", validators=[validate_timezone]
    )
    support_email = models.EmailField("support e-mail", blank=True)
    inactive_message = models.TextField(
        "message for inactive links",
        default=DEFAULT_INACTIVE_MESSAGE,
        help_text="Shown to customers who open a deactivated link, unless the link has its own.",
    )
    ga4_measurement_id = EncryptedCharField(
        "GA4 measurement ID",
        max_length=32,
        blank=True,
        validators=[ga4_measurement_id],
        help_text="Optional: send checkout events to Google Analytics 4 from the server.",
    )
    ga4_api_secret = EncryptedCharField(
        "GA4 API secret",
        max_length=100,
        blank=True,
        help_text="A Measurement Protocol API secret of the same data stream.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        validate_logo(self.logo)

    @property
    def sends_to_ga4(self) -> bool:
        return bool(self.ga4_measurement_id and self.ga4_api_secret)


class Membership(models.Model):
    """A person's role at one merchant. A person may belong to several merchants."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    notify_payments = models.BooleanField(
        "e-mail me new payments", default=False, help_text="An e-mail for every payment received."
    )
    notify_failures = models.BooleanField(
        "e-mail me failed payments",
        default=False,
        help_text="An e-mail when a payment fails (a delayed method declined).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "team member"
        verbose_name_plural = "team members"
        ordering = ["merchant__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.merchant}"

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES
