"""plotly.js from the installed ``plotly`` package, as the project's own static file.

The console loads ``{% static "dashboards/plotly.min.js" %}`` once per page (never a CDN,
never embedded per chart): the file the pinned plotly Python package ships, so the
browser's plotly.js always matches the figures the server builds. ``collectstatic``
copies it like any other static file (and WhiteNoise compresses and fingerprints it);
in development WhiteNoise serves it through this finder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "dashboards/plotly.min.js"
PACKAGE_DATA = Path(plotly.__file__).resolve().parent / "package_data"


class PlotlyJsFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=PACKAGE_DATA)
        self.storage.prefix = "dashboards"  # type: ignore[attr-defined]

    @property
    def source(self) -> Path:
        return PACKAGE_DATA / "plotly.min.js"

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        if self.source.is_file():
            return []
        return [
            Error(
                f"plotly.js is missing from the plotly package ({self.source}).",
                hint="Reinstall the pinned plotly from requirements.txt.",
                id="dashboards.E001",
            )
        ]

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        if path != PLOTLY_JS or not self.source.is_file():
            return []  # as Django's own finders answer "not here"
        return [str(self.source)] if find_all else str(self.source)

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        if self.source.is_file():
            yield "plotly.min.js", self.storage
