"""The Procfile is a production Procfile (issue 15): gunicorn with the repository's config."""

from __future__ import annotations

import runpy
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def processes(name: str) -> dict[str, str]:
    lines = (ROOT / name).read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_the_web_process_runs_gunicorn_with_the_config_file() -> None:
    procfile = processes("Procfile")
    assert procfile["web"] == "exec gunicorn -c deploy/gunicorn.conf.py project.wsgi"
    assert set(procfile) == {"web", "worker", "checkout"}
    # make run keeps its own development processes.
    assert set(processes("Procfile.dev")) == set(procfile)
    assert "-f Procfile.dev" in (ROOT / "Makefile").read_text()


def test_the_config_imports_and_outlasts_the_gateway_deadline(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "PAYLINKS_GATEWAY_DEADLINE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    config = runpy.run_path(str(CONFIG))
    assert config["timeout"] > settings.PAYLINKS_GATEWAY_DEADLINE_SECONDS
    assert config["timeout"] - config["GATEWAY_DEADLINE_SECONDS"] >= 10
    assert config["graceful_timeout"] > 0
    assert config["max_requests"] > 0 and config["max_requests_jitter"] > 0
    assert config["workers"] >= 2
    assert config["control_socket_disable"] is True


def test_a_longer_deadline_moves_the_timeout(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GUNICORN_TIMEOUT", raising=False)
    monkeypatch.setenv("PAYLINKS_GATEWAY_DEADLINE_SECONDS", "45")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    config = runpy.run_path(str(CONFIG))
    assert config["timeout"] > 45
    assert config["workers"] == 3


def test_access_lines_are_json_whatever_the_request_says() -> None:
    import json
    import logging
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    config = runpy.run_path(str(CONFIG))
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = config["JsonAccessLogger"](cfg)
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger.access_log.addHandler(Keep())
    response = SimpleNamespace(
        status="404 Not Found", status_code=404, sent=9,
        headers=[("X-Request-ID", "abcdef12-req")], response_length=9,
    )  # fmt: skip
    request = SimpleNamespace(
        headers=[("USER-AGENT", 'evil" agent\n{')], method="GET",
        uri='/a"b?token=secret-in-query', path='/a"b', query="token=secret-in-query",
        version=(1, 1),
    )  # fmt: skip
    environ = {
        "REMOTE_ADDR": "192.0.2.1",
        "PATH_INFO": '/a"b',
        "QUERY_STRING": "token=x",
        "REQUEST_METHOD": "GET",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "RAW_URI": request.uri,
    }
    logger.access(response, request, environ, timedelta(milliseconds=12))
    assert len(records) == 1
    line = json.loads(records[0])
    assert line["request_id"] == "abcdef12-req"
    assert line["status"] == "404"
    assert "secret-in-query" not in records[0]
