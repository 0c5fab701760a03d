import gc
import io
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

# A chunked body is buffered up to this size (Django's own limit for a request body held
# in memory); what is larger is refused with 413. Paylinks' API and webhook bodies are
# kilobytes.
DEFAULT_MAX_CHUNKED_BODY = 2_621_440

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBodyMiddleware:
    """Give Django the whole of a body sent with ``Transfer-Encoding: chunked``.

    Django reads a request body only as far as ``CONTENT_LENGTH`` says, and a chunked
    request has none: under gunicorn a signed chunked webhook read as empty (so its
    signature failed) and a chunked API body was silently ignored. gunicorn de-chunks the
    body and says so with ``wsgi.input_terminated``; this reads it (up to a limit) and sets
    ``CONTENT_LENGTH``, so every endpoint sees the same body it would with a length. A
    server that does not de-chunk (``runserver``) gets 411 Length Required, never a body
    read as empty or as chunk framing.
    """

    def __init__(self, app: WSGIApp, max_body: int | None = None) -> None:
        self.app = app
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked or environ.get("CONTENT_LENGTH"):
            return self.app(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return _refuse(
                environ, start_response, "411 Length Required", "length_required",
                "Send the request body with a Content-Length header.",
            )  # fmt: skip
        limit = self.max_body or _max_body()
        body = environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return _refuse(
                environ, start_response, "413 Content Too Large", "payload_too_large",
                "The request body is too large.",
            )  # fmt: skip
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        del environ["HTTP_TRANSFER_ENCODING"]
        return self.app(environ, start_response)


def _max_body() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or DEFAULT_MAX_CHUNKED_BODY


def _refuse(
    environ: dict[str, Any], start_response: Callable[..., Any], status: str, code: str, text: str
) -> list[bytes]:
    path = environ.get("PATH_INFO", "")
    if path.startswith(("/api/", "/webhooks/")):
        body = json.dumps({"error": {"code": code, "message": text}}).encode()
        content_type = "application/json"
    else:
        body, content_type = text.encode(), "text/plain; charset=utf-8"
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ],
    )
    return [body]


application = ChunkedBodyMiddleware(get_wsgi_application())

# Load the URLconf (and with it every view, admin and API module) now rather than on the
# first request, then move everything loaded so far out of the garbage collector's
# sight: it lives as long as the process, and the collections that run between
# requests then walk only what requests create (shorter pauses, steadier tail latency;
# docs/scaling.md).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
gc.freeze()
