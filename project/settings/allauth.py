"""Sign-in: django-allauth (accounts, MFA, social/OIDC) and django-axes lockout.

Decisions (the reasons are in ``paylinks/auth/``):

- sign-up is closed unless ``PAYLINKS_OPEN_SIGNUP``: merchants invite their members;
- every address is verified before its person gets in (``mandatory``);
- MFA (TOTP + recovery codes) is required of owners, support staff and superusers when
  ``PAYLINKS_REQUIRE_MFA`` is on (``base.py``; default on outside DEBUG);
- Google, GitHub and one generic OpenID Connect provider appear when their variables are
  set; a provider-verified e-mail may join an existing account only on strict terms;
- axes locks a username+IP pair out after ``AXES_FAILURE_LIMIT`` failures for
  ``AXES_COOLOFF_MINUTES``; allauth's own rate limits stay on behind it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .env import env_bool, env_int, env_secret, env_str

PAYLINKS_OPEN_SIGNUP = env_bool("PAYLINKS_OPEN_SIGNUP", False)

ACCOUNT_ADAPTER = "paylinks.auth.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "paylinks.auth.adapters.SocialAccountAdapter"
ACCOUNT_FORMS = {
    "login": "paylinks.auth.forms.LoginForm",
    "reset_password_from_key": "paylinks.auth.forms.ResetPasswordKeyForm",
}

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# One address per person (it is their login); a new one replaces it once verified.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Changing the e-mail address or MFA asks for the password again (a sign-in in the last
# five minutes counts: paylinks.auth.adapters.AccountAdapter).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# Tell people by e-mail when their password, address or second factor changes.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Paylinks] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = (
    "https" if env_str("SITE_URL", "http://localhost:8000").startswith("https://") else "http"
)
# allauth's rate limits sit behind axes: they slow down guessing spread over many
# usernames from one address, or over many addresses at one username, which a
# username+IP lockout does not see. Per key they are looser than axes, so a person who
# mistypes gets axes' lockout page rather than an unexplained form error.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,10/5m/key",
    "signup": "20/h/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
}
# How many reverse proxies in front of Paylinks append to X-Forwarded-For (0: use
# REMOTE_ADDR). allauth's rate limits and axes both read the client address this way
# (paylinks.auth.lockout.client_ip). Behind a TLS proxy (BEHIND_TLS_PROXY) it is 1 unless
# set: with 0 there, every client would share the proxy's address and one client's failed
# sign-ins would lock everyone out.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int(
    "PAYLINKS_SIGNIN_TRUSTED_PROXIES", 1 if env_bool("BEHIND_TLS_PROXY") else 0
)

MFA_ADAPTER = "paylinks.auth.adapters.MFAAdapter"  # secrets encrypted at rest
MFA_FORMS = {
    "authenticate": "paylinks.auth.forms.AuthenticateForm",
    "reauthenticate": "paylinks.auth.forms.ReauthenticateForm",
    "activate_totp": "paylinks.auth.forms.ActivateTOTPForm",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Paylinks"

# Social login: a provider-verified address may sign in to the matching account
# (paylinks.auth.adapters.may_join_by_email decides when), and the provider is then
# connected to it so later logins match by the provider's account id.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "mandatory"
SOCIALACCOUNT_STORE_TOKENS = False


def social_providers() -> dict[str, dict[str, Any]]:
    """Social and OpenID Connect providers, each switched on by its environment variables.

    - Google: ``GOOGLE_CLIENT_ID`` + ``GOOGLE_SECRET``
    - GitHub: ``GITHUB_CLIENT_ID`` + ``GITHUB_SECRET``
    - any OpenID Connect provider: ``OIDC_SERVER_URL`` (the issuer) + ``OIDC_CLIENT_ID`` +
      ``OIDC_SECRET``; ``OIDC_PROVIDER_ID`` (URL slug, default ``oidc``) and ``OIDC_NAME``
      (the button's label) are optional.

    Secrets may also come from ``*_FILE`` variables. Providers that are not configured do
    not exist at all: no button, no login URL.
    """
    providers: dict[str, dict[str, Any]] = {}
    for name in ("google", "github"):
        client_id = env_str(f"{name.upper()}_CLIENT_ID")
        if client_id:
            providers[name] = {
                "APPS": [{"client_id": client_id, "secret": env_secret(f"{name.upper()}_SECRET")}],
            }
    if "google" in providers:
        providers["google"]["OAUTH_PKCE_ENABLED"] = True
    if server_url := env_str("OIDC_SERVER_URL"):
        providers["openid_connect"] = {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": env_str("OIDC_PROVIDER_ID", "oidc"),
                    "name": env_str("OIDC_NAME", "Single sign-on"),
                    "client_id": env_str("OIDC_CLIENT_ID"),
                    "secret": env_secret("OIDC_SECRET"),
                    "settings": {"server_url": server_url},
                }
            ],
        }
    return providers


SOCIALACCOUNT_PROVIDERS = social_providers()

# Wagtail's account page would change passwords and e-mail addresses outside allauth
# (no verification, no notification); people do that on allauth's pages instead.
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False

# django-axes: lock a username+IP pair after repeated failures, for a cool-off period.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"  # allauth's login form names the e-mail field "login"
# allauth authenticates with email=..., so axes needs to be told where the username is.
AXES_USERNAME_CALLABLE = "paylinks.auth.lockout.username"
AXES_CLIENT_IP_CALLABLE = "paylinks.auth.lockout.client_ip"
AXES_RESET_ON_SUCCESS = True
# The lockout page (account/lockout.html), answered with 429 Too Many Requests.
AXES_LOCKOUT_CALLABLE = "paylinks.auth.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
