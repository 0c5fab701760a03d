"""allauth adapters: who may sign up, when a fresh sign-in counts as re-authentication,
when a social login may join an existing account, and how MFA secrets are stored."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.contrib import messages
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from paylinks import crypto
from paylinks.models import User
from paylinks.notifications.mail import mail_queue_message

from .emails import mark_verified
from .lockout import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's rate limits count the same address as axes' lockout does
        (``paylinks.auth.lockout.client_ip``)."""
        return client_ip(request) or super().get_client_ip(request)

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Closed unless ``PAYLINKS_OPEN_SIGNUP``: people join a merchant by invitation."""
        return bool(settings.PAYLINKS_OPEN_SIGNUP)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A sign-in in the last few minutes counts as re-authentication.

        allauth asks for the password again before MFA changes (add TOTP, view recovery
        codes) unless the person *re*-authenticated recently. Someone who has just typed
        their password (and code) to sign in has proved exactly that, and an owner sent
        straight from sign-in to the required TOTP set-up would otherwise be asked for it
        twice in ten seconds — and again to see the recovery codes.
        """
        required = super().is_reauthentication_required(app=app, **kwargs)
        return required and not signed_in_recently(context.request)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """allauth's e-mail (verification, password reset, sign-in and MFA notices),
        rendered now and sent by the worker: a mail server that is down never turns a
        page (TOTP set-up, password reset) into an error. Rendered as allauth does."""
        request = globals()["context"].request  # allauth's request context, as its own
        values = {"request": request, "email": email, "current_site": get_current_site(request)}
        values.update(context)
        mail_queue_message(self.render_mail(template_prefix, email, values))


def signed_in_recently(request: HttpRequest | None) -> bool:
    if request is None or not request.user.is_authenticated:
        return False
    records = get_authentication_records(request, request.user)
    latest = max((record.get("at", 0) for record in records), default=0)
    return time.time() - latest < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Social and OpenID Connect sign-in.

    A social login whose e-mail matches a Paylinks account joins that account only when
    the provider asserts the address is verified (``email_verified`` exactly ``true``) and
    the account cannot have been prepared by someone else: its matching address is
    verified, or it is an invited person's account that has never had a password.
    Otherwise the person is told to sign in with their password and connect the provider
    from their account page.
    """

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return bool(settings.PAYLINKS_OPEN_SIGNUP)

    def authenticate_by_email(self, sociallogin: SocialLogin) -> tuple[Any, str] | None:
        # Providers send "email_verified" as they like ("true", "false", 1...): only a real
        # JSON true counts, here and when an open sign-up records the address.
        for address in sociallogin.email_addresses:
            address.verified = address.verified is True
        found = super().authenticate_by_email(sociallogin)
        if found is None:
            return None
        user, email = found
        return found if may_join_by_email(user, email) else None

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        joined_by = getattr(sociallogin, "_did_authenticate_by_email", None)
        if joined_by and sociallogin.user is not None:
            # The provider vouched for the address and nobody else can hold a password
            # for this account (may_join_by_email): the address is proved.
            mark_verified(sociallogin.user, joined_by)
            return
        if not sociallogin.is_existing and self._address_taken(sociallogin):
            messages.error(
                request,
                "A Paylinks account already uses this e-mail address. Sign in with your "
                "password, then connect this provider from your account page.",
            )
            raise ImmediateHttpResponse(HttpResponseRedirect(reverse("account_login")))

    @staticmethod
    def _address_taken(sociallogin: SocialLogin) -> bool:
        emails = {a.email.lower() for a in sociallogin.email_addresses if a.email}
        return any(
            EmailAddress.objects.filter(email__iexact=e).exists()
            or User.objects.filter(email__iexact=e).exists()
            for e in emails
        )


def may_join_by_email(user: Any, email: str) -> bool:
    """May a provider-verified ``email`` sign in to ``user`` without their password?"""
    if not user.is_active:
        return False
    if EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
        return True
    # An invited member: the owner created the account for exactly this address and it
    # has never had a password or a verified address, so nobody can be waiting in it.
    return (
        user.email.lower() == email.lower()
        and not user.has_usable_password()
        and not EmailAddress.objects.filter(user=user, verified=True).exists()
    )


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are secrets: stored encrypted with
    ``FIELD_ENCRYPTION_KEY`` like customer data (the first key encrypts, all decrypt)."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text, where="an MFA authenticator secret")
