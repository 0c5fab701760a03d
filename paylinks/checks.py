"""Start-up checks for configuration that would otherwise fail at the first payment."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError, connection
from rest_framework.settings import api_settings

from paylinks.crypto import DecryptionError, decrypt
from paylinks.models import Payment


@register()
def check_gateway(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    gateway = settings.PAYLINKS_GATEWAY
    known = sorted(settings.PAYLINKS_GATEWAYS)
    if gateway not in known:
        errors.append(
            Error(
                f"PAYLINKS_GATEWAY={gateway!r} is not a gateway Paylinks knows.",
                hint=f"Use one of: {', '.join(known)}.",
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
    errors.extend(_check_gateway_deadline())
    return errors


#: gunicorn's default worker timeout, the budget a web request's gateway calls must fit in.
WEB_WORKER_TIMEOUT_SECONDS = 30


def _check_gateway_deadline() -> list[CheckMessage]:
    deadline = settings.PAYLINKS_GATEWAY_DEADLINE_SECONDS
    if deadline < 1:
        return [
            Error(
                f"PAYLINKS_GATEWAY_DEADLINE_SECONDS={deadline} leaves no time for a gateway call.",
                hint="Use the default, 10 seconds.",
                id="paylinks.E010",
            )
        ]
    if deadline > WEB_WORKER_TIMEOUT_SECONDS - 10:
        return [
            Warning(
                f"PAYLINKS_GATEWAY_DEADLINE_SECONDS={deadline} is close to or beyond the web "
                f"server's worker timeout (gunicorn's default is {WEB_WORKER_TIMEOUT_SECONDS} s): "
                "a hanging gateway would get the worker killed and the customer an HTML 500.",
                hint="Keep it at least 10 s below gunicorn's --timeout (docs/operations.md).",
                id="paylinks.W011",
            )
        ]
    return []


@register(Tags.database)
def check_encryption_key_reads_stored_data(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """With ``check --database default`` (and before migrate): stored customer data must
    decrypt with the configured keys, so a wrong key stops the deploy, not a customer."""
    if not databases:
        return []
    try:
        # The newest value that is encrypted: blank fields are stored as "" (see crypto).
        table = Payment._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT customer_email FROM {table} "  # noqa: S608
                "WHERE customer_email IS NOT NULL AND customer_email <> '' "
                "ORDER BY id DESC LIMIT 1"
            )
            row = cursor.fetchone()
        if row:
            decrypt(row[0], where="paylinks.Payment.customer_email")
    except DecryptionError as exc:
        return [Error(str(exc), id="paylinks.E005")]
    except DatabaseError:
        return []  # not migrated yet: nothing stored to check
    return []


@register(Tags.security, deploy=True)
def check_proxy_counts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Behind a TLS proxy, a trusted-proxy count of 0 makes every client the proxy: one
    limit for everybody, and anyone's failed sign-ins lock everyone out."""
    if not settings.BEHIND_TLS_PROXY:
        return []
    counts = {
        "PAYLINKS_TRUSTED_PROXIES": api_settings.NUM_PROXIES or 0,
        "PAYLINKS_SIGNIN_TRUSTED_PROXIES": settings.ALLAUTH_TRUSTED_PROXY_COUNT or 0,
    }
    return [
        Warning(
            f"BEHIND_TLS_PROXY is on but {name}=0: every client would share the proxy's "
            "address for rate limits and sign-in lockouts.",
            hint=f"Leave {name} unset (it is then 1) or set it to the number of proxies in "
            "front of Django, and make the outermost one set X-Forwarded-For "
            "(docs/security.md, 'Proxies and rate limits').",
            id="paylinks.W010",
        )
        for name, count in counts.items()
        if not count
    ]
