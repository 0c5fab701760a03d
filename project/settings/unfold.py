"""The merchant console's look and navigation (django-unfold).

Data and dotted paths only: callbacks live in ``theme/``.
"""

from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

static_lazy = lazy(static, str)

MEMBER = "theme.navigation.console_member"

UNFOLD = {
    "SITE_TITLE": "Paylinks",
    "SITE_HEADER": "Paylinks",
    "SITE_SUBHEADER": "theme.callbacks.site_subheader",
    "SITE_URL": None,
    "SITE_ICON": static_lazy("theme/paylinks-icon.svg"),
    "SITE_SYMBOL": "link",
    "SITE_FAVICONS": [
        {"rel": "icon", "type": "image/svg+xml", "href": static_lazy("theme/paylinks-icon.svg")},
    ],
    "ENVIRONMENT": "theme.callbacks.environment",
    "ENVIRONMENT_TITLE_PREFIX": None,
    "DASHBOARD_CALLBACK": "theme.callbacks.dashboard",
    "SHOW_HISTORY": False,
    "SHOW_VIEW_ON_SITE": False,
    "BORDER_RADIUS": "8px",
    "STYLES": [static_lazy("theme/console.css")],
    "SCRIPTS": [static_lazy("theme/console.js")],
    "ACCOUNT": {
        "navigation": [
            {"title": _("Password"), "link": reverse_lazy("account_change_password")},
            {"title": _("Two-factor authentication"), "link": reverse_lazy("mfa_index")},
        ],
    },
    "COLORS": {
        # Paylinks indigo: a blue-violet that reads as "money you can trust", kept away
        # from the green / orange / red of the status badges.
        "primary": {
            "50": "oklch(97.2% .014 268)",
            "100": "oklch(94% .033 268)",
            "200": "oklch(88.5% .06 268)",
            "300": "oklch(80.5% .105 269)",
            "400": "oklch(69.5% .17 270)",
            "500": "oklch(59.5% .215 271)",
            "600": "oklch(52% .235 272)",
            "700": "oklch(46% .215 272)",
            "800": "oklch(39.5% .18 272)",
            "900": "oklch(34% .145 272)",
            "950": "oklch(25.5% .105 273)",
        },
        # Slate: a cool neutral that sits well with the indigo.
        "base": {
            "50": "oklch(98.4% .003 248)",
            "100": "oklch(96.8% .007 248)",
            "200": "oklch(92.9% .013 255)",
            "300": "oklch(86.9% .022 252)",
            "400": "oklch(70.4% .04 256)",
            "500": "oklch(55.4% .046 257)",
            "600": "oklch(44.6% .043 257)",
            "700": "oklch(37.2% .044 257)",
            "800": "oklch(27.9% .041 260)",
            "900": "oklch(20.8% .042 265)",
            "950": "oklch(12.9% .042 265)",
        },
    },
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        "navigation": [
            {
                "title": _("Home"),
                "items": [
                    {
                        "title": _("Overview"),
                        "icon": "space_dashboard",
                        "link": reverse_lazy("admin:index"),
                        "permission": MEMBER,
                    },
                ],
            },
            {
                "title": _("Links"),
                "items": [
                    {
                        "title": _("Payment links"),
                        "icon": "link",
                        "link": reverse_lazy("admin:paylinks_paymentlink_changelist"),
                        "permission": MEMBER,
                    },
                ],
            },
            {
                "title": _("Payments"),
                "items": [
                    {
                        "title": _("Payments"),
                        "icon": "payments",
                        "link": reverse_lazy("admin:paylinks_payment_changelist"),
                        "permission": MEMBER,
                    },
                ],
            },
            {
                "title": _("Analytics"),
                "items": [
                    {
                        "title": _("Analytics"),
                        "icon": "monitoring",
                        "link": reverse_lazy("analytics:index"),
                        "permission": MEMBER,
                    },
                    {
                        "title": _("Support overview"),
                        "icon": "support_agent",
                        "link": reverse_lazy("analytics:support"),
                        "permission": "theme.navigation.platform_staff",
                    },
                ],
            },
            {
                "title": _("Developers"),
                "items": [
                    {
                        "title": _("API clients"),
                        "icon": "key",
                        "link": reverse_lazy("admin:paylinks_apiclient_changelist"),
                        "permission": "theme.navigation.api_client_manager",
                    },
                    {
                        "title": _("Webhooks"),
                        "icon": "webhook",
                        "link": reverse_lazy("admin:paylinks_webhookendpoint_changelist"),
                        "permission": MEMBER,
                    },
                    {
                        "title": _("API documentation"),
                        "icon": "menu_book",
                        "link": reverse_lazy("api:docs"),
                        "permission": MEMBER,
                    },
                ],
            },
            {
                "title": _("Team"),
                "items": [
                    {
                        "title": _("Members"),
                        "icon": "group",
                        "link": reverse_lazy("admin:paylinks_membership_changelist"),
                        "permission": MEMBER,
                    },
                    {
                        "title": _("Merchant settings"),
                        "icon": "storefront",
                        "link": reverse_lazy("admin:paylinks_merchant_changelist"),
                        "permission": MEMBER,
                    },
                ],
            },
            {
                "title": _("Audit"),
                "items": [
                    {
                        "title": _("Audit log"),
                        "icon": "history",
                        "link": reverse_lazy("admin:paylinks_auditentry_changelist"),
                        "permission": MEMBER,
                    },
                ],
            },
            {
                "title": _("Platform"),
                "items": [
                    {
                        "title": _("Users"),
                        "icon": "manage_accounts",
                        "link": reverse_lazy("admin:paylinks_user_changelist"),
                        "permission": "theme.navigation.platform_operator",
                    },
                    {
                        "title": _("Webhook events"),
                        "icon": "webhook",
                        "link": reverse_lazy("admin:paylinks_webhookevent_changelist"),
                        "permission": "theme.navigation.platform_staff",
                    },
                ],
            },
        ],
    },
}
