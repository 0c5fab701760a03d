from __future__ import annotations

from ..payments.conftest import site  # noqa: F401 - the live sandbox site fixture
