"""The production compose file runs every part, each with a healthcheck, data in named volumes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.fast

ROOT = Path(__file__).parent.parent


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_every_part_runs_with_a_healthcheck() -> None:
    services = compose()["services"]
    assert {"postgres", "minio", "redis", "api", "worker", "beat"} <= set(services)
    for name in ("postgres", "minio", "redis", "api", "worker", "beat"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"


def test_data_lives_in_named_volumes() -> None:
    document = compose()
    named = set(document["volumes"])
    assert named == {"postgres-data", "minio-data", "redis-data"}
    for name in ("postgres", "minio", "redis"):
        volumes = document["services"][name]["volumes"]
        assert any(v.split(":")[0] in named for v in volumes)


def test_the_archive_services_use_production_backends_and_external_keys() -> None:
    api = compose()["services"]["api"]
    env = api["environment"]
    assert env["ARCHIVE_STORE"] == "s3"
    assert env["ARCHIVE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["ARCHIVE_BROKER_URL"].startswith("redis://")
    assert env["ARCHIVE_KEYS"].startswith("${ARCHIVE_KEYS")  # from a secret, never in the file
    assert compose()["services"]["migrate"]["command"] == ["archive", "db", "upgrade"]
