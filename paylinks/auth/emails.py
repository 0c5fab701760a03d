"""Marking a person's e-mail address as verified when a flow has just proved it."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from paylinks.models import User


def only_address(user: User) -> bool:
    """True when ``user.email`` is the only address the account has (or has ever been sent
    mail at): then anything e-mailed to "this account" went to exactly that address."""
    return not EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).exists()


@transaction.atomic
def mark_verified(user: User, email: str) -> EmailAddress:
    """Record ``email`` as a verified address of ``user``, primary when it is the login."""
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        address = EmailAddress(user=user, email=email.lower())
    address.verified = True
    if email.lower() == user.email.lower():
        EmailAddress.objects.filter(user=user, primary=True).exclude(pk=address.pk).update(
            primary=False
        )
        address.primary = True
    address.save()
    return address
