from __future__ import annotations

from django.db import models

from .links import PaymentLink


class LinkView(models.Model):
    """One visitor opening a link's checkout page, counted once per visitor per window.

    The visitor is an opaque cookie id from the checkout page, stored only as a keyed
    hash: Paylinks can tell two visits apart without being able to track anyone.
    """

    link = models.ForeignKey(PaymentLink, on_delete=models.CASCADE, related_name="views")
    visitor_hash = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["link", "visitor_hash", "window_start"], name="linkview_once_per_window"
            )
        ]
        indexes = [models.Index(fields=["link", "window_start"], name="linkview_link_window")]

    def __str__(self) -> str:
        return f"view of {self.link_id} at {self.window_start:%Y-%m-%d %H:%M}"
