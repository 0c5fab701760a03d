"""Request-level sign-in policies: one way in (allauth), and MFA for the people who need it."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

# Importing the module connects its signal receiver (the MFA enrolment proof); middleware
# is loaded once per process before the first request, which is when the signal can fire.
from paylinks.auth.mfa import mfa_required_for, session_passed_mfa
from paylinks.permissions import can_enter_console

# Where someone who must use MFA but has not passed it may still go: allauth's own pages
# (to set MFA up, answer the code, sign out) and the surfaces that take no session at all.
# Everything else — the console, Wagtail, anything added later — waits for MFA.
MFA_EXEMPT_PREFIXES = (
    "/accounts/",
    "/static/",
    "/media/",
    "/api/",
    "/webhooks/",
    "/sandbox/",
    "/shop/",
    "/favicon.ico",
)
MFA_NEXT_SESSION_KEY = "paylinks_mfa_next"


def _redirect(urlname: str, **query: str) -> HttpResponseRedirect:
    target = reverse(urlname)
    return HttpResponseRedirect(f"{target}?{urlencode(query)}" if query else target)


class SignInThroughAllauthMiddleware:
    """The Django admin's and Wagtail's own sign-in and password pages lead to allauth.

    Those views would log a person in with nothing but a password — no e-mail
    verification, no second factor, no lockout page — and let them change their password
    or e-mail outside allauth. Requests to them, GET or POST, never reach them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.login_paths = {reverse("admin:login"), reverse("wagtailadmin_login")}
        self.password_paths = (
            reverse("admin:password_change"),
            reverse("wagtailadmin_password_reset"),
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in self.login_paths:
            if request.user.is_authenticated:
                return self._signed_in(request)
            return _redirect("account_login", next=self._next(request))
        if request.path.startswith(self.password_paths):
            if request.user.is_authenticated:
                return _redirect("account_change_password")
            return _redirect("account_reset_password")
        return self.get_response(request)

    def _signed_in(self, request: HttpRequest) -> HttpResponse:
        """Signed in already: on to the console, or — for someone it does not admit —
        a page that says so (sending them to allauth's login would bounce them back here,
        since allauth sends signed-in people on to ``next``)."""
        cms = request.path.startswith("/cms/")
        allowed = (
            request.user.has_perm("wagtailadmin.access_admin")
            if cms
            else can_enter_console(request.user)
        )
        if allowed:
            return HttpResponseRedirect(self._next(request))
        return render(request, "account/no_access.html", {"cms": cms}, status=403)

    @staticmethod
    def _next(request: HttpRequest) -> str:
        wanted = request.GET.get("next") or request.POST.get("next") or ""
        if wanted and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return wanted
        return reverse("wagtailadmin_home") if request.path.startswith("/cms/") else "/admin/"


class RequireMFAMiddleware:
    """With ``PAYLINKS_REQUIRE_MFA`` on, owners, support staff and superusers get nowhere
    but allauth's pages until they have set up TOTP *and* this session has passed it.

    - no TOTP yet (including sessions that began before the rule, or before someone
      became an owner): sent to set it up, then on to where they were going;
    - TOTP set up but this session never answered a code (it began before TOTP was set
      up elsewhere, or by a way in that skipped allauth's MFA stage): asked for a code.

    Checked on every request, not at sign-in, so no way of starting a session can skip it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The path first: on the exempt surfaces (every public API read, every webhook)
        # the session and the user are never loaded, and the response does not vary on
        # a cookie it never read (docs/scaling.md).
        if (
            settings.PAYLINKS_REQUIRE_MFA
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and request.user.is_authenticated
            and mfa_required_for(request.user)
        ):
            if not is_mfa_enabled(request.user):
                return self._set_up(request)
            if not session_passed_mfa(request):
                return _redirect("mfa_reauthenticate", next=request.get_full_path())
        return self.get_response(request)

    @staticmethod
    def _set_up(request: HttpRequest) -> HttpResponse:
        # allauth shows the recovery codes after TOTP set-up, not ``next``: the codes page
        # offers a way on to where the person was going.
        if request.method == "GET":
            request.session[MFA_NEXT_SESSION_KEY] = request.get_full_path()
            messages.info(
                request,
                "Owners and support staff protect Paylinks with two-factor authentication. "
                "Set up an authenticator app to continue.",
                fail_silently=True,
            )
        return _redirect("mfa_activate_totp")
