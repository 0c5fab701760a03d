"""Print where Paylinks is running and how to sign in (used by `make run`)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from fixtures.demo import DEMO_PASSWORD, DEMO_USERS
from paylinks.models.links import link_url


class Command(BaseCommand):
    help = "Print the local URLs and the demo sign-ins."

    def handle(self, *args: Any, **options: Any) -> None:
        out = self.stdout
        out.write("")
        out.write(self.style.SUCCESS("Paylinks is starting."))
        out.write(f"  Merchant console   {settings.SITE_URL}/admin/")
        out.write(f"  Checkout pages     {link_url('<link>')}")
        out.write(f"  Storefront CMS     {settings.SITE_URL}/cms/")
        out.write(f"  Gateway            {settings.PAYLINKS_GATEWAY}")
        out.write("")
        out.write(f"Demo sign-ins (password {DEMO_PASSWORD!r}):")
        for email, description in DEMO_USERS:
            out.write(f"  {email:<28} {description}")
        out.write("")
