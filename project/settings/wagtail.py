"""Wagtail CMS (the public storefront's content) at /cms/."""

from .base import SITE_URL

WAGTAIL_SITE_NAME = "Paylinks"
WAGTAILADMIN_BASE_URL = SITE_URL
# Editors sign in through allauth like everyone else, so MFA and lockout apply to /cms/ too.
WAGTAILADMIN_LOGIN_URL = "account_login"
WAGTAIL_FRONTEND_LOGIN_URL = "account_login"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "txt"]
# Avatars: Wagtail's default asks gravatar.com for every editor's picture (an outside
# request the console's CSP blocks, and a leak of the e-mail's hash); a local default instead.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
