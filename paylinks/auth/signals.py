"""Sign-ins and failed sign-ins, written to the audit log.

A sign-in is recorded when allauth has finished it (every step, MFA included), with the
method and the client address axes counts (``lockout.client_ip``). A failure is recorded
from Django's ``user_login_failed`` (sent for every refused ``authenticate()``, also when
axes refuses a locked-out pair), with what was typed as the e-mail -- the account when
one has that address, masked otherwise -- and never the password.
"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from paylinks.models import User
from paylinks.services import audit

from .lockout import client_ip, username


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
    audit.sign_in_failure_record(
        attempted=attempted or "",
        ip=client_ip(request) if request is not None else None,
        locked_out=bool(getattr(request, "axes_locked_out", False)),
    )
