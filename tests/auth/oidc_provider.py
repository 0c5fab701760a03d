"""A real OpenID Connect provider for the tests: ``oauth2-mock-server`` under node.

``tests/oidc/provider.mjs`` runs it on 127.0.0.1 and a port the system picks; the person
it signs in is whatever ``set_person()`` last wrote to its claims file. The dependencies
come from ``tests/oidc/package-lock.json``: ``npm ci --prefix tests/oidc`` (run here when
``node_modules`` is missing). The process stops when ``stop()`` is called, and by itself
if the test run dies first.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tests" / "oidc"
SCRIPT = PACKAGE / "provider.mjs"
NO_NODE = (
    "the OIDC sign-in tests need node (20.19+) and npm, to run the oauth2-mock-server "
    "OpenID Connect provider from tests/oidc"
)


def missing_node() -> str | None:
    if not shutil.which("node") or not shutil.which("npm"):
        return NO_NODE
    return None


def install() -> None:
    """``npm ci`` in tests/oidc unless its node_modules is there; one xdist worker at a time."""
    lock_path = ROOT / "var" / "oidc-npm-ci.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (PACKAGE / "node_modules" / "oauth2-mock-server" / "package.json").exists():
                subprocess.run(
                    ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(PACKAGE)],
                    cwd=ROOT,
                    check=True,
                    timeout=300,
                )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class OIDCProvider:
    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="paylinks-oidc-"))
        self.claims_file = self.workdir / "claims.json"
        self.process: subprocess.Popen[str] | None = None
        self.issuer = ""
        self.set_person(sub="nobody", email="nobody@example.test", email_verified=False)

    def set_person(self, **claims: Any) -> None:
        """The claims (``sub``, ``email``, ``email_verified``...) of the next sign-in."""
        self.claims_file.write_text(json.dumps(claims))

    def start(self, timeout: float = 30) -> OIDCProvider:
        self.process = subprocess.Popen(
            [
                "node",
                str(SCRIPT),
                "--claims",
                str(self.claims_file),
                "--parent-pid",
                str(os.getpid()),
            ],
            cwd=PACKAGE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()
        lines: list[str] = []

        def read() -> None:
            assert self.process and self.process.stdout
            for line in self.process.stdout:
                lines.append(line)
                if line.startswith("READY "):
                    self.issuer = line.split(" ", 1)[1].strip()
                    ready.set()

        threading.Thread(target=read, name="oidc-provider-log", daemon=True).start()
        if not ready.wait(timeout):
            self.stop()
            raise RuntimeError(f"the OIDC provider did not start: {''.join(lines)[-2000:]}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)
