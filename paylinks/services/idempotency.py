"""Safe retries for the merchant API: the first answer to an ``Idempotency-Key`` is kept.

A POST sent with a key runs once per (client, key). Its answer is stored in the same
transaction as the change it made, so either both exist or neither does: a retry after
a network failure gets the stored answer back instead of making a second link or refund.
The key is bound to the request's fingerprint (method, path and body): the same key
with a different request is refused (422). Two requests with the same key at the same
moment make one object: on PostgreSQL the second one's insert of the key waits on the
unique index until the first commits, then replays its answer; SQLite runs writing
transactions one at a time. An error answer (a 4xx from validation, a 5xx) is not
stored: fixing the request and sending it again with the same key works.
Keys are kept for ``REPLAY_WINDOW``; an older key is treated as new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from paylinks.models import ApiClient, IdempotencyKey

REPLAY_WINDOW = timedelta(hours=24)
KEY_MAX = 255


class KeyReused(Exception):
    """The key was first used for a different request."""


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: Any
    replayed: bool


def fingerprint(method: str, path: str, body: bytes) -> str:
    """A hash of what the request asks for; JSON bodies compare by content, not spacing."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
        payload = canonical.encode()
    except ValueError:
        payload = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), payload):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _replay(record: IdempotencyKey, print_: str) -> Outcome:
    if record.fingerprint != print_:
        raise KeyReused
    return Outcome(status_code=record.status_code, body=record.response, replayed=True)


@transaction.atomic
def idempotent_call(
    *, api_client: ApiClient, key: str, fingerprint: str, run: Callable[[], tuple[int, Any]]
) -> Outcome:
    """Run ``run`` (which returns a status and a JSON-able body) once for this key."""
    mine = IdempotencyKey.objects.filter(api_client=api_client, key=key)
    mine.filter(created_at__lt=timezone.now() - REPLAY_WINDOW).delete()
    existing = mine.first()
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                api_client=api_client, key=key, fingerprint=fingerprint, status_code=0, response={}
            )
    except IntegrityError:
        # Another request with this key committed while this one waited for the index.
        return _replay(mine.get(), fingerprint)
    status_code, body = run()
    if status_code >= 400:
        transaction.set_rollback(True)
        return Outcome(status_code=status_code, body=body, replayed=False)
    record.status_code, record.response = status_code, body
    record.save(update_fields=["status_code", "response"])
    return Outcome(status_code=status_code, body=body, replayed=False)


def idempotency_keys_purge(*, older_than: timedelta = REPLAY_WINDOW) -> int:
    """Forget keys past the replay window (the sweeper calls this)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
