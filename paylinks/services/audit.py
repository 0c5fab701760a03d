from __future__ import annotations

from typing import Any

from django.db import models

from paylinks.models import ApiClient, AuditEntry, Merchant, User
from paylinks.privacy import mask_email


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    merchant: Merchant | None,
    changes: dict[str, Any] | None = None,
    api_client: ApiClient | None = None,
) -> AuditEntry:
    """Append one entry to the audit trail. Call inside the transaction that made the change.

    A change made through the merchant API has no person behind it: ``api_client`` names
    the client instead (``actor_email`` then reads "API client “Shop backend” (plc_...)").
    """
    return _append(
        actor=actor,
        action=action,
        merchant=merchant,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj),
        changes=changes,
        api_client=api_client,
    )


def _append(
    *,
    actor: User | None,
    action: str,
    merchant: Merchant | None,
    object_type: str,
    object_id: str,
    object_repr: str,
    changes: dict[str, Any] | None,
    api_client: ApiClient | None = None,
) -> AuditEntry:
    label = getattr(actor, "email", "") or (api_client.audit_label if api_client else "")
    return AuditEntry.objects.create(
        merchant=merchant,
        actor=actor if actor is not None and actor.pk else None,
        actor_email=label or "",
        action=action,
        object_type=object_type,
        object_id=object_id[:64],
        object_repr=object_repr[:200],
        changes=changes or {},
    )


# --- signing in -------------------------------------------------------------------------
# Sign-ins belong to a person, not to a merchant: their entries have no merchant, so
# support staff and superusers read them and merchants do not. No password, typed or
# otherwise, is ever part of an entry.
def sign_in_record(*, user: User, ip: str | None, method: str = "password") -> AuditEntry:
    """A person signed in (after every step, MFA included)."""
    return audit_record(
        actor=user,
        action="auth.signed_in",
        obj=user,
        merchant=None,
        changes={"address": ip or "unknown", "method": method},
    )


def sign_in_failure_record(
    *, attempted: str, ip: str | None, locked_out: bool = False
) -> AuditEntry:
    """A sign-in that failed. ``attempted`` is what was typed as the e-mail address: an
    attempt on an existing account names that account; anything else is kept masked
    (people type passwords into the e-mail box), so the entry never holds a secret."""
    attempted = (attempted or "").strip()
    account = User.objects.filter(email__iexact=attempted).first() if attempted else None
    changes: dict[str, Any] = {"address": ip or "unknown"}
    if locked_out:
        changes["locked out"] = True
    if account is not None:
        return audit_record(
            actor=None, action="auth.sign_in_failed", obj=account, merchant=None, changes=changes
        )
    return _append(
        actor=None,
        action="auth.sign_in_failed",
        merchant=None,
        object_type="auth.unknown_account",
        object_id="",
        object_repr=mask_email(attempted) or "(nothing typed)",
        changes=changes,
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as {field: [old, new]} (JSON-safe via str for non-scalars)."""

    def plain(value: Any) -> Any:
        return (
            value
            if isinstance(value, (str, int, float, bool, type(None), dict, list))
            else str(value)
        )

    return {
        key: [plain(before.get(key)), plain(value)]
        for key, value in after.items()
        if before.get(key) != value
    }
