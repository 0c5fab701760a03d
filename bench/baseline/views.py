"""The baselines every Paylinks figure is compared with: bare Django views, one query each.

They run in the same gunicorn, behind the same middleware, against the same database as
the product's endpoints, so "product / baseline" is the cost of Paylinks' own work.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import BenchRow


@csrf_exempt
@require_POST
def insert(request: HttpRequest) -> JsonResponse:
    """One INSERT of the raw request body: the floor under webhook ingestion and checkout."""
    row = BenchRow.objects.create(label="insert", body=request.body.decode("utf-8", "replace"))
    return JsonResponse({"id": row.pk}, status=200)


@require_GET
def row(request: HttpRequest, pk: int) -> JsonResponse:
    """One primary-key SELECT: the floor under the public link endpoint."""
    found = BenchRow.objects.filter(pk=pk).values("id", "label", "created_at").first()
    if found is None:
        return JsonResponse({"error": "not found"}, status=404)
    return JsonResponse(found)


@require_GET
def ping(request: HttpRequest) -> JsonResponse:
    """No database at all: used to tell when the server is up."""
    return JsonResponse({"ok": True})
