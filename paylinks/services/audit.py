from __future__ import annotations

from typing import Any

from django.db import models

from paylinks.models import ApiClient, AuditEntry, Merchant, User


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
    label = getattr(actor, "email", "") or (api_client.audit_label if api_client else "")
    return AuditEntry.objects.create(
        merchant=merchant,
        actor=actor if actor is not None and actor.pk else None,
        actor_email=label or "",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes or {},
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
