"""Error pages of their own for the shop (/), the console (/admin/) and /cms/.

Each area's page says where the person is and leads back into that area. The templates
(theme/templates/404.html, 403.html, 500.html) link only Paylinks' own stylesheet, so the
public pages' strict CSP holds. The 500 page is rendered without a request context: no
context processor, no session, no database.
"""

from __future__ import annotations

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template.loader import render_to_string

AREAS = {
    "/admin/": ("console", "Paylinks console", "/admin/", "Back to the console"),
    "/cms/": ("cms", "Paylinks shop editor", "/cms/", "Back to the shop editor"),
    "/accounts/": ("console", "Paylinks", "/admin/", "Back to the console"),
}
SHOP = ("shop", "", "/", "Back to the shop")


def area_context(path: str) -> dict[str, str]:
    """Which part of Paylinks the address belongs to, from the path alone."""
    area, name, home, back = next(
        (values for prefix, values in AREAS.items() if path.startswith(prefix)), SHOP
    )
    return {"area": area, "area_name": name, "home_url": home, "back_label": back}


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    html = render_to_string("404.html", area_context(request.path), request=request)
    return HttpResponseNotFound(html)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    html = render_to_string("403.html", area_context(request.path), request=request)
    return HttpResponseForbidden(html)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request: nothing that might need the database (the session, the user) is touched.
    return HttpResponseServerError(render_to_string("500.html", area_context(request.path)))
