"""allauth forms with the Paylinks twists (wired up by ``ACCOUNT_FORMS``)."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ResetPasswordKeyForm as AllauthResetPasswordKeyForm
from allauth.mfa.base.forms import AuthenticateForm as AllauthAuthenticateForm
from allauth.mfa.base.forms import ReauthenticateForm as AllauthReauthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm
from axes.utils import reset as axes_reset
from django import forms
from django.conf import settings

from .emails import mark_verified, only_address


class LoginForm(AllauthLoginForm):
    """allauth's login form; it also tells the page whether to offer a sign-up link."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "E-mail address"
        self.fields["login"].widget.attrs.update(
            {"placeholder": "you@company.com", "autocomplete": "username", "autofocus": True}
        )
        if "remember" in self.fields:
            self.fields["remember"].label = "Keep me signed in on this device"

    @property
    def signup_open(self) -> bool:
        return bool(settings.PAYLINKS_OPEN_SIGNUP)


class ResetPasswordKeyForm(AllauthResetPasswordKeyForm):
    """Setting a password from an e-mailed link proves the address the link went to.

    This is how invited members start: ``membership_add`` creates their account without a
    password and e-mails them the reset page. Without this, they would choose a password
    and then be stopped by mandatory verification with a second e-mail. The link went to
    ``user.email`` for sure only when that is the account's one address, so only then.

    It also lifts an axes lockout on the account: whoever holds the inbox is the owner,
    and a person who forgot their password should not wait out a cool-off after fixing it.
    """

    def save(self) -> None:
        super().save()
        if self.user is None:
            return
        if only_address(self.user):
            mark_verified(self.user, self.user.email)
        axes_reset(username=self.user.email.lower())


def _code_field(form: forms.Form, label: str, placeholder: str) -> None:
    """A one-time code: numeric keyboard on phones, offered from the OS's code autofill."""
    field = form.fields["code"]
    field.label = label
    field.widget.attrs.update(
        {
            "placeholder": placeholder,
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "autofocus": True,
        }
    )


class AuthenticateForm(AllauthAuthenticateForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _code_field(self, "Authentication code", "6-digit code or recovery code")


class ReauthenticateForm(AllauthReauthenticateForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _code_field(self, "Authentication code", "6-digit code or recovery code")


class ActivateTOTPForm(AllauthActivateTOTPForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _code_field(self, "Code from the app", "6-digit code")
