"""Paylinks settings: everything lives here, read from the environment.

Integration-specific settings sit beside this module (``unfold.py``, ``allauth.py``,
``payments.py``, ``wagtail.py``) and are pulled together by ``__init__.py``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from .env import env_bool, env_int, env_list, env_secret, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent.parent
if not env_bool("PAYLINKS_SKIP_DOTENV", False):
    load_dotenv(BASE_DIR / ".env")

DEBUG = env_bool("DEBUG", False)

# --- secrets ----------------------------------------------------------------------------
# Outside DEBUG, Paylinks refuses to start without real secrets: a payments product with a
# guessable session key or no encryption key must never reach a customer.
_DEV_SECRET_KEY = "django-insecure-paylinks-development-only-never-use-in-production"  # noqa: S105 - public, DEBUG only
_DEV_FIELD_KEY = "cGF5bGlua3MtZGV2LWtleS1ub3QtYS1zZWNyZXQhISE="  # a fixed, public development key

SECRET_KEY = env_secret("SECRET_KEY")
# Rotation: the new key in SECRET_KEY, the old one here until sessions signed with it lapse.
SECRET_KEY_FALLBACKS = [k for k in env_secret("SECRET_KEY_FALLBACKS").split(",") if k.strip()]
_FIELD_KEYS = env_secret("FIELD_ENCRYPTION_KEY")

if DEBUG:
    SECRET_KEY = SECRET_KEY or _DEV_SECRET_KEY
    _FIELD_KEYS = _FIELD_KEYS or _DEV_FIELD_KEY
else:
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or too weak. Set SECRET_KEY (or SECRET_KEY_FILE) to a "
            "random string of at least 32 characters, e.g. "
            f"{secrets.token_urlsafe(48)!r}, or run with DEBUG=true for local development."
        )
    if not _FIELD_KEYS or _FIELD_KEYS == _DEV_FIELD_KEY:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is missing. Set it to one or more comma-separated Fernet "
            "keys (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'); the first key encrypts, all decrypt."
        )

# django-encrypted-model-fields takes a list: the first key encrypts, all of them decrypt.
FIELD_ENCRYPTION_KEY = [key.strip() for key in _FIELD_KEYS.split(",") if key.strip()]
for _position, _key in enumerate(FIELD_ENCRYPTION_KEY, start=1):
    try:
        Fernet(_key.encode())
    except ValueError:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEY entry {_position} is not a valid Fernet key (32 url-safe "
            "base64-encoded bytes). Generate one with: python -c 'from cryptography.fernet "
            "import Fernet; print(Fernet.generate_key().decode())'"
        ) from None

# The key of the keyed hash stored beside each payment's encrypted customer e-mail, for
# exact search (paylinks.crypto). Comma-separated like FIELD_ENCRYPTION_KEY: the first
# hashes, all are searched. Empty: derived from SECRET_KEY (with SECRET_KEY_FALLBACKS).
_SEARCH_KEYS = env_secret("PAYLINKS_SEARCH_HASH_KEY")
PAYLINKS_SEARCH_HASH_KEY = [key.strip() for key in _SEARCH_KEYS.split(",") if key.strip()]
if any(len(k) < 32 for k in PAYLINKS_SEARCH_HASH_KEY):
    raise ImproperlyConfigured(
        "PAYLINKS_SEARCH_HASH_KEY entries must be random strings of at least 32 characters, "
        f"e.g. {secrets.token_urlsafe(48)!r}."
    )

# --- hosts and URLs ---------------------------------------------------------------------
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
# Shared with the checkout page's server (the same variable there): with it, the page
# sends the visits it answers from its page cache in batches (paylinks/api/internal.py)
# instead of one request each. Empty: the batch endpoint answers 404.
PAYLINKS_CHECKOUT_TOKEN = env_secret("PAYLINKS_CHECKOUT_TOKEN")
PUBLIC_CHECKOUT_URL = env_str("PUBLIC_CHECKOUT_URL", "http://localhost:3000").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)

# --- applications -----------------------------------------------------------------------
INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.inlines",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Wagtail's database search backend uses PostgreSQL's full-text fields there.
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.openid_connect",
    # The OAuth 2.0 provider issuing the merchant API's tokens (project/settings/api.py).
    "allauth.idp.oidc",
    "axes",
    "encrypted_model_fields",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI + Redoc files for /api/v1/docs/, no CDN
    "django_tasks_db",
    # The book shop (Wagtail pages); before Wagtail's apps so its templates brand /cms/.
    "storefront",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "paylinks",
    "paylinks.gateways.sandbox",
    "dashboards",
    "theme",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Logs once when requests come through a proxy Django believes no hop of.
    "project.middleware.UntrustedProxyMiddleware",
    # One budget for the gateway calls of a request, shorter than the worker timeout.
    "project.availability.GatewayDeadlineMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's session, user and messages middleware, skipped on the public API, which
    # has no use for them (PUBLIC_API_PREFIX; project/middleware.py).
    "project.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "project.middleware.AuthenticationMiddleware",
    "project.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "project.middleware.ContentSecurityPolicyMiddleware",
    # Before anything that queries: PostgreSQL text cannot hold a NUL byte.
    "project.middleware.RejectNullBytesMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # The admin's and Wagtail's own login/password views lead to allauth's, GET or POST.
    "paylinks.middleware.SignInThroughAllauthMiddleware",
    "paylinks.middleware.RequireMFAMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # /cms/pages/<id>/... of another merchant's shop: 404 (storefront/middleware.py).
    "storefront.middleware.ShopPagesOfOtherMerchantsMiddleware",
    # AxesMiddleware must be last: it turns lockouts raised by the backend into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "theme" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database, cache --------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'paylinks.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The hot statements of paylinks/fastsql.py run as prepared statements (psycopg's
    # prepare_threshold must be set for that; Django's client-side cursors, which run
    # everything else, never prepare). Off for a pooler that cannot keep them.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        5 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web process and the worker share the embedded database.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The payments index carries the columns analytics sums (INCLUDE) for PostgreSQL's
    # index-only scans; SQLite builds the same index without them, which is all the embedded
    # database needs. Without this every manage.py command would say so six times.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "paylinks",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "paylinks",
        }
    }

# --- background tasks -------------------------------------------------------------------
# The embedded default keeps tasks in the database (durable, no extra service); with
# REDIS_URL set, PAYLINKS_TASK_BACKEND=rq moves them to Redis Queue.
TASK_BACKEND = env_str("PAYLINKS_TASK_BACKEND", "rq" if REDIS_URL else "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
if TASK_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"PAYLINKS_TASK_BACKEND must be one of {sorted(_TASK_BACKENDS)}, not {TASK_BACKEND!r}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASK_BACKEND], "QUEUES": ["default"]}}
if TASK_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("PAYLINKS_TASK_BACKEND=rq needs REDIS_URL")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}

# --- authentication ---------------------------------------------------------------------
AUTH_USER_MODEL = "paylinks.User"
AUTHENTICATION_BACKENDS = [
    # Axes first, so a locked-out username+IP never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/admin/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- i18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# One date format in the console, Django's own read-only fields included (docs/decisions.md).
FORMAT_MODULE_PATH = ["project.formats"]

# --- static and media -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js from the plotly package, as static/dashboards/plotly.min.js (no CDN).
    "dashboards.staticfiles.PlotlyJsFinder",
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- e-mail -----------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before a mail server that does not answer counts as down; the worker then
# retries the message later (paylinks/notifications/mail.py). Never a web request's wait.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Paylinks <no-reply@paylinks.localhost>")

# --- security headers -------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", SITE_URL.startswith("https://"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
# Only the operator knows whether every subdomain is https too and whether the domain
# belongs on the browsers' preload list: off unless they say so (docs/security.md).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# A TLS-terminating proxy in front: its X-Forwarded-Proto is believed, and (unless set)
# one hop of X-Forwarded-For too (PAYLINKS_TRUSTED_PROXIES, PAYLINKS_SIGNIN_TRUSTED_PROXIES).
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None

# Public pages get the strict policy; the console gets the one Unfold (Alpine.js) needs.
# project.middleware.ContentSecurityPolicyMiddleware chooses between them by path.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
# The console's forms post to itself; the sign-in provider buttons' forms lead on (a 302,
# which browsers check against form-action too) to each configured provider's authorize
# page. The middleware adds those origins (project.middleware.console_form_action) plus
# PAYLINKS_CONSOLE_FORM_ORIGINS for a provider whose authorize page lives elsewhere, and,
# under DEBUG only, any local port (a development identity provider).
CONSOLE_CSP = {
    **SECURE_CSP,
    "script-src": [CSP.SELF, CSP.UNSAFE_INLINE, CSP.UNSAFE_EVAL],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "form-action": [CSP.SELF],
}
PAYLINKS_CONSOLE_FORM_ORIGINS = env_list("PAYLINKS_CONSOLE_FORM_ORIGINS")
CONSOLE_PATH_PREFIXES = ("/admin/", "/cms/", "/accounts/", "/api/v1/docs/")
# The checkout page's API: no session, no user, no messages (project/middleware.py).
PUBLIC_API_PREFIX = "/api/v1/public/"

# --- Paylinks ---------------------------------------------------------------------------
PAYLINKS_GATEWAY = env_str("PAYLINKS_GATEWAY", "sandbox")
PAYLINKS_REQUIRE_MFA = env_bool("PAYLINKS_REQUIRE_MFA", not DEBUG)

# Logging, health checks and metrics: project/settings/ops.py.
