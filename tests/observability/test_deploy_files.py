"""The Grafana dashboard and the Prometheus alerts in deploy/ name only metrics the archive
exposes, and the alerts an operator is promised are there."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from archive.observability.metrics import FAMILIES
from archive.scrape import GAUGES

pytestmark = pytest.mark.fast

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "contact-archive.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
# A metric name in PromQL; label names and values in {...} and strings are not metric names
# but may look like one, so strings are removed first.
NAME = re.compile(r"(?<![A-Za-z0-9_:])archive_[a-z0-9_]+")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def exposed() -> set[str]:
    """Every series name a scrape of the archive can hold, as Prometheus stores it: a counter
    `x` is `x_total`, a histogram `x` is `x_bucket`, `x_count` and `x_sum`."""
    names = {gauge.name for gauge in GAUGES}
    for family in FAMILIES:
        for metric in family.describe():
            if metric.type == "counter":
                names.add(f"{metric.name}_total")
            elif metric.type == "histogram":
                names.update(f"{metric.name}_{suffix}" for suffix in ("bucket", "count", "sum"))
            else:
                names.add(metric.name)
    return names


def family_of(series: str) -> str:
    """The family a series belongs to: what the docs list."""
    return re.sub(r"_(total|bucket|count|sum)$", "", series)


def expressions(node: Any) -> Iterator[str]:
    """Every `expr` of a Grafana dashboard, however deep its panels nest."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from expressions(item)


def names_in(expression: str) -> set[str]:
    return set(NAME.findall(STRING.sub('""', expression)))


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_exposed_names_are_what_prometheus_stores() -> None:
    names = exposed()
    assert "archive_ingest_contacts_total" in names
    assert "archive_ingest_contacts" not in names  # a counter is never stored without _total
    assert "archive_http_request_duration_seconds_bucket" in names
    assert "archive_expiry_backlog_oldest_age_seconds" in names
    assert names_in('rate(archive_x_total{route="archive_not_a_name"}[5m])') == {"archive_x_total"}


def test_the_dashboard_names_only_exposed_metrics_and_shows_each() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = list(expressions(dashboard))
    assert len(found) >= 20
    named = set().union(*(names_in(expression) for expression in found))
    assert named <= exposed(), sorted(named - exposed())
    # Every family is on the dashboard somewhere.
    assert {family_of(series) for series in exposed()} <= {family_of(n) for n in named}
    assert dashboard["uid"] == "contact-archive"


def test_the_alerts_name_only_exposed_metrics() -> None:
    rules = alert_rules()
    for rule in rules:
        assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule
        assert rule["labels"]["severity"] in ("warning", "critical"), rule
        assert rule["annotations"]["summary"], rule
        named = names_in(rule["expr"])
        assert named, rule["alert"]
        assert named <= exposed(), (rule["alert"], sorted(named - exposed()))


def test_the_promised_alerts_are_there() -> None:
    rules = {rule["alert"]: rule["expr"] for rule in alert_rules()}
    promised = {
        "ArchiveExpiryBacklogOverADay": ("archive_expiry_backlog_oldest_age_seconds", "86400"),
        "ArchivePrivacyRequestOverdue": ("archive_privacy_requests_overdue", "> 0"),
        "ArchiveAuditNotSealed": ("archive_audit_oldest_unsealed_age_seconds", "600"),
        "ArchiveIntegrityFailure": ("archive_integrity_checks_total", 'outcome="failed"'),
        "ArchiveServerErrors": ("archive_http_request_duration_seconds_count", 'status="5xx"'),
        "ArchiveSweepNotRun": ("archive_sweep_last_run_age_seconds", "3600"),
    }
    for alert, words in promised.items():
        assert alert in rules, alert
        for word in words:
            assert word in rules[alert], (alert, word)
