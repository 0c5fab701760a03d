"""An endpoint only Paylinks' own checkout page calls: the visits it answered from its
page cache (checkout/server.mjs), counted in batches.

Counting a visit was one request to Django per page view, and at hundreds of views a
second those requests, not the page, were the limit (docs/scaling.md). The page now
sends them together, a few times a second. The endpoint trusts its caller to have seen
those visits, so it takes only a bearer token shared with the page
(``PAYLINKS_CHECKOUT_TOKEN``, compared in constant time); without the setting it does
not exist (404). It is not part of the public API or its schema.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from paylinks.services.analytics import link_views_record

MAX_VIEWS = 1000
MAX_BODY_BYTES = 128 * 1024


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _views(body: Any) -> list[tuple[str, str]] | None:
    views = body.get("views") if isinstance(body, dict) else None
    if not isinstance(views, list) or len(views) > MAX_VIEWS:
        return None
    out = []
    for item in views:
        slug = item.get("slug") if isinstance(item, dict) else None
        visitor = item.get("visitor") if isinstance(item, dict) else None
        if not (isinstance(slug, str) and 0 < len(slug) <= 64):
            return None
        if not (isinstance(visitor, str) and 16 <= len(visitor) <= 128):
            return None
        out.append((slug, visitor))
    return out


@csrf_exempt
@require_POST
def view_batch(request: HttpRequest) -> JsonResponse:
    token = settings.PAYLINKS_CHECKOUT_TOKEN
    if not token:
        return _error("not_found", "Not found.", 404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return _error("unauthorized", "A valid checkout token is required.", 401)
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
        return _error("payload_too_large", "The request body is too large.", 400)
    try:
        views = _views(json.loads(request.body or b"null"))
    except (ValueError, UnicodeDecodeError):
        views = None
    if views is None:
        return _error(
            "invalid_request",
            f'Send {{"views": [{{"slug": ..., "visitor": ...}}]}}, at most {MAX_VIEWS}.',
            400,
        )
    return JsonResponse({"recorded": link_views_record(views)}, status=202)
