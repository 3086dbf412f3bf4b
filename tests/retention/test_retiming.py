"""The database re-times contacts exactly as `Policy.expires_at` would, on both backends.

The end of every rule shape (years, months, weeks, days and their mixes) is worked out by the
SQL of `archive.retention.retiming` for every day of seven years (two leap years among them),
century February ends, and times from midnight to the last microsecond, and compared with
Python's; then for generated policies and dates; then through the re-time itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.engine import Connection

from archive.db.base import UTCDateTime
from archive.retention.durations import Duration
from archive.retention.policy import Policy, parse_policy
from archive.retention.retiming import expiry_sql
from archive.runtime import Runtime

# Each shape a rule can take; the odd ones on purpose (P11M30D ends on a different day than
# P1Y, P13M crosses a year, P4Y lands on 29 February or not).
DURATIONS = (
    "P1M",
    "P3M",
    "P7M",
    "P11M30D",
    "P13M",
    "P1Y",
    "P1Y6M",
    "P4Y",
    "P2W",
    "P90D",
    "P1M1D",
    "P1Y1M2W3D",
)
# The rule each probe row meets: a channel's own, a category's, and a category with no rule.
SLOTS = (
    ("chat", None),
    ("email", None),
    ("call", None),
    ("call", "complaint"),
    ("call", "question"),
    ("chat", "incident"),  # chat has no category rules: the channel's rule
)
TIMES = (time(0, 0), time(12, 34, 56, 789012), time(23, 59, 59, 999999))


def policy_of(chat: str, email: str, call: str, complaint: str, question: str) -> Policy:
    return parse_policy(
        f"""
        name = "probe"
        [channels.chat]
        retention = "{chat}"
        [channels.email]
        retention = "{email}"
        [channels.call]
        retention = "{call}"
        [channels.call.categories]
        complaint = "{complaint}"
        question = "{question}"
        [holds]
        complaint = "P999Y"
        quality_project = "P999Y"
        """,
        "probe",
    )


def rotated_policies() -> Iterator[Policy]:
    """Policies that between them give every duration to every rule."""
    for shift in range(len(DURATIONS)):
        chosen = [DURATIONS[(shift + slot) % len(DURATIONS)] for slot in range(5)]
        yield policy_of(*chosen)


def every_day() -> list[datetime]:
    days = []
    day = datetime(2023, 1, 1, tzinfo=UTC)
    while day.year < 2030:
        days.append(day)
        day += timedelta(days=1)
    for year in (1900, 2000, 2100, 2400):  # century years: only 2000 and 2400 are leap years
        days += [datetime(year, 2, 28, tzinfo=UTC), datetime(year, 3, 1, tzinfo=UTC)]
    days.append(datetime(2000, 2, 29, tzinfo=UTC))
    return [
        datetime.combine(day.date(), TIMES[index % len(TIMES)], tzinfo=UTC)
        for index, day in enumerate(days)
    ]


PROBES = Table(
    "retime_probes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("channel", String(8)),
    Column("category", String(32)),
    Column("started_at", UTCDateTime()),
    prefixes=["TEMPORARY"],
)


@contextmanager
def probes(runtime: Runtime, starts: Sequence[datetime]) -> Iterator[Connection]:
    """A temporary table with a row for every start in every rule slot."""
    rows = [
        {"id": index, "channel": channel, "category": category, "started_at": started_at}
        for index, (started_at, (channel, category)) in enumerate(itertools.product(starts, SLOTS))
    ]
    with runtime.engine.connect() as connection:
        PROBES.create(connection)
        try:
            connection.execute(insert(PROBES), rows)
            yield connection
        finally:
            connection.rollback()
            PROBES.drop(connection, checkfirst=True)
            connection.commit()


def mismatches(connection: Connection, policy: Policy) -> list[str]:
    """The probe rows where the database and `policy.expires_at` disagree."""
    end = expiry_sql(
        policy,
        connection.dialect.name,
        PROBES.c.channel,
        PROBES.c.category,
        PROBES.c.started_at,
    )
    rows = connection.execute(
        select(PROBES.c.channel, PROBES.c.category, PROBES.c.started_at, end.label("end"))
    ).all()
    assert rows
    wrong = []
    for channel, category, started_at, found in rows:
        wanted = policy.expires_at(channel, category, started_at)
        if found != wanted:
            rule = policy.retention_for(channel, category)
            wrong.append(f"{started_at.isoformat()} + {rule}: SQL {found}, policy {wanted}")
    return wrong


def test_every_rule_shape_ends_on_the_same_moment_in_sql(runtime: Runtime) -> None:
    with probes(runtime, every_day()) as connection:
        for policy in rotated_policies():
            assert mismatches(connection, policy)[:5] == []


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_the_session_time_zone_changes_nothing(runtime: Runtime) -> None:
    # Stored times are UTC; a month added in Helsinki or Kiritimati time would cross a day
    # boundary at another moment.
    with probes(runtime, every_day()) as connection:
        for zone in ("Europe/Helsinki", "Pacific/Kiritimati", "America/St_Johns"):
            connection.execute(text(f"SET TimeZone = '{zone}'"))
            for policy in list(rotated_policies())[:4]:
                assert mismatches(connection, policy)[:5] == []


durations = st.builds(
    Duration,
    years=st.integers(0, 30),
    months=st.integers(0, 40),
    weeks=st.integers(0, 60),
    days=st.integers(0, 400),
).filter(lambda duration: not duration.is_zero)
starts = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)
)


@settings(
    max_examples=30,
    # The runtime is only a database to run one SELECT on; the examples leave nothing in it.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rules=st.lists(durations, min_size=5, max_size=5), moments=st.lists(starts, min_size=1))
def test_generated_policies_and_dates_agree(
    runtime: Runtime, rules: list[Duration], moments: list[datetime]
) -> None:
    policy = policy_of(*(str(rule) for rule in rules))
    with probes(runtime, moments) as connection:
        assert mismatches(connection, policy) == []
