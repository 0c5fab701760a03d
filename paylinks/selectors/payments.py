from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from paylinks import permissions
from paylinks.models import Payment


def payments_visible_to(user: Any) -> QuerySet[Payment]:
    return Payment.objects.filter(merchant__in=permissions.visible_merchants(user))
