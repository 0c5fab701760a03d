"""Tenant isolation in /cms/: another merchant's shop pages answer 404.

Wagtail itself refuses to edit a page without permission, by redirecting to its
dashboard with a message; for pages of another merchant's shop Paylinks answers 404, as
everywhere else (the page's existence is not the other merchant's business).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from wagtail.models import Page

from paylinks import permissions

from .models import ShopHomePage

CMS_PAGE = re.compile(r"^/cms/pages/(\d+)/")


def may_open_page(user: object, page_id: int) -> bool:
    """Whether ``user`` may see the page in /cms/: pages outside any shop, and pages of
    shops of merchants they may change (superusers: all)."""
    if getattr(user, "is_superuser", False):
        return True
    path = Page.objects.filter(pk=page_id).values_list("path", flat=True).first()
    if path is None:
        return True  # Wagtail answers its own 404
    shop = ShopHomePage.objects.filter(path=path[: 2 * Page.steplen]).values("merchant").first()
    if shop is None:
        return True
    return permissions.writable_merchants(user).filter(pk=shop["merchant"]).exists()


class ShopPagesOfOtherMerchantsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = CMS_PAGE.match(request.path)
        if match and not may_open_page(request.user, int(match.group(1))):
            raise Http404("No such page.")
        return self.get_response(request)
