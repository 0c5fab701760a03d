"""Sign-ins and failed sign-ins, written to the audit log.

A sign-in is recorded when allauth has finished it (every step, MFA included), with the
method and the client address axes counts (``lockout.client_ip``). A failure is recorded
from Django's ``user_login_failed`` (sent for every refused ``authenticate()``, also when
axes refuses a locked-out pair), with what was typed as the e-mail -- the account when
one has that address, masked otherwise -- and never the password.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.signals import user_logged_in
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from paylinks.models import User
from paylinks.services import audit

from .lockout import client_ip, username

# One line per failed sign-in and per lockout, naming the account by its id (or
# "unknown") and the client address, never what was typed (axes' own lines, which repeat
# the typed e-mail, are off: AXES_LOG_LEVEL).
logger = logging.getLogger("paylinks.auth")


@receiver(user_logged_in, dispatch_uid="paylinks.audit.signed_in")
def record_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if not isinstance(user, User):
        return
    social = kwargs.get("sociallogin")
    method = f"social ({social.account.provider})" if social is not None else "password"
    audit.sign_in_record(user=user, ip=client_ip(request) if request else None, method=method)


@receiver(user_login_failed, dispatch_uid="paylinks.audit.sign_in_failed")
def record_sign_in_failure(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    if request is not None:
        attempted = username(request, credentials)
    else:
        typed = (credentials.get(key) for key in ("login", "email", "username"))
        attempted = next((str(value) for value in typed if value), None)
    ip = client_ip(request) if request is not None else None
    locked_out = bool(getattr(request, "axes_locked_out", False))
    entry = audit.sign_in_failure_record(attempted=attempted or "", ip=ip, locked_out=locked_out)
    account = entry.object_id if entry.object_type != "auth.unknown_account" else "unknown"
    logger.warning(
        "Sign-in failed for account %s from %s%s",
        account or "unknown",
        ip or "unknown",
        " (locked out)" if locked_out else "",
        extra={"event": "auth.sign_in_failed", "account": account or "unknown"},
    )


@receiver(user_locked_out, dispatch_uid="paylinks.log.locked_out")
def log_lockout(sender: Any, request: Any = None, ip_address: Any = None, **kwargs: Any) -> None:
    logger.warning(
        "Sign-in locked out: too many failures from %s",
        ip_address or "unknown",
        extra={"event": "auth.locked_out"},
    )
