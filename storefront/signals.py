"""Wagtail's page signals keep each book's payment link in step (``storefront.links``);
membership changes keep the shop editor groups in step (``storefront.editors``)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from wagtail.signals import page_published, page_unpublished

from paylinks.models import Membership

from . import editors, links
from .models import BookPage, ShopHomePage


def _actor(revision: Any) -> Any:
    user = getattr(revision, "user", None)
    return user if user is not None and user.is_authenticated else None


@receiver(page_published, sender=BookPage)
def book_published(sender: type, instance: BookPage, revision: Any = None, **kwargs: Any) -> None:
    links.sync_book_link(instance, actor=_actor(revision))


@receiver(page_unpublished, sender=BookPage)
def book_unpublished(sender: type, instance: BookPage, **kwargs: Any) -> None:
    links.withdraw_book_link(instance, actor=None)


@receiver(pre_delete, sender=BookPage)
def book_deleted(sender: type, instance: BookPage, **kwargs: Any) -> None:
    links.withdraw_book_link(instance, actor=None)


@receiver(post_save, sender=ShopHomePage)
def shop_saved(sender: type, instance: ShopHomePage, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        editors.ensure_shop_editors(instance)


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def membership_changed(sender: type, instance: Membership, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        editors.sync_merchant_editors(instance.merchant)
