"""The benchmark's first-load JavaScript count (bench/run.py), against a real HTTP server:
every ``<script src>`` a page loads, gzipped, except the ``nomodule`` ones that browsers
running modules skip. docs/scaling.md quotes this figure, so it is tested like code."""

from __future__ import annotations

import gzip
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from bench.run import first_load_js

SCRIPTS = {
    "app.js": "console.log('app');\n" * 300,
    "framework.js": "var x = 1;\n" * 500,
    "polyfills.js": "/* old browsers only */\n" * 400,
}
PAGE = """<!DOCTYPE html><html><head>
<script src="/static/framework.js" async=""></script>
<script noModule="" src="/static/polyfills.js"></script>
</head><body><p>Pay</p>
<script src="/static/app.js" nonce="abc"></script>
<script src="/static/app.js"></script>
<script>self.__inline = 1</script>
</body></html>"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "static").mkdir()
    for name, body in SCRIPTS.items():
        (tmp_path / "static" / name).write_text(body)
    (tmp_path / "pay").write_text(PAGE)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_counts_each_module_script_once_and_skips_nomodule(site: str) -> None:
    files, raw, packed = first_load_js(site, "/pay")
    loaded = [SCRIPTS["app.js"].encode(), SCRIPTS["framework.js"].encode()]
    assert files == 2
    assert raw == sum(len(body) for body in loaded)
    assert packed == sum(len(gzip.compress(body, 9)) for body in loaded)


def test_the_framework_floor_is_an_empty_app_router_page_built_and_removed() -> None:
    """The floor docs/scaling.md compares /pay/[slug] with: a real ``next build`` of an
    empty App Router page with the checkout's own packages. It loads React and the App
    Router runtime (so far from nothing), and its scratch folder does not outlive it."""
    from bench.run import framework_floor_js
    from tests.e2e.servers import CHECKOUT, build_checkout, missing_node

    reason = missing_node()
    if reason:
        pytest.skip(reason)
    build_checkout()  # npm ci when needed: the floor is built with checkout/node_modules
    files, raw, packed = framework_floor_js()
    assert files >= 2
    assert 0 < packed < raw
    assert not list(CHECKOUT.glob(".bench-floor-*"))
