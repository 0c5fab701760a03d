"""Recompute the analytics rollups from the raw rows: after an upgrade, a repair, or a bulk
import that bypassed the services. Safe while payments flow (docs/operations.md)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from paylinks.models import Merchant
from paylinks.services import rollups


class Command(BaseCommand):
    help = (
        "Rebuild the analytics rollups of one or more merchants (--merchant SLUG, repeatable) "
        "or of every merchant (--all) from payments, their timeline and link views. Safe "
        "while payments flow: each chunk of days is replaced in one short transaction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", action="append", default=[], metavar="SLUG")
        parser.add_argument("--all", action="store_true", help="Every merchant.")
        parser.add_argument(
            "--chunk-days",
            type=int,
            default=31,
            help="Days rebuilt per transaction (default 31); writers for the merchant wait "
            "at most one chunk.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slugs, every = options["merchant"], options["all"]
        if bool(slugs) == bool(every):
            raise CommandError("Name merchants with --merchant SLUG, or pass --all.")
        if options["chunk_days"] < 1:
            raise CommandError("--chunk-days must be at least 1.")
        merchants = Merchant.objects.order_by("pk")
        if slugs:
            merchants = merchants.filter(slug__in=slugs)
            missing = set(slugs) - set(merchants.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No merchant with slug {', '.join(sorted(missing))}.")
        for merchant in merchants.iterator():
            started = time.perf_counter()
            done = rollups.rebuild(merchant=merchant, chunk_days=options["chunk_days"])
            self.stdout.write(
                f"{done.merchant}: {done.rows:,} rows over {done.days:,} days in {done.chunks} "
                f"chunks ({time.perf_counter() - started:.1f} s)"
            )
