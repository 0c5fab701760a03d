"""Starting the checkout page (``server.mjs`` on a build made once per session) and
finding a browser, for the end-to-end journeys."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CHECKOUT = ROOT / "checkout"
SOURCES = [
    "app",
    "components",
    "lib",
    "proxy.ts",
    "next.config.ts",
    "package-lock.json",
    "tsconfig.json",
]
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_BROWSER = (
    "no Chromium found: on Debian/Ubuntu run `apt-get install chromium` (what .ci/run does); "
    "elsewhere `.venv/bin/playwright install chromium`"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXT_", "PAYLINKS_", "npm_"))}
    env.update(NEXT_TELEMETRY_DISABLED="1", NODE_ENV="production", **extra)
    return env


def missing_node() -> str | None:
    if not shutil.which("node") or not shutil.which("npm"):
        return "node and npm are needed to build the checkout page (Node 20.9+)"
    return None


def _sources_hash() -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        path = CHECKOUT / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(CHECKOUT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def build_checkout() -> None:
    """``npm ci`` when needed and ``next build`` unless the build matches the sources.

    Several pytest-xdist workers may get here at once: one builds, the others wait."""
    lock_path = ROOT / "var" / "e2e-checkout-build.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _build_checkout()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_checkout() -> None:
    if not (CHECKOUT / "node_modules" / ".bin" / "next").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=CHECKOUT, env=node_env(), check=True
        )
    stamp = CHECKOUT / ".next" / "paylinks-sources.sha256"
    wanted = _sources_hash()
    if (
        (CHECKOUT / ".next" / "BUILD_ID").exists()
        and stamp.exists()
        and stamp.read_text() == wanted
    ):
        return
    subprocess.run(["npm", "run", "build"], cwd=CHECKOUT, env=node_env(), check=True)
    stamp.write_text(wanted)


class NextServer:
    """The checkout page's production server (``node server.mjs``: ``next start`` plus
    the customer's address and the method check) on 127.0.0.1 and a free port, reading
    the API from ``api_url``; ``env`` adds variables (``CHECKOUT_TRUSTED_PROXIES``)."""

    def __init__(self, api_url: str, **env: str) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = ROOT / "var" / f"e2e-next-{self.port}.log"
        self.log.parent.mkdir(exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self.api_url = api_url

    def start(self, timeout: float = 60) -> NextServer:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                ["node", "server.mjs"],
                cwd=CHECKOUT,
                env=node_env(
                    PAYLINKS_API_URL=self.api_url, HOST="127.0.0.1", PORT=str(self.port), **self.env
                ),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server.mjs exited: {self.log.read_text()[-2000:]}")
            try:
                requests.get(f"{self.url}/", timeout=2)
                return self
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server.mjs did not answer within {timeout}s")

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then up to ``timeout`` seconds (the page sends its waiting visit
        counts before it exits), then SIGKILL."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def chromium_path() -> str | None:
    """Debian's chromium (or another system Chrome) first, then a Playwright-managed one."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None
