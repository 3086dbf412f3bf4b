"""What a recording's name and sidecar say: Asterisk's pattern and others, hostile names, bad
dates, JSON and CSV sidecars, and the call they make."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from archive.connectors.bucket import BucketWatch
from archive.connectors.recordings import (
    compile_pattern,
    describe,
    read_sidecar,
    started_at,
)
from archive.contacts.models import Direction
from archive.errors import ConfigurationError, InvalidInput
from archive.settings import Settings

pytestmark = pytest.mark.fast

ASTERISK = compile_pattern("%Y%m%d-%H%M%S-<caller>-<callee>-<uniqueid>.wav")
HELSINKI = ZoneInfo("Europe/Helsinki")


def test_asterisk_names_are_read_whole_uniqueid_and_all() -> None:
    found = ASTERISK.read("20260302-093000-0401234567-100-1772443800.42.wav")
    assert found == {
        "%Y": "2026",
        "%m": "03",
        "%d": "02",
        "%H": "09",
        "%M": "30",
        "%S": "00",
        "caller": "0401234567",
        "callee": "100",
        "uniqueid": "1772443800.42",
    }
    # With Asterisk's systemname set, the uniqueid holds a dash: it is still read whole.
    named = ASTERISK.read("20260302-093000-+358401234567-100-pbx1-1772443800.42.wav")
    assert named is not None
    assert (named["caller"], named["uniqueid"]) == ("+358401234567", "pbx1-1772443800.42")
    # A withheld number is written as nothing.
    withheld = ASTERISK.read("20260302-093000--100-1772443800.43.wav")
    assert withheld is not None
    assert "caller" not in withheld
    assert started_at(named, HELSINKI) == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "name",
    [
        "20260302-093000-0401234567-100-1.42.mp3",  # another extension
        "call.wav",
        "../20260302-093000-0401234567-100-1.42.wav",  # a path, not a name
        "20260302-093000-04012/34567-100-1.42.wav",
        "20260302-093000-0401234567-100-1\\..\\42.wav",
        "20260302-093000-0401234567-100-1\n42.wav",
        "20260302-093000-0401234567-100-1\x0042.wav",
        "2026030-093000-0401234567-100-1.42.wav",
        "20260302-093000-0401234567-100-" + "9" * 300 + ".wav",  # longer than any file name
        "",
    ],
)
def test_names_not_of_the_pattern_are_not_read(name: str) -> None:
    assert ASTERISK.read(name) is None


def test_hostile_names_are_read_in_no_time() -> None:
    patterns = [
        ASTERISK,
        compile_pattern("<any>_<caller>_<callee>_<uniqueid>.wav"),
        compile_pattern("<caller>-<callee>-<agent>-<ticket>-<uniqueid>"),
    ]
    names = ["-" * 255, "_" * 251 + ".wav", "1-" * 127, "a" * 255, "-" * 250 + ".wav"]
    begun = time.perf_counter()
    for pattern in patterns:
        for name in names:
            pattern.read(name)
    assert time.perf_counter() - begun < 0.5


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("20261302-093000-0401234567-100-1.42.wav", "not one"),  # month 13
        ("20260230-093000-0401234567-100-1.42.wav", "not one"),  # 30 February
        ("20260302-253000-0401234567-100-1.42.wav", "not one"),  # hour 25
    ],
)
def test_bad_dates_in_names_are_refused(name: str, problem: str) -> None:
    named = ASTERISK.read(name)
    assert named is not None
    with pytest.raises(InvalidInput, match=problem):
        started_at(named, HELSINKI)


def test_epoch_and_offset_directives() -> None:
    epoch = compile_pattern("<uniqueid>-%s.wav")
    named = epoch.read("abc-1772443800.wav")
    assert named is not None
    assert started_at(named, HELSINKI) == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    far = epoch.read("abc-999999999999.wav")
    assert far is not None
    with pytest.raises(InvalidInput, match="out of range"):
        started_at(far, HELSINKI)
    offset = compile_pattern("%Y-%m-%dT%H%M%S%z_<uniqueid>.ogg")
    named = offset.read("2026-03-02T093000+0100_x1.ogg")
    assert named is not None
    assert started_at(named, HELSINKI) == datetime(
        2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=1))
    )


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("%Y%m%d-%Q.wav", "%Q is not supported"),
        ("<caller><callee>.wav", "must be followed by a character"),
        ("<caller>%Y-<uniqueid>.wav", "must be followed by a character"),
        ("<caller>-<caller>.wav", "appears twice"),
        ("<phone>.wav", "<phone> is not one of"),
        ("%s-%Y%m%d.wav", "not both"),
        ("%Y%d-<uniqueid>.wav", "needs %Y, %m and %d"),
    ],
)
def test_unworkable_patterns_are_refused(pattern: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        compile_pattern(pattern)


def test_an_extension_is_the_agent_and_tells_the_direction() -> None:
    def call(caller: str, callee: str) -> tuple[Direction, str | None, str | None, str | None]:
        named = {"caller": caller, "callee": callee, "uniqueid": "u1"}
        made = describe("x.wav", "x.wav", named, {}, HELSINKI, "folder")
        parties = made.parties
        return made.envelope.direction, made.envelope.agent, parties.caller, parties.callee

    assert call("0401234567", "100") == (Direction.INBOUND, "100", "0401234567", None)
    assert call("100", "0401234567") == (Direction.OUTBOUND, "100", None, "0401234567")
    assert call("100", "101") == (Direction.INTERNAL, "100", None, None)
    assert call("0401234567", "0201234567")[:2] == (Direction.INBOUND, None)


def test_the_sidecar_wins_over_the_name_and_the_identity_is_stable() -> None:
    named = ASTERISK.read("20260302-093000-0401234567-100-1772443800.42.wav")
    sidecar = {"direction": "outbound", "agent": "aino", "started_at": "2026-03-02T10:00:00"}
    made = describe("n.wav", "2026/03/n.wav", named, sidecar, HELSINKI, "folder")
    assert made.envelope.direction is Direction.OUTBOUND
    assert made.envelope.agent == "aino"
    assert made.envelope.started_at == datetime(2026, 3, 2, 10, tzinfo=HELSINKI)
    assert made.envelope.external_id == "1772443800.42"
    # No uniqueid: the file's place under the folder is its identity.
    plain = describe("n.wav", "2026/03/n.wav", None, {"caller": "0401234567"}, HELSINKI, "x")
    assert plain.envelope.external_id == "2026/03/n.wav"
    with pytest.raises(InvalidInput, match="direction"):
        describe("n.wav", "n.wav", None, {"direction": "sideways"}, HELSINKI, "folder")


def test_json_and_csv_sidecars_say_the_same() -> None:
    wanted = {"caller": "+358401234567", "agent": "aino", "ticket": "T-1"}
    assert read_sidecar(b'{"caller":"+358401234567","agent":"aino","ticket":"T-1"}', "json") == (
        wanted
    )
    csv_text = "\ufeffcaller,agent,ticket,callee\r\n+358401234567,aino,T-1,\r\n".encode()
    assert read_sidecar(csv_text, "csv") == wanted


@pytest.mark.parametrize(
    ("data", "kind", "problem"),
    [
        (b"{not json", "json", "not valid JSON"),
        (b"[1, 2]", "json", "must be a JSON object"),
        (b'{"caler": "0401234567"}', "json", "unknown fields caler"),
        (b'{"caller": 401234567}', "json", "caller must be a string"),
        (b"\xff\xfe", "json", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "json", "larger than"),
        (b"[" * 30_000 + b"]" * 30_000, "json", "not valid JSON"),
        (b"caller\n1\n2\n", "csv", "exactly one row"),
        (b"caller\n1,2\n", "csv", "exactly one row"),
        (b"caller", "csv", "exactly one row"),
    ],
)
def test_bad_sidecars_are_refused_with_a_reason(data: bytes, kind: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        read_sidecar(data, kind)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"ARCHIVE_WATCH_SIDECAR": "xml"}, "ARCHIVE_WATCH_SIDECAR must be none, json or csv"),
        ({"ARCHIVE_WATCH_AFTER": "keep"}, "ARCHIVE_WATCH_AFTER must be move or delete"),
        ({"ARCHIVE_WATCH_INTERVAL_SECONDS": "0"}, "must be positive"),
        ({"ARCHIVE_WATCH_PATTERN": "calls/<uniqueid>.wav"}, "without a /"),
        ({"ARCHIVE_WATCH_DIR": "/x", "ARCHIVE_WATCH_TIMEZONE": "Mars/Olympus"}, "not a time zone"),
        ({"ARCHIVE_WATCH_BUCKET": "s3://b"}, "must be s3://bucket/"),
        ({"ARCHIVE_WATCH_BUCKET": "s3://calls-bucket/in/"}, "needs an endpoint and keys"),
        ({"ARCHIVE_WATCH_S3_ENDPOINT": "s3.example.com:9000"}, "must be http"),
    ],
)
def test_watch_settings_that_cannot_work_are_refused_at_start_up(
    env: dict[str, str], problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        Settings.from_env(env)


def test_a_bucket_borrows_the_archives_endpoint_and_keys_unless_given_its_own() -> None:
    own = Settings.from_env(
        {
            "ARCHIVE_STORE": "s3",
            "ARCHIVE_S3_ENDPOINT": "minio:9000",
            "ARCHIVE_S3_ACCESS_KEY": "archive",
            "ARCHIVE_S3_SECRET_KEY": "secret",
            "ARCHIVE_WATCH_BUCKET": "s3://exports/calls/",
        }
    )
    watch = BucketWatch.of(own)
    assert (watch.bucket, watch.prefix, watch.endpoint, watch.access_key) == (
        "exports",
        "calls/",
        "minio:9000",
        "archive",
    )
    other = BucketWatch.of(
        replace(
            own,
            watch_s3_endpoint="http://s3.example.com:9000",
            watch_s3_access_key="reader",
            watch_s3_secret_key="its secret",
        )
    )
    assert (other.endpoint, other.secure, other.access_key) == (
        "s3.example.com:9000",
        False,
        "reader",
    )
