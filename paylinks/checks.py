"""Start-up checks for configuration that would otherwise fail at the first payment."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

KNOWN_GATEWAYS = ("sandbox", "stripe")


@register()
def check_gateway(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    gateway = settings.PAYLINKS_GATEWAY
    if gateway not in KNOWN_GATEWAYS:
        errors.append(
            Error(
                f"PAYLINKS_GATEWAY={gateway!r} is not a gateway Paylinks knows.",
                hint=f"Use one of: {', '.join(KNOWN_GATEWAYS)}.",
                id="paylinks.E001",
            )
        )
    if gateway == "stripe":
        for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
            if not getattr(settings, name, ""):
                errors.append(
                    Error(
                        f"PAYLINKS_GATEWAY=stripe needs {name}.",
                        hint=f"Set {name} (or {name}_FILE) from your Stripe dashboard.",
                        id="paylinks.E002",
                    )
                )
    return errors


@register(Tags.database)
def check_encryption_key_reads_stored_data(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """With ``check --database default`` (and before migrate): stored customer data must
    decrypt with the configured keys, so a wrong key stops the deploy, not a customer."""
    if not databases:
        return []
    from django.db import DatabaseError

    from paylinks.crypto import DecryptionError, decrypt
    from paylinks.models import Payment

    try:
        sample = (
            Payment.objects.exclude(customer_email__isnull=True)
            .order_by("-id")
            .values_list("id", flat=True)[:1]
        )
        ids = list(sample)
        if not ids:
            return []
        from django.db import connection

        with connection.cursor() as cursor:
            table = Payment._meta.db_table
            cursor.execute(f"SELECT customer_email FROM {table} WHERE id = %s", [ids[0]])  # noqa: S608
            (token,) = cursor.fetchone()
        if token:
            decrypt(token, where="paylinks.Payment.customer_email")
    except DecryptionError as exc:
        return [Error(str(exc), id="paylinks.E005")]
    except DatabaseError:
        return []  # not migrated yet: nothing stored to check
    return []
