"""What deploy/ and the release workflow promise (issue 15): they parse, say what they
must, and the alert rules watch metrics Paylinks really exports."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from paylinks.models import WebhookEvent

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DEPLOY_SECRETS = {"DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS", "DEPLOY_HOSTS", "DEPLOY_USER"}


def workflow() -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_the_release_workflow_builds_and_uploads_on_main() -> None:
    flow = workflow()
    assert flow["on"]["push"]["branches"] == ["main"]
    build = flow["jobs"]["build"]
    steps = build["steps"]
    assert any(step.get("run") == "scripts/build-release" for step in steps)
    upload = [
        step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert upload and upload[0]["with"]["path"] == "dist/*.tar.gz"
    assert (ROOT / "scripts" / "build-release").stat().st_mode & 0o111


def test_the_deploy_job_is_manual_and_needs_the_documented_secrets() -> None:
    flow = workflow()
    assert "workflow_dispatch" in flow["on"]
    deploy = flow["jobs"]["deploy"]
    assert deploy["if"] == "github.event_name == 'workflow_dispatch'"
    assert deploy["needs"] == "build"
    used = set(re.findall(r"secrets\.([A-Z_]+)", yaml.safe_dump(deploy)))
    assert used == DEPLOY_SECRETS
    operations = (ROOT / "docs" / "operations.md").read_text()
    header = (ROOT / ".github" / "workflows" / "release.yml").read_text().split("name:")[0]
    for secret in DEPLOY_SECRETS:
        assert secret in operations, f"docs/operations.md explains {secret}"
        assert secret in header
        assert secret in (ROOT / "scripts" / "deploy").read_text() or secret.startswith(
            ("DEPLOY_SSH", "DEPLOY_KNOWN")
        )


def test_the_systemd_units_run_the_repository_config() -> None:
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} == {
        "paylinks-web.service",
        "paylinks-worker@.service",
        "paylinks-checkout.service",
    }
    for path in units:
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str  # type: ignore[assignment,method-assign]
        unit.read(path)
        assert unit["Service"]["ExecStart"].startswith("/")
        assert unit["Service"]["Restart"] == "always"
        assert unit["Install"]["WantedBy"] == "multi-user.target"
    web = (DEPLOY / "systemd" / "paylinks-web.service").read_text()
    assert "gunicorn -c deploy/gunicorn.conf.py project.wsgi" in web
    assert "PROMETHEUS_MULTIPROC_DIR" in web


def test_nginx_sets_the_forwarded_address_from_the_socket() -> None:
    conf = (DEPLOY / "nginx" / "paylinks.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "$proxy_add_x_forwarded_for" not in conf
    assert re.search(r"listen \$\{HTTPS_PORT\} ssl", conf)
    # Only the documented placeholders are templated.
    placeholders = set(re.findall(r"\$\{([A-Z_]+)\}", conf))
    assert placeholders == {
        "SERVER_NAME", "HTTP_PORT", "HTTPS_PORT", "TLS_CERTIFICATE", "TLS_CERTIFICATE_KEY",
        "WEB_SERVERS", "CHECKOUT_SERVERS",
    }  # fmt: skip


@pytest.mark.skipif(not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx is not installed (make scale installs it)")  # fmt: skip
def test_nginx_accepts_the_rendered_config(tmp_path: Path) -> None:
    from bench.scale import render_nginx, self_signed_certificate

    cert, key = self_signed_certificate(tmp_path)
    main = render_nginx(
        tmp_path, http_port=18080, https_port=18443, web_ports=[18001, 18002],
        checkout_ports=[18003], certificate=cert, key=key,
    )  # fmt: skip
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_every_alert_rule_watches_a_metric_paylinks_exports(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_METRICS_TOKEN = "rules-test-token-0123456789"
    settings.PAYLINKS_METRICS_DB_SECONDS = 0
    WebhookEvent.objects.create(gateway="sandbox", event_id="evt_rules", type="x", payload={})
    Client().get("/healthz")
    from paylinks import metrics

    metrics.gateway_errors.labels("sandbox", "refund", "transient").inc(0)
    metrics.gateway_call_seconds.labels("sandbox", "refund").observe(0)
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer rules-test-token-0123456789")
    exported = {
        sample.name
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
    rules = yaml.safe_load((DEPLOY / "prometheus" / "paylinks-rules.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    names = {rule["alert"] for rule in alerts}
    assert {"PaylinksNotReady", "PaylinksWebhookInboxBehind", "PaylinksWebhookProcessingFailing",
            "PaylinksGatewayErrors"} <= names  # fmt: skip
    for rule in alerts:
        mentioned = set(re.findall(r"\b(paylinks_[a-z_]+)", rule["expr"]))
        assert mentioned, rule["alert"]
        assert mentioned <= exported, f"{rule['alert']} watches {mentioned - exported}"
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]
    operations = (ROOT / "docs" / "operations.md").read_text()
    for name in names:
        assert name in operations, f"docs/operations.md explains {name}"
