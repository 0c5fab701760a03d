"""Who edits which shop in /cms/: Wagtail groups mapped from merchant roles.

Every merchant with a shop has one group (``ShopEditors``) with page permissions on its
shop home (and so on everything below it) and image permissions on its own image
collection. Owners and managers of the merchant are in the group; viewers and everyone
else are not. ``storefront.signals`` calls these whenever a membership or a shop changes.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission

from paylinks.models import Membership, Merchant
from paylinks.models.merchants import WRITE_ROLES

from .models import ShopEditors, ShopHomePage

PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
IMAGE_PERMISSIONS = ("add_image", "change_image", "choose_image")
CATEGORY_PERMISSIONS = ("add_bookcategory", "change_bookcategory", "delete_bookcategory")


@transaction.atomic
def ensure_shop_editors(shop: ShopHomePage) -> ShopEditors:
    """The merchant's editor group, with its permissions on this shop; members follow."""
    merchant = shop.merchant
    editors = ShopEditors.objects.filter(merchant=merchant).select_related("group").first()
    if editors is None:
        group, _ = Group.objects.get_or_create(
            name=f"Shop editors: {merchant.name} ({merchant.slug})"
        )
        root = Collection.get_first_root_node() or Collection.add_root(name="Root")
        collection = root.add_child(name=f"{merchant.name} ({merchant.slug})")
        editors = ShopEditors.objects.create(merchant=merchant, group=group, collection=collection)
    group = editors.group
    # A shop moved to another merchant: the previous merchant's editors lose it.
    GroupPagePermission.objects.filter(page=shop).exclude(group=group).filter(
        group__in=ShopEditors.objects.values("group")
    ).delete()
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="storefront", codename__in=CATEGORY_PERMISSIONS
        ),
    )
    for permission in Permission.objects.filter(
        content_type__app_label="wagtailcore", codename__in=PAGE_PERMISSIONS
    ):
        GroupPagePermission.objects.get_or_create(group=group, page=shop, permission=permission)
    for permission in Permission.objects.filter(
        content_type__app_label="wagtailimages", codename__in=IMAGE_PERMISSIONS
    ):
        GroupCollectionPermission.objects.get_or_create(
            group=group, collection=editors.collection, permission=permission
        )
    sync_merchant_editors(merchant)
    return editors


def sync_merchant_editors(merchant: Merchant) -> None:
    """Exactly the merchant's owners and managers are in its editor group."""
    editors = ShopEditors.objects.filter(merchant=merchant).select_related("group").first()
    if editors is None:
        return
    writers = set(
        Membership.objects.filter(merchant=merchant, role__in=list(WRITE_ROLES)).values_list(
            "user_id", flat=True
        )
    )
    current = set(editors.group.user_set.values_list("pk", flat=True))
    editors.group.user_set.add(*(writers - current))
    editors.group.user_set.remove(*(current - writers))
