"""Generate realistic payment volume for analytics and benchmarks (local development)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fixtures import seed


class Command(BaseCommand):
    help = (
        "Add N realistic payments (with their timeline, refunds and link page views) over "
        "new merchants, written with PostgreSQL COPY, then rebuild their analytics rollups. "
        "Refuses when DEBUG is off unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--payments", type=int, required=True)
        parser.add_argument("--merchants", type=int, default=1)
        parser.add_argument(
            "--days", type=int, default=365, help="History length in days (default 365)."
        )
        parser.add_argument("--seed", type=int, default=None, help="Same seed, same data.")
        parser.add_argument(
            "--no-rollups", action="store_true", help="Leave the rollups to rebuild_rollups."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run although DEBUG is off. It adds made-up merchants and payments to this "
            "database: never on one that holds real data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off, so nothing was seeded: this adds made-up merchants and "
                "payments. Run with DEBUG=true, or add --force if this database is for tests."
            )
        payments, merchants, days = options["payments"], options["merchants"], options["days"]
        if payments < 1 or merchants < 1 or merchants > payments:
            raise CommandError("--payments must be at least 1 and at least --merchants.")
        if not 1 <= days <= 3660:
            raise CommandError("--days must be between 1 and 3660.")
        try:
            done = seed.seed(
                payments=payments,
                merchants=merchants,
                days=days,
                seed=options["seed"],
                rebuild=not options["no_rollups"],
                log=self.stdout.write,
            )
        except seed.SeedUsed as exc:
            raise CommandError(str(exc)) from None
        timings = ", ".join(f"{name} {s:.1f} s" for name, s in done.seconds.items())
        self.stdout.write(
            f"Seeded {done.payments:,} payments for {done.merchants} merchants "
            f"({done.links} links), {done.events:,} timeline events, {done.refunds:,} refunds, "
            f"{done.views:,} page views, {done.rollup_rows:,} rollup rows: {timings}."
        )
