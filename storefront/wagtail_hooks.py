"""/cms/: the payment-link chooser, the category snippets (scoped to the editor's
merchants), and Paylinks' branding."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.templatetags.static import static
from django.utils.html import format_html
from wagtail import hooks
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from paylinks import permissions

from .choosers import payment_link_chooser
from .models import BookCategory, ShopHomePage


@hooks.register("register_admin_viewset")
def register_payment_link_chooser() -> Any:
    return payment_link_chooser


class MerchantScopedPolicy(ModelPermissionPolicy):
    """The model permission, and only for objects of merchants the person may change."""

    def user_has_permission_for_instance(self, user: Any, action: str, instance: Any) -> bool:
        return self.user_has_permission(user, action) and permissions.can_write(
            user, instance.merchant
        )

    def instances_user_has_any_permission_for(self, user: Any, actions: Any) -> QuerySet[Any]:
        return (
            super()
            .instances_user_has_any_permission_for(user, actions)
            .filter(merchant__in=permissions.writable_merchants(user))
        )


class BookCategoryViewSet(SnippetViewSet):
    model = BookCategory
    icon = "folder-open-inverse"
    menu_label = "Book categories"
    list_display = ["name", "slug", "merchant"]
    search_fields = ["name"]

    def get_queryset(self, request: Any) -> QuerySet[BookCategory]:
        return BookCategory.objects.filter(
            merchant__in=permissions.writable_merchants(request.user)
        ).select_related("merchant")

    def get_form_class(self, for_update: bool = False) -> Any:
        form_class = super().get_form_class(for_update)

        class ScopedForm(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                user = getattr(self, "for_user", None)
                self.fields["merchant"].queryset = permissions.writable_merchants(user)

        return ScopedForm


register_permission_policy(BookCategory, MerchantScopedPolicy(BookCategory))
register_snippet(BookCategoryViewSet)


@hooks.register("insert_global_admin_css")
def paylinks_cms_css() -> str:
    return format_html('<link rel="stylesheet" href="{}">', static("storefront/cms.css"))


def without_other_shops(pages: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """No page of another merchant's shop (superusers: everything)."""
    if user.is_superuser:
        return pages
    others = ShopHomePage.objects.exclude(merchant__in=permissions.writable_merchants(user))
    for shop in others:
        pages = pages.exclude(path__startswith=shop.path)
    return pages


@hooks.register("construct_page_chooser_queryset")
def page_chooser_without_other_shops(pages: QuerySet[Any], request: Any) -> QuerySet[Any]:
    return without_other_shops(pages, request.user)


@hooks.register("construct_explorer_page_queryset")
def explorer_without_other_shops(
    parent_page: Any, pages: QuerySet[Any], request: Any
) -> QuerySet[Any]:
    return without_other_shops(pages, request.user)
