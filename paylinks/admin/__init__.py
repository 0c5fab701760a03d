"""The merchant console: one module per ModelAdmin, all registered on ``site``."""

from . import (  # noqa: F401
    api_clients,
    audit,
    links,
    merchants,
    payments,
    users,
    webhook_endpoints,
    webhooks,
)
from .site import site

__all__ = ["site"]
