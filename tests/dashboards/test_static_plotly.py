"""plotly.js is one of the project's own static files: found, collected, served."""

from __future__ import annotations

from pathlib import Path

import plotly
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.templatetags.static import static

from dashboards.staticfiles import PLOTLY_JS


def test_the_finder_serves_the_packages_plotly_js() -> None:
    found = finders.find(PLOTLY_JS)
    assert found is not None
    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert Path(found).read_bytes() == shipped.read_bytes()
    assert static(PLOTLY_JS) == "/static/dashboards/plotly.min.js"
    assert finders.find("dashboards/datasets/iris.csv.gz") is None  # only plotly.js


def test_collectstatic_copies_it(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", "--no-input", "-v", "0")
    copied = tmp_path / "dashboards" / "plotly.min.js"
    assert copied.is_file() and copied.stat().st_size > 1_000_000


def test_the_console_origin_serves_it(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/static/dashboards/plotly.min.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"plotly" in body[:2000].lower()
    assert response["Content-Type"].startswith(("text/javascript", "application/javascript"))
