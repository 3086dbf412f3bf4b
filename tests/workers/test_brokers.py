"""What the two brokers keep: a task sent while no worker runs waits for one (on RabbitMQ in a
durable queue, as a persistent message), and a test run never consumes what an aborted run left
queued."""

from __future__ import annotations

import pytest
import redis

from archive.background import start
from archive.jobs import SWEEP_TASK
from archive.runtime import Runtime
from archive.testing.brokers import amqp_virtual_host, rabbitmqctl, redis_database
from workers.app import app

from .conftest import Deployment


def nothing_here(_: Runtime) -> None:
    raise AssertionError("with a broker the work is sent, not run here")


@pytest.mark.parametrize("broker", ["amqp"], indirect=True)
def test_a_task_the_api_sends_waits_in_a_durable_queue_as_a_persistent_message(
    deployment: Deployment,
) -> None:
    """Sent the way the API sends work, with no worker running: RabbitMQ keeps it across a
    restart of its own, so a worker started later still runs it."""
    assert start(deployment.runtime, SWEEP_TASK, [], nothing_here) == "worker"
    vhost = deployment.broker_url.rsplit("/", 1)[1]
    listed = rabbitmqctl(
        "list_queues", "--vhost", vhost, "--no-table-headers", "name", "durable",
        "messages_persistent",
    )  # fmt: skip
    queues = {line.split()[0]: line.split()[1:] for line in listed.splitlines() if line.strip()}
    assert queues["celery"] == ["true", "1"]
    with deployment.worker():
        summary = deployment.outcomes.of_name(SWEEP_TASK)
    assert summary["error"] is None


def test_a_run_never_sees_what_an_aborted_run_left_queued(broker: str) -> None:
    """An aborted run's queued task (here: one sent to the queue and never consumed) is not
    there for the next run: Redis's test database is emptied, RabbitMQ's virtual host is new."""
    if broker.startswith("redis"):
        with redis.Redis.from_url(broker) as client:
            client.lpush("celery", b"a task an aborted run left")
        with redis_database() as again, redis.Redis.from_url(again) as client:
            assert client.llen("celery") == 0
        return
    with amqp_virtual_host() as other:
        assert other != broker
        with app.connection_for_write(other) as connection:
            queue = connection.SimpleQueue("celery")
            queue.put({"left": "by an aborted run"})
            queue.close()
    # The next run's virtual host: a queue of that name there is empty.
    with amqp_virtual_host() as then, app.connection_for_write(then) as connection:
        queue = connection.SimpleQueue("celery")
        assert queue.qsize() == 0
        queue.close()
