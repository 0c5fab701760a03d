"""Load the demo merchants, people, links and payments (local development only)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fixtures import demo
from fixtures import shop as demo_shop


class Command(BaseCommand):
    help = (
        "Load demo data: two merchants, a person for every role (password "
        f"{demo.DEMO_PASSWORD!r}), about 20 payment links in every state and a few "
        "thousand payments over the last 90 days. Refuses when DEBUG is off. "
        "Does nothing when the demo data is already loaded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--payments",
            type=int,
            default=demo.DEFAULT_PAYMENTS,
            help=f"How many payments to simulate (default {demo.DEFAULT_PAYMENTS}, "
            f"at least {demo.MIN_PAYMENTS}).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.SEED,
            help="Seed of the random generator: the same seed gives the same data.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even though DEBUG is off. Dangerous: it creates accounts whose "
            "password is published in this repository, among them a superuser, so anyone "
            "who can reach the site can sign in with them. Never use it on a server that "
            "is reachable by others or holds real data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off, so no demo data was loaded: demo accounts share a published "
                f"password ({demo.DEMO_PASSWORD!r}) and include a superuser. Run with "
                "DEBUG=true for local development, or add --force if you really mean to "
                "load it into this database."
            )
        if options["payments"] < demo.MIN_PAYMENTS:
            raise CommandError(f"--payments must be at least {demo.MIN_PAYMENTS}.")
        if demo.is_loaded():
            self.stdout.write("Demo data is already loaded: nothing to do.")
            self._load_shop()
            return
        if existing := demo.existing_demo_objects():
            raise CommandError(
                "Some demo data exists but not all of it ("
                + ", ".join(existing)
                + "): load the demo into a fresh database."
            )
        started = time.monotonic()
        summary = demo.load(payments=options["payments"], seed=options["seed"])
        self._report(summary, time.monotonic() - started)
        self.stdout.write(
            f"  Shop       Acme Books at /, {len(demo_shop.BOOKS)} books and their sales "
            "(edit them at /cms/ as owner@acme.test or manager@acme.test)"
        )

    def _load_shop(self) -> None:
        """The demo book shop at / (its own check: databases loaded before it get it too)."""
        shop = demo_shop.load_shop()
        if shop is not None:
            self.stdout.write(
                f"  Shop       {shop.shop.title} at /, {len(shop.books)} books "
                "(edit them at /cms/ as owner@acme.test or manager@acme.test)"
            )

    def _report(self, summary: demo.DemoSummary, seconds: float) -> None:
        out = self.stdout

        def counts(values: dict[str, int]) -> str:
            return ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in values.items())

        out.write(self.style.SUCCESS(f"Loaded demo data in {seconds:.1f} s."))
        out.write(f"  Merchants  {', '.join(summary.merchants)}")
        out.write(f"  People     {len(summary.people)}, password {demo.DEMO_PASSWORD!r}")
        links = sum(summary.links_by_state.values())
        out.write(f"  Links      {links}: {counts(summary.links_by_state)}")
        out.write(f"             in {', '.join(summary.currencies)}")
        payments = sum(summary.payments_by_status.values())
        out.write(f"  Payments   {payments:,}: {counts(summary.payments_by_status)}")
        out.write(f"  Methods    {counts(summary.payments_by_method)}")
        out.write(f"  Timeline   {summary.events:,} events, {summary.refunds:,} refunds")
        out.write(f"  Page views {summary.views:,} (the links' funnels)")
