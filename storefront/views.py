from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect


def old_shop_address(request: HttpRequest, rest: str = "") -> HttpResponsePermanentRedirect:
    """/shop/<rest> -> /<rest>: the shop moved to the site's root. Never to another host:
    "/shop//evil.example" leads to "/evil.example", not "//evil.example"."""
    target = "/" + rest.lstrip("/\\")
    if request.META.get("QUERY_STRING"):
        target += "?" + request.META["QUERY_STRING"]
    return HttpResponsePermanentRedirect(target)
