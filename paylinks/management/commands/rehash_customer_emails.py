"""``manage.py rehash_customer_emails``: recompute the e-mail search hash of every payment.

Needed after ``PAYLINKS_EMAIL_HASH_KEY`` changes (or ``SECRET_KEY``, when the hash key is
derived from it): until then, searching the console by a customer's e-mail finds only
payments made after the change."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from paylinks.services.customers import customer_email_hashes_refresh


class Command(BaseCommand):
    help = "Recompute every payment's customer e-mail search hash with the current key."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = customer_email_hashes_refresh()
        self.stdout.write(f"Payments re-hashed: {changed}")
