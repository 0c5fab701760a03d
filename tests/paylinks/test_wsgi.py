"""The WSGI entry point gunicorn loads: everything imported up front, then frozen for GC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
before = gc.get_freeze_count()
import project.wsgi
print(json.dumps({
    "before": before,
    "frozen": gc.get_freeze_count(),
    "urls_loaded": "paylinks.api.public" in sys.modules,
}))
"""


def test_the_wsgi_module_loads_the_urls_and_freezes_what_it_loaded() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["urls_loaded"] is True  # views imported before the first request
    # Tens of thousands of start-up objects leave the collector's generations.
    assert probe["frozen"] - probe["before"] > 10_000
