"""``scripts/fetch-stripe-spec`` against a local HTTP server standing in for GitHub.

The script installs the two files only when both match the SHA-256s pinned in it. The
tests that need the genuine files rebuild them, byte for byte, from the spec the
contract tests use (``stripe_contract``, from ``../shared/stripe/`` on the team's machines)
and skip with them; the refusals run everywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from .fake_stripe import StripeContract
from .stripe_spec import FETCH_SCRIPT, FILES, fetch_script, has_spec

REPO = Path(django_settings.BASE_DIR)
SCRIPT = fetch_script(REPO)
PREFIX = f"/stripe/openapi/{SCRIPT.COMMIT}/openapi"


def stripe_layout(value: Any, depth: int = 0) -> str:
    """JSON laid out as Stripe's generator writes stripe/openapi's files: two-space
    indent, ``": "``, ``[]`` and ``{}`` when empty, UTF-8, no final newline.

    Rendering the compact ``../shared/stripe/spec3.json`` this way gives git blob
    2f5250a7, the pinned commit's ``openapi/spec3.json``; ``fixtures3.json`` comes out
    unchanged (blob 84c7de1e)."""
    inner, outer = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict) and value:
        items = (
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {stripe_layout(v, depth + 1)}"
            for k, v in value.items()
        )
        return "{\n" + ",\n".join(items) + "\n" + outer + "}"
    if isinstance(value, list) and value:
        items = (inner + stripe_layout(v, depth + 1) for v in value)
        return "[\n" + ",\n".join(items) + "\n" + outer + "]"
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture(scope="module")
def genuine(stripe_contract: StripeContract) -> dict[str, bytes]:
    """The two files as stripe/openapi@COMMIT serves them."""
    folder = stripe_contract.folder
    files = {n: stripe_layout(json.loads((folder / n).read_bytes())).encode() for n in FILES}
    for name, data in files.items():
        assert hashlib.sha256(data).hexdigest() == SCRIPT.SHA256[name], (
            f"{folder / name} is not stripe/openapi@{SCRIPT.COMMIT[:8]}'s {name}: when the "
            f"spec moves on, pin its commit and checksums in {FETCH_SCRIPT}"
        )
    return files


@dataclass
class Server:
    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[Server]:
    """Serves ``files`` under ``{url}/{name}``: 404 for anything else."""
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            name = self.path.removeprefix(PREFIX + "/")
            body = state.files.get(name) if self.path.startswith(PREFIX + "/") else None
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}{PREFIX}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def fetch(dest: Path, base_url: str | None, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    environ.pop("STRIPE_OPENAPI_BASE_URL", None)
    environ.update(env)
    args = [sys.executable, str(REPO / FETCH_SCRIPT), "--dest", str(dest), "--timeout", "10"]
    if base_url is not None:
        args += ["--base-url", base_url]
    return subprocess.run(args, capture_output=True, text=True, env=environ, timeout=60)


def tampered(data: bytes) -> bytes:
    """One letter changed deep inside: still valid JSON, same size."""
    at = data.index(b'"description": "', len(data) // 2) + len(b'"description": "')
    assert chr(data[at]).isalpha()
    return data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :]


def test_installs_the_genuine_files(
    genuine: dict[str, bytes], server: Server, tmp_path: Path
) -> None:
    server.files = dict(genuine)
    dest = tmp_path / "var" / "stripe"
    done = fetch(dest, server.url)
    assert done.returncode == 0, done.stderr
    assert sorted(server.requests) == sorted(f"{PREFIX}/{n}" for n in FILES)
    for name in FILES:
        assert (dest / name).read_bytes() == genuine[name]
    assert has_spec(dest)
    assert StripeContract(dest).version == "2023-08-16"

    # Once there and verified, nothing is downloaded again (a CI cache hit).
    server.requests.clear()
    again = fetch(dest, server.url)
    assert again.returncode == 0, again.stderr
    assert server.requests == []
    assert again.stdout.count("already there, checksum OK") == 2


def test_refuses_a_tampered_spec_and_installs_nothing(
    genuine: dict[str, bytes], server: Server, tmp_path: Path
) -> None:
    server.files = {"spec3.json": tampered(genuine["spec3.json"])}
    server.files["fixtures3.json"] = genuine["fixtures3.json"]
    dest = tmp_path / "stripe"
    done = fetch(dest, server.url)
    assert done.returncode == 1
    assert "Refusing to install" in done.stderr
    assert "spec3.json: checksum mismatch" in done.stderr
    assert SCRIPT.SHA256["spec3.json"] in done.stderr
    assert "fixtures3.json" not in done.stderr  # that one was fine, and still not installed
    assert not dest.exists()


def test_replaces_a_tampered_copy_already_there(
    genuine: dict[str, bytes], server: Server, tmp_path: Path
) -> None:
    dest = tmp_path / "stripe"
    dest.mkdir()
    (dest / "spec3.json").write_bytes(tampered(genuine["spec3.json"]))
    (dest / "fixtures3.json").write_bytes(genuine["fixtures3.json"])
    server.files = dict(genuine)
    done = fetch(dest, server.url)
    assert done.returncode == 0, done.stderr
    assert server.requests == [f"{PREFIX}/spec3.json"]
    assert (dest / "spec3.json").read_bytes() == genuine["spec3.json"]


def test_refuses_files_that_are_not_the_pinned_ones(server: Server, tmp_path: Path) -> None:
    server.files = {"spec3.json": b'{"openapi": "3.0.0"}', "fixtures3.json": b"{}"}
    dest = tmp_path / "stripe"
    dest.mkdir()
    (dest / "spec3.json").write_bytes(b"{}")  # an unverified copy is removed, not kept
    done = fetch(dest, server.url)
    assert done.returncode == 1
    assert "spec3.json: checksum mismatch" in done.stderr
    assert "fixtures3.json: checksum mismatch" in done.stderr
    assert list(dest.iterdir()) == []


def test_a_failed_download_installs_nothing(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "stripe"
    # The base URL can come from the environment too (a mirror).
    done = fetch(dest, None, STRIPE_OPENAPI_BASE_URL=server.url)
    assert done.returncode == 1
    assert "spec3.json: download failed: HTTP Error 404" in done.stderr
    assert f"{PREFIX}/spec3.json" in server.requests
    assert not dest.exists()


def test_only_http_urls(tmp_path: Path) -> None:
    done = fetch(tmp_path / "stripe", "file:///etc")
    assert done.returncode == 2
    assert "--base-url must be an http(s) URL" in done.stderr


def test_prints_the_pinned_commit() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / FETCH_SCRIPT), "--print-commit"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == SCRIPT.COMMIT + "\n"
    assert len(SCRIPT.COMMIT) == 40
