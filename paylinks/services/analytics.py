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
    """Count a batch of visits, each ``(slug, visitor)`` as ``link_view_record`` would, in
    one transaction (one commit for the batch). Unknown slugs are skipped. Returns how
    many visits were new."""
    slugs = {slug for slug, _ in views}
    links = {
        link.slug: link
        for link in PaymentLink.objects.select_related("merchant").filter(slug__in=slugs)
    }
    recorded = 0
    for slug, visitor in views:
        link = links.get(slug)
        if link is not None and link_view_record(link=link, visitor=visitor, now=now):
            recorded += 1
    return recorded


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
