"""``manage.py reconcile``: re-check open and pending payments and unprocessed webhook
events against the gateway, now. The sweeper does the same in the background; this is
for operators after an outage or a lost webhook endpoint."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from paylinks.sweeper import sweep


class Command(BaseCommand):
    help = "Re-check pending payments and unprocessed webhook events against the gateway."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="Check every pending payment, not only those that should have moved by now.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = sweep(everything=options["all"])
        if not counts or not any(counts.values()):
            self.stdout.write("Nothing to reconcile.")
            return
        for key, value in sorted(counts.items()):
            if value:
                self.stdout.write(f"{key.replace('_', ' ')}: {value}")
