"""What every log line is about: the request id, and the payment, link and merchant ids.

A web request gets its id from ``project.logging.RequestIdMiddleware`` (the caller's
``X-Request-ID`` when it is a sane one, else a new one). The id travels on:

- into background tasks: a task decorated with ``@carries_request_id`` is sent with the
  current id as its ``request_id`` keyword (``paylinks.queueing``) and runs inside it;
- into webhook processing: the inbox row keeps the id of the request that delivered the
  event, and the worker processes the row inside it (``paylinks.webhooks.inbox``); the
  sandbox sends its webhooks with the id of the request that caused them.

``ContextFilter`` (on the log handler, project/settings/ops.py) copies the current values
onto every record, so a line needs no ``extra=`` to say which request it belongs to.
Only identifiers go in here: never an e-mail address, a token or any secret.
"""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

#: What an incoming ``X-Request-ID`` may look like to be kept: a UUID, a hex or base64url
#: string, a load balancer's trace id. Anything else (too long, spaces, line breaks, quotes)
#: is replaced by a new id, so nobody can write a line into the logs through it.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{7,127}")

#: The ids a log line can be about, as the record's attribute names.
ID_FIELDS = ("payment_id", "link_id", "merchant_id")

_request_id: ContextVar[str] = ContextVar("paylinks_request_id", default="")
_ids: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("paylinks_log_ids", default=())


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str | None:
    """``value`` when it is a request id worth keeping, else None."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return None


def current_request_id() -> str:
    return _request_id.get()


@contextmanager
def request_id_scope(request_id: str | None) -> Iterator[str]:
    """Run the block under ``request_id`` (a new one when it is empty or not sane)."""
    rid = clean_request_id(request_id) or new_request_id()
    token = _request_id.set(rid)
    ids_token = _ids.set(())
    try:
        yield rid
    finally:
        _ids.reset(ids_token)
        _request_id.reset(token)


@contextmanager
def log_ids(
    *, payment: object = None, link: object = None, merchant: object = None
) -> Iterator[None]:
    """Lines logged inside say which payment, link and merchant they are about."""
    current = dict(_ids.get())
    for name, value in (("payment_id", payment), ("link_id", link), ("merchant_id", merchant)):
        if value not in (None, ""):
            current[name] = str(value)
    token = _ids.set(tuple(current.items()))
    try:
        yield
    finally:
        _ids.reset(token)


def payment_ids(payment: Any) -> dict[str, object]:
    """The ids of a payment row, for ``log_ids(**payment_ids(p))`` or ``extra=``."""
    return {
        "payment": getattr(payment, "public_id", None),
        "link": getattr(payment, "link_id", None),
        "merchant": getattr(payment, "merchant_id", None),
    }


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and the bound ids to every record; ``extra=`` values win."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # Django logs a response's status (django.request) after the middleware has
            # returned, with the request passed along: its id is on it.
            on_request = getattr(getattr(record, "request", None), "request_id", None)
            record.request_id = _request_id.get() or on_request or "-"
        for name, value in _ids.get():
            if not getattr(record, name, None):
                setattr(record, name, value)
        return True


class PlainFormatter(logging.Formatter):
    """Readable lines for development: the request id, the message, then the ids."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        line = super().format(record)
        ids = "".join(
            f" {name}={getattr(record, name)}" for name in ID_FIELDS if getattr(record, name, None)
        )
        if not ids:
            return line
        first, newline, rest = line.partition("\n")
        return first + ids + newline + rest


def carries_request_id[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """For a task function: run it under the request id it was sent with.

    ``paylinks.queueing`` sends such a task with ``request_id=<the sender's id>``; the
    wrapper takes that keyword off before calling the function. Put it under ``@task()``.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        request_id = kwargs.pop("request_id", None)
        with request_id_scope(request_id if isinstance(request_id, str) else None):
            return func(*args, **kwargs)

    wrapper.carries_request_id = True  # type: ignore[attr-defined]
    return wrapper
