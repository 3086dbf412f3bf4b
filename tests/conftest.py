"""Fixtures shared by every suite: real databases, a real S3 endpoint, a runtime, an API client.

PostgreSQL and S3 are required, never skipped: if the server is not reachable the tests that
need it fail. ARCHIVE_TEST_POSTGRES_URL names the PostgreSQL server (a database there is created
for the run and dropped after it); ARCHIVE_TEST_S3_ENDPOINT names an S3 server such as MinIO,
else moto's S3 server is started in-process.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import pytest
from helpers import POSTGRES_ADMIN_URL, Backend, api_token, authorised
from litestar.testing import TestClient
from s3server import S3Endpoint, remove_bucket, s3_endpoint, unique_bucket
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from archive.accounts.models import Role
from archive.app import create_app
from archive.clock import FixedClock
from archive.crypto.keyring import KeyMaterial, generate_key_material
from archive.db.migrate import upgrade
from archive.db.models import Base
from archive.db.session import make_engine
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings

BACKENDS = ["sqlite-local", "postgresql-s3"]

# Hypothesis's per-example deadline measures the machine as much as the code: on a shared,
# loaded one it fails fast examples at random. Speed is measured by benchmarks/ instead.
hypothesis.settings.register_profile("archive", deadline=None)
hypothesis.settings.load_profile("archive")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A freshly migrated database of this run's own on the PostgreSQL server."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"archive_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        pytest.fail(f"PostgreSQL is required ({POSTGRES_ADMIN_URL}): {error}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Endpoint]:
    with s3_endpoint() as endpoint:
        yield endpoint


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    database, store = str(request.param).split("-")
    return Backend(database, store)


@pytest.fixture
def keys() -> KeyMaterial:
    return generate_key_material()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


def _truncate(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, backend: Backend, tmp_path: Path
) -> Iterator[Settings]:
    """Settings for the chosen backend; each test starts with empty tables and an empty store."""
    values: dict[str, object] = {"data_dir": tmp_path / "data", "segment_size": 64 * 1024}
    if backend.database == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        _truncate(url)
        values["database_url"] = url
    if backend.store == "s3":
        endpoint: S3Endpoint = request.getfixturevalue("s3")
        bucket = unique_bucket()
        values.update(
            store="s3",
            s3_endpoint=endpoint.host,
            s3_access_key=endpoint.access_key,
            s3_secret_key=endpoint.secret_key,
            s3_bucket=bucket,
            s3_secure=endpoint.secure,
        )
        yield Settings(**values)  # type: ignore[arg-type]
        remove_bucket(endpoint, bucket)
        return
    yield Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def runtime(settings: Settings, keys: KeyMaterial) -> Iterator[Runtime]:
    built = build_runtime(settings, keys=keys)
    if settings.is_embedded:
        upgrade(built.engine)
    built.store.check()
    yield built
    built.close()


# What most API tests act as: an agent who also runs the telephony upload. Access control has
# tests of its own (tests/access) that try every role against every route.
DEFAULT_ROLES = (Role.AGENT, Role.QUALITY, Role.INGEST)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:  # type: ignore[type-arg]
    secret = api_token(runtime, "test.agent", DEFAULT_ROLES)
    with TestClient(app=create_app(runtime=runtime)) as test_client:
        yield authorised(test_client, secret)


@pytest.fixture
def anonymous(runtime: Runtime) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(app=create_app(runtime=runtime)) as test_client:
        yield test_client
