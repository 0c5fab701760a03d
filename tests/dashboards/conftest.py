"""The console's fixtures (signed-in clients, a few links) for the analytics pages."""

from ..admin.conftest import acme_link, acme_yen_link, console, globex_link  # noqa: F401
