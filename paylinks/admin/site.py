from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import SimpleTemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils import timezone
from unfold.sites import UnfoldAdminSite

from paylinks import permissions

from . import display as ui


def console_timezone(user: Any) -> tzinfo:
    """The merchant's reporting zone when everything a person sees shares one, else the
    site's (UTC unless the operator says otherwise): support staff's lists across merchants.
    A page about one object, or a list filtered to one merchant, switches to that merchant's
    zone (``display.show_times_of``)."""
    zones = set(permissions.visible_merchants(user).values_list("timezone", flat=True)[:50])
    return ui.zone(zones.pop() if len(zones) == 1 else settings.TIME_ZONE)


class PaylinksAdminSite(UnfoldAdminSite):
    """The merchant console.

    Entry is decided by Paylinks' roles, not Django's ``is_staff`` flag, and signing in
    always goes through allauth so e-mail verification, MFA and lockout apply.
    Third-party apps that register with ``django.contrib.admin.site`` do not appear here:
    only models registered below, each scoped to the merchant, are reachable.
    Dates and times are shown in the merchant's time zone.
    """

    site_title = "Paylinks"
    site_header = "Paylinks"
    index_title = "Overview"
    index_template = "console/index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        return permissions.can_enter_console(request.user)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': target})}")

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def in_merchant_time(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated:
                return inner(request, *args, **kwargs)
            with timezone.override(console_timezone(request.user)):
                response = inner(request, *args, **kwargs)
                # Template responses render after the view returns: render them here,
                # while the merchant's time zone is active.
                if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                    response.render()
                return response

        return in_merchant_time

    def get_urls(self) -> list[URLResolver | URLPattern]:
        """Django's "view on site" shortcut (``r/<content type>/<object>/``) follows any
        content type id to any model -- one without a table answered 500 -- and redirects
        to any object's page. Here it serves only models of this console, and only
        objects the person's scoped queryset holds; everything else is a 404."""
        urls = [u for u in super().get_urls() if getattr(u, "name", None) != "view_on_site"]
        shortcut = path(
            "r/<path:content_type_id>/<path:object_id>/",
            self.admin_view(self.view_on_site),
            name="view_on_site",
        )
        return [shortcut, *urls]

    def view_on_site(
        self, request: HttpRequest, content_type_id: str, object_id: str
    ) -> HttpResponse:
        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except (ValueError, OverflowError, ContentType.DoesNotExist):
            raise Http404 from None
        model_admin = self._registry.get(model) if model is not None else None
        if model_admin is None or not model_admin.has_view_or_change_permission(request):
            raise Http404
        if model_admin.get_object(request, unquote(object_id)) is None:
            raise Http404
        return contenttype_views.shortcut(request, content_type_id, object_id)

    def app_index(
        self, request: HttpRequest, app_label: str, extra_context: dict | None = None
    ) -> HttpResponse:
        # The console is organised by task in the sidebar, not by Django app: the
        # generic "Paylinks" app page would only repeat it, less helpfully.
        return HttpResponseRedirect(reverse("admin:index", current_app=self.name))


site = PaylinksAdminSite(name="admin")
