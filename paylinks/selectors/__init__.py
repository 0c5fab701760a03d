"""Reads: merchant-scoped querysets and plain data for views, admin and the API."""
