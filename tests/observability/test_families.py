"""The metric families themselves: labelled, and labels made of fixed words."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from archive.errors import ConfigurationError
from archive.observability import metrics
from archive.observability.asgi import status_class
from archive.settings import Settings

pytestmark = pytest.mark.fast


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_every_family_is_labelled_so_its_series_follow_the_mode_chosen_at_start() -> None:
    # `multiprocess.use_directory` relies on it: a series is created at its first use.
    for family in metrics.FAMILIES:
        assert family._labelnames, family


def test_status_classes() -> None:
    assert [status_class(code) for code in (200, 204, 304, 401, 404, 500, 503)] == [
        "2xx",
        "2xx",
        "3xx",
        "4xx",
        "4xx",
        "5xx",
        "5xx",
    ]
    assert status_class(0) == status_class(999) == "other"


def test_a_store_error_is_counted_by_its_verb_never_its_key() -> None:
    before = counted("archive_store_errors_total", operation="delete_objects")
    metrics.store_failed("delete objects from")
    assert counted("archive_store_errors_total", operation="delete_objects") == before + 1
    listed = counted("archive_store_errors_total", operation="read_object_lock_configuration")
    metrics.store_failed("read the object lock configuration of")
    assert (
        counted("archive_store_errors_total", operation="read_object_lock_configuration")
        == listed + 1
    )


def test_a_database_error_is_counted_by_its_statement_kind_alone() -> None:
    before = {
        kind: counted("archive_database_errors_total", operation=kind)
        for kind in ("select", "update", "other")
    }
    metrics.database_failed("SELECT contacts.id FROM contacts WHERE agent = %(agent)s")
    metrics.database_failed("  update contacts SET state = 'deleted'")
    metrics.database_failed("WITH doomed AS (SELECT 1) DELETE FROM contacts")
    metrics.database_failed(None)
    after = {kind: counted("archive_database_errors_total", operation=kind) for kind in before}
    assert after == {
        "select": before["select"] + 1,
        "update": before["update"] + 1,
        "other": before["other"] + 2,
    }


def test_the_metrics_settings() -> None:
    assert Settings.from_env({}).metrics_token == ""
    assert Settings.from_env({}).metrics_port is None
    assert Settings.from_env({"ARCHIVE_METRICS_PORT": "9464"}).metrics_port == 9464
    for wrong in ("0", "65536", "metrics"):
        with pytest.raises(ConfigurationError, match="ARCHIVE_METRICS_PORT"):
            Settings.from_env({"ARCHIVE_METRICS_PORT": wrong})
