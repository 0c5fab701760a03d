"""Whether a signed-in session has passed a second factor, and who must use one."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import (
    get_authentication_records,
    record_authentication,
)
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.dispatch import receiver
from django.http import HttpRequest

from paylinks.models import Membership, Role


def mfa_required_for(user: Any) -> bool:
    """Owners, support staff and superusers must use a second factor."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_support:
        return True
    return Membership.objects.filter(user=user, role=Role.OWNER).exists()


def session_passed_mfa(request: HttpRequest) -> bool:
    """allauth records every factor a session passes; look for a second one."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


@receiver(authenticator_added, dispatch_uid="paylinks-mfa-enrolment-proof")
def enrolment_is_a_proof(
    sender: Any, request: HttpRequest, user: Any, authenticator: Authenticator, **kwargs: Any
) -> None:
    """Setting up TOTP means typing a valid code: that session has passed MFA."""
    if authenticator.type == Authenticator.Type.TOTP:
        record_authentication(request, user, "mfa", id=authenticator.pk, type="totp")
