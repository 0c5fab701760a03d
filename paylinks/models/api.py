"""Merchant API clients: an allauth OAuth 2.0 client bound to exactly one merchant.

allauth's ``Client`` (``allauth.idp.oidc``) holds the client id, the hashed secret, the
grant types and the scopes the client may request; its ``Token`` rows are the access
tokens it was issued (JWTs whose hash is stored, so one can be refused before it
expires). ``ApiClient`` adds what allauth does not know: the merchant the client acts
for, who created it, and when it was rotated or revoked. Revoking deletes the allauth
client, and with it every token it holds; this row stays for the record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .merchants import Merchant


class ApiScope(models.TextChoices):
    LINKS_READ = "links:read", "Read payment links"
    LINKS_WRITE = "links:write", "Create and change payment links"
    PAYMENTS_READ = "payments:read", "Read payments and refunds"
    REFUNDS_WRITE = "refunds:write", "Refund payments"
    ANALYTICS_READ = "analytics:read", "Read analytics"


class ApiClient(models.Model):
    """An integration of one merchant: what a shop backend signs in to the API as."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="api_clients")
    oauth_client = models.OneToOneField(
        "allauth_idp_oidc.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="paylinks_api_client",
        help_text="allauth's OAuth client; gone once the client is revoked.",
    )
    client_id = models.CharField("client ID", max_length=100, unique=True)
    name = models.CharField(max_length=100, help_text="What this client is, e.g. “Shop backend”.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField("secret rotated at", null=True, blank=True)
    revoked_at = models.DateTimeField("revoked at", null=True, blank=True)

    class Meta:
        verbose_name = "API client"
        verbose_name_plural = "API clients"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="apiclient_merchant")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def audit_label(self) -> str:
        """How the audit log names changes this client made."""
        return f"API client “{self.name}” ({self.client_id})"[:254]


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key``, kept for replays.

    One row per (client, key). ``fingerprint`` is a hash of the method, path and body,
    so the same key sent with a different request is refused instead of replayed.
    """

    api_client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_client", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return self.key
