"""Recording what customers do on the public page, for the per-link funnel."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from paylinks.models import LinkView, PaymentLink

from . import ga4, rollups


def visitor_hash(visitor: str) -> str:
    key = f"{settings.SECRET_KEY}:link-views".encode()
    return hmac.new(key, visitor.encode(), hashlib.sha256).hexdigest()


def window_start(now: datetime) -> datetime:
    seconds = settings.PAYLINKS_VIEW_WINDOW_MINUTES * 60
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


@transaction.atomic
def link_views_record(views: list[tuple[str, str]], now: datetime | None = None) -> int:
    """Count a batch of visits, each ``(slug, visitor)`` once per visitor and window as
    ``link_view_record`` does, in one transaction: the visits not counted yet are inserted
    together and the rollups moved once per row. Unknown slugs are skipped. Returns how
    many visits were new. (Two requests counting the same new visitor at the same instant
    may both count it; the checkout page sends one batch at a time.)"""
    now = now or timezone.now()
    window = window_start(now)
    links = {
        link.slug: link
        for link in PaymentLink.objects.select_related("merchant").filter(
            slug__in={slug for slug, _ in views}
        )
    }
    wanted: dict[tuple[int, str], tuple[PaymentLink, str]] = {}
    for slug, visitor in views:
        if (link := links.get(slug)) is not None:
            wanted.setdefault((link.pk, visitor_hash(visitor)), (link, visitor))
    if not wanted:
        return 0
    seen = set(
        LinkView.objects.filter(
            link_id__in={pk for pk, _ in wanted},
            visitor_hash__in={digest for _, digest in wanted},
            window_start=window,
        ).values_list("link_id", "visitor_hash")
    )
    new = [
        (LinkView(link=link, visitor_hash=digest, window_start=window), visitor)
        for (pk, digest), (link, visitor) in wanted.items()
        if (pk, digest) not in seen
    ]
    LinkView.objects.bulk_create([view for view, _ in new], ignore_conflicts=True)
    rollups.links_viewed(view for view, _ in new)
    for view, visitor in new:
        if view.link.merchant.sends_to_ga4:
            ga4.link_viewed(view=view, visitor=visitor)
    return len(new)


def link_view_record(*, link: PaymentLink, visitor: str, now: datetime | None = None) -> bool:
    """Count a visit unless this visitor was already counted in the current window."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            view = LinkView.objects.create(
                link=link, visitor_hash=visitor_hash(visitor), window_start=window_start(now)
            )
            rollups.link_viewed(view)
            ga4.link_viewed(view=view, visitor=visitor)
    except IntegrityError:
        return False
    return True
