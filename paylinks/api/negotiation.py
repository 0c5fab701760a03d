"""Content negotiation for the API: DRF's, without parsing what every client sends.

The API has one renderer (JSON). For a request without a query string whose Accept
header is absent, ``*/*`` or ``application/json`` -- every call the checkout page makes,
and most clients' -- DRF's ``DefaultContentNegotiation`` always answers the same: the
JSON renderer, ``application/json``. It gets there by building the request's header
mapping and parsing each Accept token (7% of a public link read's CPU,
docs/scaling.md). This answers those requests directly; anything else (another Accept,
media-type parameters, ``?format=``, an empty header) goes through DRF's own code, so
406s and format overrides behave exactly as before.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

JSON = "application/json"
#: Accept headers for which DRF chooses the first renderer when it is JSON's, as JSON.
PLAIN_JSON_ACCEPT = frozenset({None, "*/*", JSON})


def wants_plain_json(request: HttpRequest | Request) -> bool:
    """No query string (so no ``?format=``) and an Accept header DRF answers with the
    first renderer when that is JSON's, as plain ``application/json``."""
    meta: dict[str, Any] = getattr(request, "_request", request).META
    return not meta.get("QUERY_STRING") and meta.get("HTTP_ACCEPT") in PLAIN_JSON_ACCEPT


class JSONFirstNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self,
        request: Request,
        renderers: list[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        if (
            format_suffix is None
            and renderers
            and renderers[0].media_type == JSON
            and wants_plain_json(request)
        ):
            return renderers[0], JSON
        return super().select_renderer(request, renderers, format_suffix)
