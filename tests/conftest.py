"""Fixtures shared by every suite: real databases, a real S3 endpoint, a runtime, an API client;
and the fast lane.

PostgreSQL and S3 are required, never skipped: if the server is not reachable the tests that
need it fail. ARCHIVE_TEST_POSTGRES_URL names the PostgreSQL server (a database there is created
for the run and dropped after it); ARCHIVE_TEST_S3_ENDPOINT names an S3 server such as MinIO,
else moto's S3 server is started in-process. The worker tests run on both Celery brokers:
ARCHIVE_TEST_REDIS_URL names a Redis database of the run's, ARCHIVE_TEST_AMQP_URL the RabbitMQ
server where a virtual host of the run's own is made. What the fixtures build comes from
`archive.testing`.

The fast lane (`./dev test --fast`, `pytest -m fast`) is the tests marked `fast`: a module
says `pytestmark = pytest.mark.fast` when none of its tests needs a service. Such a test must
not ask for a fixture of a service (the run stops at collection) nor reach one (the test fails,
in every run, even where its code catches the error).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from archive.accounts import passwords
from archive.accounts.models import Role
from archive.clock import FixedClock
from archive.crypto.keyring import KeyMaterial, generate_key_material
from archive.db.migrate import upgrade
from archive.db.session import make_engine
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.apps import app_for
from archive.testing.backends import BACKENDS, Backend
from archive.testing.brokers import (
    BROKERS,
    amqp_test_url,
    amqp_virtual_host,
    redis_database,
    redis_test_url,
)
from archive.testing.databases import (
    empty_tables,
    new_database,
    place_migrated_sqlite,
    postgres_admin_url,
)
from archive.testing.offline import offline
from archive.testing.s3 import S3Endpoint, remove_bucket, s3_endpoint, unique_bucket, with_bucket
from archive.testing.tokens import api_token, authorised

# Hypothesis's per-example deadline measures the machine as much as the code: on a shared,
# loaded one it fails fast examples at random. Speed is measured by benchmarks/ instead.
hypothesis.settings.register_profile("archive", deadline=None)
hypothesis.settings.load_profile("archive")

# Argon2id at the archive's profile (64 MiB, three passes) takes about 0.13 s a hash and as long
# a verification, and most tests add users and log in: the page tests spent half their time
# there. The tests in this process hash with the same algorithm at 1 MiB and one pass; a server
# the tests start as a process of its own hashes as the archive does, and
# tests/accounts/test_login.py checks that profile in one.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

#: Fixtures that stand for a service; everything that needs one asks for one of these.
SERVICE_FIXTURES = frozenset(
    {"postgres_url", "s3", "backend", "store_spec", "broker", "redis_broker", "amqp_broker"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    wrong = [
        f"{item.nodeid} uses {', '.join(sorted(SERVICE_FIXTURES & set(item.fixturenames)))}"
        for item in items
        if item.get_closest_marker("fast") and SERVICE_FIXTURES & set(item.fixturenames)
    ]
    if wrong:
        raise pytest.UsageError("tests marked fast need a service:\n  " + "\n  ".join(wrong))


@pytest.fixture(autouse=True)
def _fast_means_offline(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("fast") is None:
        yield
        return
    with offline() as attempts:
        yield
    if attempts:
        pytest.fail(f"a test marked fast tried to {attempts[0]}; it is not fast", pytrace=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A freshly migrated database of this run's own on the PostgreSQL server."""
    with ExitStack() as cleanup:
        try:
            url = cleanup.enter_context(new_database("archive_test"))
        except Exception as error:
            pytest.fail(f"PostgreSQL is required ({postgres_admin_url()}): {error}")
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Endpoint]:
    with s3_endpoint() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def redis_broker() -> Iterator[str]:
    """The Redis database of this run, emptied of what an earlier run left in it."""
    with ExitStack() as cleanup:
        try:
            url = cleanup.enter_context(redis_database())
        except Exception as error:
            pytest.fail(f"Redis is required ({redis_test_url()}): {error}")
        yield url


@pytest.fixture(scope="session")
def amqp_broker() -> Iterator[str]:
    """A RabbitMQ virtual host of this run's own, deleted after it."""
    with ExitStack() as cleanup:
        try:
            url = cleanup.enter_context(amqp_virtual_host())
        except Exception as error:
            pytest.fail(f"RabbitMQ is required ({amqp_test_url()}): {error}")
        yield url


@pytest.fixture(params=BROKERS)
def broker(request: pytest.FixtureRequest) -> str:
    """A Celery broker's URL, on each broker in turn: Redis, then RabbitMQ."""
    return str(request.getfixturevalue(f"{request.param}_broker"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    return Backend.named(str(request.param))


@pytest.fixture
def keys() -> KeyMaterial:
    return generate_key_material()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, backend: Backend, tmp_path: Path
) -> Iterator[Settings]:
    """Settings for the chosen backend; each test starts with empty tables and an empty store."""
    settings = Settings(data_dir=tmp_path / "data", segment_size=64 * 1024)
    if backend.database == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        empty_tables(url)
        settings = replace(settings, database_url=url)
    if backend.store == "s3":
        endpoint: S3Endpoint = request.getfixturevalue("s3")
        bucket = unique_bucket()
        yield with_bucket(settings, endpoint, bucket)
        remove_bucket(endpoint, bucket)
        return
    yield settings


@pytest.fixture
def runtime(settings: Settings, keys: KeyMaterial) -> Iterator[Runtime]:
    if settings.is_embedded:
        place_migrated_sqlite(Path(str(make_url(settings.resolved_database_url).database)))
    built = build_runtime(settings, keys=keys)
    if settings.is_embedded:
        upgrade(built.engine)  # finds it at the newest revision
    built.store.check()
    yield built
    built.close()


# What most API tests act as: an agent who also runs the telephony upload. Access control has
# tests of its own (tests/access) that try every role against every route.
DEFAULT_ROLES = (Role.AGENT, Role.QUALITY, Role.INGEST)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:  # type: ignore[type-arg]
    secret = api_token(runtime, "test.agent", DEFAULT_ROLES)
    with app_for(runtime) as app, TestClient(app=app) as test_client:
        yield authorised(test_client, secret)


@pytest.fixture
def anonymous(runtime: Runtime) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with app_for(runtime) as app, TestClient(app=app) as test_client:
        yield test_client
