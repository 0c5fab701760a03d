"""The merchant console: one module per ModelAdmin, all registered on ``site``."""

from . import api_clients, audit, links, merchants, payments, users, webhooks  # noqa: F401
from .site import site

__all__ = ["site"]
