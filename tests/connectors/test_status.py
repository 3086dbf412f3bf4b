"""The connectors' status through the API and the metrics: the same sources and figures as the
page, for administrators only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.app import create_app
from archive.clock import FixedClock
from archive.connectors.activity import Kind, Outcome, record, record_error, record_pass
from archive.connectors.schemas import connector_out
from archive.connectors.use_cases.status import connector_status
from archive.runtime import Runtime
from archive.scrape import DatabaseGauges
from archive.testing.tokens import api_token, authorised

pytestmark = pytest.mark.usefixtures("on_test_clock")

MAILBOX = "imaps://archive@mail.example.fi:993/INBOX"


def test_the_api_answers_administrators_alone(runtime: Runtime, clock: FixedClock) -> None:
    record(runtime, Kind.IMAP, MAILBOX, Outcome.STORED)
    clock.advance(timedelta(minutes=5))
    record(runtime, Kind.IMAP, MAILBOX, Outcome.REFUSED, "554 5.6.0 not an e-mail")
    record_pass(runtime, Kind.IMAP, MAILBOX, 0)
    admin = api_token(runtime, "ada.admin", (Role.ADMIN,))
    agent = api_token(runtime, "anna.agent", (Role.AGENT, Role.QUALITY, Role.PRIVACY))
    client: TestClient[Any]
    with TestClient(app=create_app(runtime=runtime)) as client:
        answer = authorised(client, admin).get("/api/v1/connectors")
        assert answer.status_code == 200
        (mailbox,) = answer.json()
        assert mailbox["connector"] == "imap"
        assert mailbox["source"] == MAILBOX
        assert mailbox["state"] == "failing"
        assert (mailbox["stored"], mailbox["refused"], mailbox["failures_in_a_row"]) == (1, 1, 1)
        assert mailbox["last_error"] == "554 5.6.0 not an e-mail"
        assert mailbox["backlog"] == 0
        assert len(mailbox["hours"]) == 24
        assert mailbox["hours"][-1]["messages"] == 1
        assert authorised(client, agent).get("/api/v1/connectors").status_code == 403


def test_the_metrics_name_each_source(runtime: Runtime, clock: FixedClock) -> None:
    record(runtime, Kind.SMTP, "0.0.0.0:2525", Outcome.STORED)
    record_pass(runtime, Kind.IMAP, MAILBOX, 40)
    clock.advance(timedelta(minutes=2))
    record(runtime, Kind.IMAP, MAILBOX, Outcome.DEFERRED, "451")
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in DatabaseGauges(runtime, ttl=0).collect()
        for sample in family.samples
    }
    smtp = (("connector", "smtp"), ("source", "0.0.0.0:2525"))
    imap = (("connector", "imap"), ("source", MAILBOX))
    assert found[("archive_connector_last_message_age_seconds", smtp)] == 120.0
    assert found[("archive_connector_failures_in_a_row", smtp)] == 0.0
    assert found[("archive_connector_failures_in_a_row", imap)] == 1.0
    assert found[("archive_connector_backlog", imap)] == 40.0
    assert found[("archive_connector_last_pass_age_seconds", imap)] == 120.0
    assert ("archive_connector_backlog", smtp) not in found
    assert ("archive_connector_last_message_age_seconds", imap) not in found
    assert found[("archive_metrics_database_up", ())] == 1.0
    day = "archive_connector_messages_last_24h"
    imap_day = (("connector", "imap"), ("outcome", "{}"), ("source", MAILBOX))
    smtp_stored = (("connector", "smtp"), ("outcome", "stored"), ("source", "0.0.0.0:2525"))
    assert found[(day, tuple((k, v.format("deferred")) for k, v in imap_day))] == 1.0
    assert found[(day, tuple((k, v.format("stored")) for k, v in imap_day))] == 0.0
    assert found[(day, smtp_stored)] == 1.0


def test_a_source_that_cannot_be_read_is_failing_until_a_pass_finishes(
    runtime: Runtime, clock: FixedClock
) -> None:
    record(runtime, Kind.IMAP, MAILBOX, Outcome.STORED)
    clock.advance(timedelta(minutes=1))
    record_error(runtime, Kind.IMAP, MAILBOX, "LOGIN failed")
    with runtime.session() as session:
        (mailbox,) = connector_status(session, runtime)
    assert connector_out(mailbox).state == "failing"
    clock.advance(timedelta(minutes=1))
    record_pass(runtime, Kind.IMAP, MAILBOX, 0)
    with runtime.session() as session:
        (mailbox,) = connector_status(session, runtime)
    assert connector_out(mailbox).state == "flowing"
