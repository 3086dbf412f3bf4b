"""Celery brokers for the worker tests: a Redis database and a RabbitMQ virtual host of the run's
own, so that no worker of a run consumes what an aborted run left queued.

ARCHIVE_TEST_REDIS_URL names a Redis database that belongs to the test run (default: database 15
of the local server). It is emptied before the run uses it: the tasks an aborted run left queued,
and those a killed worker had taken and not acknowledged (Redis gives them back to the queue
when their visibility timeout passes), go with it. Two runs at once need two databases.

ARCHIVE_TEST_AMQP_URL names the RabbitMQ server (default: the local one, as `guest`). A virtual
host of the run's own, `archive_test_<random>`, is made there and deleted afterwards with every
queue in it, so neither an aborted run's messages nor another run's are seen. Virtual hosts are
made with `rabbitmqctl`, which must reach the server's node (it runs on the same machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote, urlsplit

import redis
from kombu.connection import Connection

#: The `broker` fixture's parameters: the two brokers the workers support.
BROKERS = ("redis", "amqp")

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def redis_test_url() -> str:
    """The Redis database the test run may empty.

    When the run is spread over processes (pytest-xdist), each process empties and uses a
    database of its own: the named one for the first, the one below it for the second, and so
    on, so that no process's worker takes a task another process queued."""
    url = urlsplit(os.environ.get("ARCHIVE_TEST_REDIS_URL", DEFAULT_REDIS_URL))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = int(worker.removeprefix("gw") or 0)
    if offset == 0:
        return url.geturl()
    database = int(url.path.strip("/") or 0) - offset
    if database < 0:
        raise ValueError(f"no Redis database left below {url.path} for test process {worker}")
    return url._replace(path=f"/{database}").geturl()


def amqp_test_url() -> str:
    """The RabbitMQ server, as a user who may use the virtual hosts made for the run."""
    return os.environ.get("ARCHIVE_TEST_AMQP_URL", DEFAULT_AMQP_URL)


@contextmanager
def redis_database() -> Iterator[str]:
    """Yield the URL of the test run's Redis database, emptied first."""
    url = redis_test_url()
    # Closed at once: a client left to the garbage collector warns about its socket.
    with redis.Redis.from_url(url) as client:
        client.ping()
        client.flushdb()
    yield url


@contextmanager
def amqp_virtual_host() -> Iterator[str]:
    """Yield the URL of a new virtual host on the RabbitMQ server; delete it afterwards."""
    server = amqp_test_url()
    reach(server)
    parts = urlsplit(server)
    name = f"archive_test_{uuid.uuid4().hex[:12]}"
    rabbitmqctl("add_vhost", name)
    try:
        user = unquote(parts.username or "guest")
        rabbitmqctl("set_permissions", "--vhost", name, user, ".*", ".*", ".*")
        url = parts._replace(path="/" + quote(name, safe="")).geturl()
        reach(url)
        yield url
    finally:
        rabbitmqctl("delete_vhost", name)


def reach(url: str) -> None:
    """Connect to the broker at `url` and log in, or raise."""
    with Connection(url, connect_timeout=5) as connection:  # type: ignore[no-untyped-call]
        connection.ensure_connection(max_retries=1)


def rabbitmqctl(*arguments: str) -> str:
    """Run `rabbitmqctl` with `arguments`; its output, or an error that says what it said."""
    command = shutil.which("rabbitmqctl")
    if command is None:
        raise RuntimeError("rabbitmqctl is not installed: it makes the test run's virtual host")
    done = subprocess.run(  # noqa: S603 (the installed rabbitmqctl, arguments made here)
        [command, "--quiet", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(arguments)}: {done.stderr.strip()}")
    return done.stdout
