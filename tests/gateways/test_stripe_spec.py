"""Where the contract tests look for Stripe's spec (``stripe_spec.py``), and the workflow
that makes sure they find it. Each test builds its own repository root in ``tmp_path``:
the real ``var/stripe/`` and ``../shared/stripe/`` are never touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings

from .stripe_spec import (
    FETCH_SCRIPT,
    REQUIRE_ENV,
    SPEC_DIR_ENV,
    fetch_script,
    find_spec_folder,
    locate_stripe_spec,
    missing_message,
)

REPO = Path(django_settings.BASE_DIR)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A checkout at tmp/work/repo (so ../shared is tmp/work/shared), with the script."""
    repo = tmp_path / "work" / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / FETCH_SCRIPT, repo / FETCH_SCRIPT)
    return repo


def spec_in(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or ("spec3.json", "fixtures3.json"):
        (folder / name).write_text("{}")
    return folder


def test_the_env_var_comes_first(root: Path, tmp_path: Path) -> None:
    mine = spec_in(tmp_path / "mine")
    spec_in(root / "var" / "stripe")
    spec_in(root.parent / "shared" / "stripe")
    assert find_spec_folder(root, {SPEC_DIR_ENV: str(mine)}) == mine


def test_the_env_var_is_the_only_place_looked_in_when_set(root: Path, tmp_path: Path) -> None:
    spec_in(root / "var" / "stripe")
    environ = {SPEC_DIR_ENV: str(tmp_path / "nowhere")}
    assert find_spec_folder(root, environ) is None
    assert f"{SPEC_DIR_ENV}={tmp_path / 'nowhere'}" in missing_message(root, environ)


def test_then_what_the_script_downloaded_then_the_shared_folder(root: Path) -> None:
    shared = spec_in(root.parent / "shared" / "stripe")
    assert find_spec_folder(root, {}) == shared
    downloaded = spec_in(root / "var" / "stripe")
    assert find_spec_folder(root, {}) == downloaded
    assert find_spec_folder(root, {SPEC_DIR_ENV: "  "}) == downloaded  # blank = unset


def test_half_a_spec_is_no_spec(root: Path) -> None:
    spec_in(root / "var" / "stripe", "spec3.json")
    spec_in(root.parent / "shared" / "stripe", "fixtures3.json")
    assert find_spec_folder(root, {}) is None


def test_no_spec_skips_with_one_reason_that_says_how_to_get_it(root: Path) -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        locate_stripe_spec(root, {})
    reason = str(skipped.value)
    commit = fetch_script(REPO).COMMIT
    assert reason == (
        "Stripe's OpenAPI spec not found (looked in var/stripe/ and ../shared/stripe/): "
        f"run scripts/fetch-stripe-spec (downloads stripe/openapi@{commit[:8]} into "
        "var/stripe/) or set PAYLINKS_STRIPE_SPEC_DIR to a folder with spec3.json and "
        "fixtures3.json"
    )
    # The same reason every time: `pytest -rs` shows the skipped tests as one line.
    with pytest.raises(pytest.skip.Exception) as again:
        locate_stripe_spec(root, {})
    assert str(again.value) == reason


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_a_required_spec_that_is_missing_fails_instead(root: Path, value: str) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        locate_stripe_spec(root, {REQUIRE_ENV: value})
    assert "run scripts/fetch-stripe-spec" in str(failed.value)
    assert f"{REQUIRE_ENV} is set" in str(failed.value)


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_not_required_means_skip(root: Path, value: str) -> None:
    with pytest.raises(pytest.skip.Exception):
        locate_stripe_spec(root, {REQUIRE_ENV: value})


def test_a_required_spec_that_is_there_is_used(root: Path) -> None:
    downloaded = spec_in(root / "var" / "stripe")
    assert locate_stripe_spec(root, {REQUIRE_ENV: "1"}) == downloaded


def test_the_github_workflow_fetches_the_spec_and_never_skips_the_contract_tests() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"]["test"]
    assert job["env"][REQUIRE_ENV] == "1"
    steps = job["steps"]
    runs = [step.get("run", "") for step in steps]
    fetch = next(i for i, run in enumerate(runs) if "scripts/fetch-stripe-spec" in run)
    tests = [i for i, run in enumerate(runs) if "make test" in run]
    assert tests and fetch < min(tests)
    cache = next(step for step in steps if str(step.get("uses", "")).startswith("actions/cache"))
    assert cache["with"]["path"] == "var/stripe"
    assert "--print-commit" in "".join(runs)  # the cache key is the pinned commit
