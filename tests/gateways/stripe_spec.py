"""Where the contract tests find Stripe's OpenAPI spec (``spec3.json``) and sample objects
(``fixtures3.json``), API version 2023-08-16.

The first folder holding both files wins, looked up in this order:

1. ``PAYLINKS_STRIPE_SPEC_DIR``, when set: then that folder only, so a wrong path shows
   up as a skip instead of quietly testing against another copy;
2. ``var/stripe/`` in the repository: what ``scripts/fetch-stripe-spec`` fills, from a
   pinned commit of ``stripe/openapi`` (the GitHub workflow does this);
3. ``../shared/stripe/`` beside the repository: the team's copy.

With none, the tests that need the spec skip, all with the one reason
``missing_message`` gives; ``PAYLINKS_REQUIRE_STRIPE_SPEC=1`` (set in the GitHub workflow)
turns that into a failure, so they can never be skipped there unnoticed.

Everything takes the repository root and the environment as arguments, so the lookup is
tested without touching the real folders (tests/gateways/test_stripe_spec.py).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pytest

SPEC_DIR_ENV = "PAYLINKS_STRIPE_SPEC_DIR"
REQUIRE_ENV = "PAYLINKS_REQUIRE_STRIPE_SPEC"
FILES = ("spec3.json", "fixtures3.json")
FETCH_SCRIPT = Path("scripts") / "fetch-stripe-spec"
_FALSE = {"", "0", "false", "no", "off"}


def fetch_script(root: Path) -> ModuleType:
    """``scripts/fetch-stripe-spec`` as a module: its pinned commit and checksums."""
    path = root / FETCH_SCRIPT
    loader = importlib.machinery.SourceFileLoader("fetch_stripe_spec", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def candidate_folders(root: Path, environ: Mapping[str, str]) -> list[Path]:
    explicit = environ.get(SPEC_DIR_ENV, "").strip()
    if explicit:
        return [Path(explicit).expanduser()]
    return [root / "var" / "stripe", root.parent / "shared" / "stripe"]


def has_spec(folder: Path) -> bool:
    return all((folder / name).is_file() for name in FILES)


def find_spec_folder(root: Path, environ: Mapping[str, str]) -> Path | None:
    return next((f for f in candidate_folders(root, environ) if has_spec(f)), None)


def spec_required(environ: Mapping[str, str]) -> bool:
    return environ.get(REQUIRE_ENV, "").strip().lower() not in _FALSE


def missing_message(root: Path, environ: Mapping[str, str]) -> str:
    commit = fetch_script(root).COMMIT
    if environ.get(SPEC_DIR_ENV, "").strip():
        looked = f"{SPEC_DIR_ENV}={candidate_folders(root, environ)[0]}"
    else:
        looked = "var/stripe/ and ../shared/stripe/"
    return (
        f"Stripe's OpenAPI spec not found (looked in {looked}): run scripts/fetch-stripe-spec "
        f"(downloads stripe/openapi@{commit[:8]} into var/stripe/) or set {SPEC_DIR_ENV} "
        f"to a folder with {' and '.join(FILES)}"
    )


def locate_stripe_spec(root: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """The folder to test against; skips the test (fails it with ``REQUIRE_ENV``) if none."""
    folder = find_spec_folder(root, environ)
    if folder is not None:
        return folder
    message = missing_message(root, environ)
    if spec_required(environ):
        pytest.fail(f"{message}. {REQUIRE_ENV} is set: the spec is required here.", pytrace=False)
    pytest.skip(message)
