"""The request id of every web request, and log lines that say what they need to once.

- ``RequestIdMiddleware``: keeps the caller's ``X-Request-ID`` when it is a sane one
  (``paylinks.logcontext.REQUEST_ID_PATTERN``: bounded length, no spaces or line breaks),
  otherwise makes one; every line logged while the request runs carries it, and the
  response returns it in ``X-Request-ID``. A caller choosing its id can only label its own
  request's lines: the id is for finding lines, never for deciding anything.
- ``ExpectedClientErrorFilter``: a 4xx Django logs (a 403, a 404, a suspicious request) is
  one line, without the traceback of the exception that produced it; a 5xx keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from paylinks.logcontext import request_id_scope

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_id_scope(request.headers.get(REQUEST_ID_HEADER)) as request_id:
            request.request_id = request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            return response


class ExpectedClientErrorFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        client_error = isinstance(status, int) and 400 <= status < 500
        if client_error:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True
