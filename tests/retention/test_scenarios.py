"""A year of the archive under the kivra and vastuu presets, with the clock moved by hand.

Each test puts contacts in through the real ingest, places and releases holds through the real
hold service, and runs the real sweep at chosen moments; the expected days are written out here,
not worked out with the code under test.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest

from archive.audit.actor import job
from archive.clock import LATEST, FixedClock
from archive.contacts.models import Contact, ContactState
from archive.errors import Forbidden
from archive.holds.models import Hold, HoldState
from archive.holds.service import HoldRequest, HoldService
from archive.lifecycle.sweep import SweepReport, sweep
from archive.retention.policy import load_policy
from archive.retention.service import RetentionService, retime
from archive.retention.use_cases import put_in_force
from archive.runtime import Runtime
from archive.testing.contents import count

from .sweep_checks import (
    PRIVACY,
    QUALITY,
    assert_gone,
    assert_readable,
    call,
    chat,
    contact,
    hold,
    hold_contacts,
    release,
    storage_keys,
)

INGEST_AT = time(10, 0)  # contacts start at ten
HOLDS_AT = time(11, 0)  # the quality team works at eleven
SWEEP_AT = time(12, 0)  # the expiry worker runs at noon


def at(day: date, moment: time = SWEEP_AT) -> datetime:
    return datetime.combine(day, moment, tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


def use(runtime: Runtime, preset: str, now: datetime) -> FixedClock:
    runtime.settings = dataclasses.replace(runtime.settings, policy=preset)
    clock = FixedClock(now)
    runtime.clock = clock
    return clock


def sweep_at(runtime: Runtime, moment: datetime) -> SweepReport:
    runtime.clock = FixedClock(moment)
    report = sweep(runtime, actor="expiry")
    assert report.error is None
    return report


def kept_ids(report: SweepReport) -> set[uuid.UUID]:
    return {kept.contact_id for kept in report.kept}


# --- a year of daily sweeps ---------------------------------------------------------------------

# Contacts of the year, by name: the day each starts (at ten) and its channel.
YEAR_CONTACTS = {
    "held-call": ("2026-01-05", "call"),  # a complaint hold is placed on it the same day
    "call-jan": ("2026-01-15", "call"),
    "chat-jan": ("2026-01-15", "chat"),
    "released-chat": ("2026-02-10", "chat"),  # held for a quality project, released 1 June
    "call-mar31": ("2026-03-31", "call"),  # three months on, June has no 31st
    "chat-mar31": ("2026-03-31", "chat"),
    "call-aug31": ("2026-08-31", "call"),  # three months on, November has no 31st
    "chat-oct31": ("2026-10-31", "chat"),
}
RELEASE_DAY = d("2026-06-01")
LAST_DAY = d("2027-01-31")

# The day (of a noon sweep) each contact is deleted; None: still stored after the last day.
EXPECTED_DELETION: dict[str, dict[str, date | None]] = {
    "kivra": {
        "held-call": d("2027-01-05"),  # the complaint cap: 12 months from its start
        "call-jan": d("2026-04-15"),  # P3M
        "chat-jan": d("2026-04-15"),  # P3M
        "released-chat": RELEASE_DAY,  # due since 10 May, kept by the hold until released
        "call-mar31": d("2026-06-30"),
        "chat-mar31": d("2026-06-30"),
        "call-aug31": d("2026-11-30"),
        "chat-oct31": d("2027-01-31"),
    },
    "vastuu": {
        "held-call": d("2027-01-05"),
        "call-jan": d("2026-08-15"),  # P7M
        "chat-jan": d("2026-04-15"),  # P3M
        "released-chat": RELEASE_DAY,
        "call-mar31": d("2026-10-31"),
        "chat-mar31": d("2026-06-30"),
        "call-aug31": None,  # 31 March 2027
        "chat-oct31": d("2027-01-31"),
    },
}
EXPIRES: dict[str, dict[str, date]] = {  # when ingest says each contact expires, at ten
    "kivra": {
        "held-call": d("2026-04-05"),
        "call-jan": d("2026-04-15"),
        "call-mar31": d("2026-06-30"),
        "call-aug31": d("2026-11-30"),
        "released-chat": d("2026-05-10"),
    },
    "vastuu": {
        "held-call": d("2026-08-05"),
        "call-jan": d("2026-08-15"),
        "call-mar31": d("2026-10-31"),
        "call-aug31": d("2027-03-31"),
        "released-chat": d("2026-05-10"),
    },
}


@pytest.mark.parametrize("preset", ["kivra", "vastuu"])
def test_a_year_of_daily_sweeps(runtime: Runtime, preset: str) -> None:
    """Contacts go on the day their retention ends, not a day early or late; a complaint hold
    keeps a call through every sweep until 12 months from its start; a released hold lets its
    contact go at the next sweep."""
    first = d("2026-01-01")
    use(runtime, preset, at(first, INGEST_AT))
    starting: dict[date, list[str]] = {}
    for name, (start, _channel) in YEAR_CONTACTS.items():
        starting.setdefault(d(start), []).append(name)
    ids: dict[str, uuid.UUID] = {}
    names: dict[uuid.UUID, str] = {}
    holds: dict[str, uuid.UUID] = {}
    deleted_on: dict[str, date] = {}
    keys: dict[uuid.UUID, set[str]] = {}
    sweeps = 0

    day = first
    while day <= LAST_DAY:
        clock = FixedClock(at(day, INGEST_AT))
        runtime.clock = clock
        for name in starting.get(day, []):
            ingest: Callable[..., Contact] = call if YEAR_CONTACTS[name][1] == "call" else chat
            stored = ingest(runtime, clock.now())
            ids[name], names[stored.id] = stored.id, name
            keys.update(storage_keys(runtime, [stored.id]))
            expected = EXPIRES[preset].get(name)
            if expected is not None:
                assert stored.expires_at == at(expected, INGEST_AT), name
        runtime.clock = FixedClock(at(day, HOLDS_AT))
        if day == d("2026-01-05"):
            complained = contact(runtime, ids["held-call"])
            holds["complaint"] = hold_contacts(runtime, [complained], reason="complaint")
        if day == d("2026-02-10"):
            quality = contact(runtime, ids["released-chat"])
            holds["quality"] = hold_contacts(runtime, [quality], reason="quality_project")
        if day == RELEASE_DAY:
            release(runtime, holds["quality"])

        report = sweep_at(runtime, at(day))
        sweeps += 1
        for contact_id in report.deleted_ids:
            assert names[contact_id] not in deleted_on, "deleted twice"
            deleted_on[names[contact_id]] = day
        if d("2026-01-05") <= day < d("2027-01-05"):
            # The held call is due from April (or August) on; every sweep keeps it.
            assert "held-call" not in deleted_on
            due = day >= EXPIRES[preset]["held-call"]
            assert (ids["held-call"] in kept_ids(report)) == due, day
        if day == d("2027-01-05"):
            assert [lapsed[0] for lapsed in report.lapsed] == [holds["complaint"]]
        if d("2026-05-10") <= day < RELEASE_DAY:
            assert ids["released-chat"] in kept_ids(report)
        day += timedelta(days=1)

    assert sweeps == 396
    assert deleted_on == {
        name: when for name, when in EXPECTED_DELETION[preset].items() if when is not None
    }
    for name, contact_id in ids.items():
        if EXPECTED_DELETION[preset][name] is None:
            assert_readable(runtime, contact_id)
        else:
            assert_gone(runtime, contact_id, keys[contact_id])
    with runtime.session() as session:
        service = HoldService(session, runtime, QUALITY, "quality.person")
        lapsed, released = service.get(holds["complaint"]), service.get(holds["quality"])
        assert (lapsed.state, released.state) == (HoldState.LAPSED, HoldState.RELEASED)
        assert lapsed.ended_at == at(d("2027-01-05"))
        assert released.ended_at == at(RELEASE_DAY, HOLDS_AT)


@pytest.mark.parametrize("preset", ["kivra", "vastuu"])
def test_the_sweep_before_the_day_keeps_and_the_sweep_on_the_day_deletes(
    runtime: Runtime, preset: str
) -> None:
    started = datetime(2026, 5, 31, 16, 45, tzinfo=UTC)
    use(runtime, preset, started)
    recording = call(runtime, started)
    conversation = chat(runtime, started)
    call_day = {"kivra": date(2026, 8, 31), "vastuu": date(2026, 12, 31)}[preset]
    chat_day = date(2026, 8, 31)
    assert recording.expires_at == datetime.combine(call_day, started.timetz())
    assert conversation.expires_at == datetime.combine(chat_day, started.timetz())

    assert sweep_at(runtime, at(chat_day - timedelta(days=1), time(23, 59))).deleted_ids == []
    on_the_day = sweep_at(runtime, at(chat_day, time(23, 59)))
    if preset == "kivra":
        assert set(on_the_day.deleted_ids) == {recording.id, conversation.id}
    else:
        assert on_the_day.deleted_ids == [conversation.id]
        late = call_day - timedelta(days=1)
        assert sweep_at(runtime, at(late, time(23, 59))).deleted_ids == []
        assert sweep_at(runtime, at(call_day, time(23, 59))).deleted_ids == [recording.id]
    assert contact(runtime, recording.id).state == ContactState.DELETED
    assert contact(runtime, conversation.id).state == ContactState.DELETED


# --- a policy change ----------------------------------------------------------------------------


def test_applying_vastuu_over_kivra_keeps_stored_calls_seven_months(runtime: Runtime) -> None:
    use(runtime, "kivra", at(d("2026-01-01")))
    old = call(runtime, at(d("2025-09-01"), INGEST_AT))  # kivra: due since 1 December
    call_dec = call(runtime, at(d("2025-12-01"), INGEST_AT))
    call_oct = call(runtime, at(d("2025-10-15"), INGEST_AT))
    chat_dec = chat(runtime, at(d("2025-12-01"), INGEST_AT))
    assert call_oct.expires_at == at(d("2026-01-15"), INGEST_AT)
    assert sweep_at(runtime, at(d("2026-01-01"))).deleted_ids == [old.id]

    vastuu = load_policy("vastuu")
    with runtime.session() as session:
        diff = RetentionService(session, runtime).diff(vastuu)
    assert diff.current.startswith("kivra-")
    assert diff.proposed == vastuu.version
    calls, chats = diff.channels["call"], diff.channels["chat"]
    assert (calls.earlier, calls.later, calls.unchanged, calls.at_once) == (0, 2, 0, 0)
    assert (chats.earlier, chats.later, chats.unchanged, chats.at_once) == (0, 0, 1, 0)
    assert "email" not in diff.channels

    with runtime.session() as session:
        record = put_in_force(session, runtime, job("admin.person"), vastuu, origin="file")
    assert retime(runtime, record.id) == 3
    assert contact(runtime, call_dec.id).expires_at == at(d("2026-07-01"), INGEST_AT)
    assert contact(runtime, call_oct.id).expires_at == at(d("2026-05-15"), INGEST_AT)
    assert contact(runtime, chat_dec.id).expires_at == at(d("2026-03-01"), INGEST_AT)
    # A call stored from now on gets the new policy's seven months at ingest.
    runtime.clock = FixedClock(at(d("2026-01-02"), INGEST_AT))
    new = call(runtime, runtime.clock.now())
    assert new.expires_at == at(d("2026-08-02"), INGEST_AT)

    # Under kivra the October call would have gone on 15 January; now it stays to 15 May.
    assert sweep_at(runtime, at(d("2026-01-15"))).deleted_ids == []
    assert sweep_at(runtime, at(d("2026-03-01"))).deleted_ids == [chat_dec.id]
    assert sweep_at(runtime, at(d("2026-05-14"))).deleted_ids == []
    assert sweep_at(runtime, at(d("2026-05-15"))).deleted_ids == [call_oct.id]
    assert sweep_at(runtime, at(d("2026-06-30"))).deleted_ids == []
    last = sweep_at(runtime, at(d("2026-07-01")))
    assert last.deleted_ids == [call_dec.id]
    assert last.policy_version == vastuu.version
    assert contact(runtime, call_dec.id).policy_version == vastuu.version
    assert sweep_at(runtime, at(d("2026-08-02"))).deleted_ids == [new.id]


def test_applying_kivra_over_vastuu_deletes_the_calls_it_no_longer_keeps(
    runtime: Runtime,
) -> None:
    use(runtime, "vastuu", at(d("2026-04-01")))
    call_dec = call(runtime, at(d("2025-12-15"), INGEST_AT))  # kivra: due since 15 March
    call_feb = call(runtime, at(d("2026-02-10"), INGEST_AT))  # kivra: 10 May, vastuu 10 Sept
    chat_feb = chat(runtime, at(d("2026-02-10"), INGEST_AT))
    assert sweep_at(runtime, at(d("2026-04-01"))).deleted_ids == []

    kivra = load_policy("kivra")
    with runtime.session() as session:
        diff = RetentionService(session, runtime).diff(kivra)
    calls, chats = diff.channels["call"], diff.channels["chat"]
    assert (calls.earlier, calls.later, calls.unchanged, calls.at_once) == (1, 0, 0, 1)
    assert (chats.earlier, chats.later, chats.unchanged, chats.at_once) == (0, 0, 1, 0)

    with runtime.session() as session:
        record = put_in_force(session, runtime, job("admin.person"), kivra, origin="file")
    assert retime(runtime, record.id) == 3
    assert contact(runtime, call_feb.id).expires_at == at(d("2026-05-10"), INGEST_AT)
    assert sweep_at(runtime, at(d("2026-04-01"), time(12, 5))).deleted_ids == [call_dec.id]
    assert sweep_at(runtime, at(d("2026-05-09"))).deleted_ids == []
    assert set(sweep_at(runtime, at(d("2026-05-10"))).deleted_ids) == {call_feb.id, chat_feb.id}


# --- what a hold covers -------------------------------------------------------------------------


def test_a_ticket_hold_covers_a_contact_added_to_the_ticket_later(runtime: Runtime) -> None:
    use(runtime, "kivra", at(d("2026-01-10"), INGEST_AT))
    first = call(runtime, runtime.clock.now(), ticket="ZD-4711")
    assert first.ticket_id is not None
    runtime.clock = FixedClock(at(d("2026-01-10"), HOLDS_AT))
    hold_id = hold(
        runtime,
        HoldRequest(
            reason="complaint",
            reference="REKLAMATION-4711",
            scope="ticket",
            ticket_id=first.ticket_id,
        ),
    )
    runtime.clock = FixedClock(at(d("2026-02-20"), INGEST_AT))
    later = chat(runtime, runtime.clock.now(), ticket="ZD-4711")
    other = call(runtime, runtime.clock.now(), ticket="ZD-4712")
    assert later.ticket_id == first.ticket_id != other.ticket_id
    keys = storage_keys(runtime, [first.id, later.id, other.id])

    assert sweep_at(runtime, at(d("2026-04-10"))).kept[0].contact_id == first.id
    may = sweep_at(runtime, at(d("2026-05-20")))
    assert may.deleted_ids == [other.id]
    assert kept_ids(may) == {first.id, later.id}
    assert {kept.hold_id for kept in may.kept} == {hold_id}
    # Each is kept 12 months from its own start, not from when the hold was placed.
    assert {kept.contact_id: kept.until for kept in may.kept} == {
        first.id: at(d("2027-01-10"), INGEST_AT),
        later.id: at(d("2027-02-20"), INGEST_AT),
    }
    assert sweep_at(runtime, at(d("2027-01-09"))).deleted_ids == []
    assert sweep_at(runtime, at(d("2027-01-10"))).deleted_ids == [first.id]
    assert sweep_at(runtime, at(d("2027-02-19"))).deleted_ids == []
    last = sweep_at(runtime, at(d("2027-02-20")))
    assert last.deleted_ids == [later.id]
    assert [lapsed[0] for lapsed in last.lapsed] == [hold_id]
    for contact_id, stored in keys.items():
        assert_gone(runtime, contact_id, stored)


def test_a_customer_hold_covers_only_contacts_inside_its_range(runtime: Runtime) -> None:
    use(runtime, "kivra", at(d("2026-06-15")))
    starts = {
        "january": datetime(2026, 1, 10, 10, 0, tzinfo=UTC),
        "range-start": datetime(2026, 2, 1, 0, 0, tzinfo=UTC),  # since: inclusive
        "february": datetime(2026, 2, 10, 10, 0, tzinfo=UTC),
        "last-second": datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
        "range-end": datetime(2026, 3, 1, 0, 0, tzinfo=UTC),  # until: exclusive
        "march": datetime(2026, 3, 10, 10, 0, tzinfo=UTC),
    }
    calls = {name: call(runtime, started) for name, started in starts.items()}
    stranger = call(runtime, starts["february"], caller="+358409876543")
    customer = calls["january"].customer_id
    assert customer is not None
    assert stranger.customer_id not in (None, customer)
    assert {c.customer_id for c in calls.values()} == {customer}
    hold_id = hold(
        runtime,
        HoldRequest(
            reason="complaint",
            reference="REKLAMATION-0215",
            scope="customer",
            customer_id=customer,
            since=datetime(2026, 2, 1, tzinfo=UTC),
            until=datetime(2026, 3, 1, tzinfo=UTC),
        ),
    )
    inside = {calls[name].id for name in ("range-start", "february", "last-second")}
    outside = {calls[name].id for name in ("january", "range-end", "march")} | {stranger.id}
    keys = storage_keys(runtime, outside)

    report = sweep_at(runtime, at(d("2026-06-15")))
    assert set(report.deleted_ids) == outside
    assert len(report.deleted_ids) == len(outside)
    assert kept_ids(report) == inside
    assert {kept.hold_id for kept in report.kept} == {hold_id}
    for contact_id in inside:
        assert_readable(runtime, contact_id)
    for contact_id in outside:
        assert_gone(runtime, contact_id, keys[contact_id])
    # The earliest covered call started 1 February: kept to 1 February 2027, not a day longer.
    assert sweep_at(runtime, at(d("2027-01-31"), time(23, 59))).deleted_ids == []
    assert sweep_at(runtime, at(d("2027-02-01"))).deleted_ids == [calls["range-start"].id]


def test_a_legal_hold_has_no_cap_and_keeps_until_released(runtime: Runtime) -> None:
    use(runtime, "kivra", at(d("2026-01-05"), INGEST_AT))
    evidence = call(runtime, runtime.clock.now())
    keys = storage_keys(runtime, [evidence.id])
    legal = hold(
        runtime,
        HoldRequest(
            reason="legal",
            reference="KäO 2026/1234",
            scope="contacts",
            contact_ids=[evidence.id],
        ),
        PRIVACY,
    )
    for day in ("2026-04-05", "2027-01-05", "2027-01-06", "2028-06-30"):
        report = sweep_at(runtime, at(d(day)))
        assert report.deleted_ids == [], day
        assert report.lapsed == [], day
        assert [(k.contact_id, k.hold_id, k.until) for k in report.kept] == [
            (evidence.id, legal, LATEST)
        ]
    assert_readable(runtime, evidence.id)

    with pytest.raises(Forbidden), runtime.session() as session:
        HoldService(session, runtime, QUALITY, "quality.person").release(legal)
    release(runtime, legal, PRIVACY)
    report = sweep_at(runtime, at(d("2028-07-01")))
    assert report.deleted_ids == [evidence.id]
    assert_gone(runtime, evidence.id, keys[evidence.id])


def test_the_quality_team_cannot_place_a_legal_hold(runtime: Runtime) -> None:
    use(runtime, "kivra", at(d("2026-01-05"), INGEST_AT))
    recording = call(runtime, runtime.clock.now())
    with pytest.raises(Forbidden, match="privacy officer"):
        hold(
            runtime,
            HoldRequest(
                reason="legal",
                reference="KäO 2026/1234",
                scope="contacts",
                contact_ids=[recording.id],
            ),
            QUALITY,
        )
    assert count(runtime, Hold) == 0
    assert sweep_at(runtime, at(d("2026-04-05"))).deleted_ids == [recording.id]
