"""Importing recordings with a manifest: every good row stored as a live call, every bad one
reported with its line and reason, and a re-run stores nothing twice."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.audit import Actor, AuditAction
from archive.audit.models import AuditRecord
from archive.contacts.manifest import MAX_FIELD, read_manifest
from archive.contacts.models import Contact, Direction
from archive.contacts.use_cases import importing
from archive.contacts.use_cases.importing import import_items
from archive.contacts.use_cases.recordings import RecordingItem
from archive.customers.models import Customer
from archive.errors import InvalidInput
from archive.runtime import Runtime
from archive.testing.exports import MANIFEST_HEADER, manifest_rows, recordings_folder, wav

ACTOR = Actor(name="importer", roles=frozenset({"console"}), role="console")
HEADER = MANIFEST_HEADER


def folder_with(tmp_path: Path, count: int) -> Path:
    return recordings_folder(tmp_path, count)


def good_rows(count: int) -> str:
    return manifest_rows(count)


def items(manifest: Path, folder: Path) -> list[RecordingItem]:
    read = read_manifest(manifest, folder)
    assert read.problems == []
    return [RecordingItem(row) for row in read.rows]


def test_recordings_are_stored_with_their_customers_and_a_rerun_skips_them(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = folder_with(tmp_path, 6)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(HEADER + good_rows(6))
    done: list[int] = []
    report = import_items(runtime, ACTOR, items(manifest, folder), jobs=3, batch_size=4,
                          advance=done.append)  # fmt: skip
    assert (report.stored, report.skipped, report.failed) == (6, 0, [])
    assert sum(done) == 6
    with runtime.session() as session:
        contacts = list(session.scalars(select(Contact).order_by(Contact.started_at)))
        assert len(contacts) == 6
        assert {c.direction for c in contacts} == {Direction.INBOUND}
        assert contacts[0].started_at.isoformat() == "2024-05-01T06:15:00+00:00"
        assert all(c.ticket_id is not None and c.duration_seconds for c in contacts)
        # Three rows share a caller: one customer for them, one each for the other three.
        assert session.scalar(select(func.count()).select_from(Customer)) == 4
        assert len({c.customer_id for c in contacts}) == 4
        created = session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.action == str(AuditAction.CONTACT_CREATE))
        )
        assert created == 6

    again = import_items(runtime, ACTOR, items(manifest, folder), jobs=2)
    assert (again.stored, again.skipped, again.failed) == (0, 6, [])
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 6
        assert session.scalar(select(func.count()).select_from(Customer)) == 4


def test_an_interrupted_import_resumes_where_it_stopped(runtime: Runtime, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, 5)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(HEADER + good_rows(5))
    everything = items(manifest, folder)
    first = import_items(runtime, ACTOR, everything[:2])
    rest = import_items(runtime, ACTOR, everything)
    assert (first.stored, rest.stored, rest.skipped) == (2, 3, 2)


def test_a_row_that_fails_to_store_leaves_no_customer_behind(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = folder_with(tmp_path, 1)
    (folder / "notes.wav").write_bytes(b"this is not audio at all, only text " * 10)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        HEADER + "notes.wav,2024-05-01T09:00:00Z,inbound,+358 44 987 6543,,,\n"
        "2024/05/call-0.wav,2024-05-01T10:00:00Z,outbound,+358 9 4245 100,+358 40 712 3456,,\n"
    )
    report = import_items(runtime, ACTOR, items(manifest, folder))
    assert report.stored == 1
    assert [f.where for f in report.failed] == ["line 2 (notes.wav)"]
    assert "audio" in report.failed[0].reason
    with runtime.session() as session:
        # The outbound call's customer is the callee's; the failed row's caller left nothing.
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_bad_phone_number_is_that_rows_error(runtime: Runtime, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, 2)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        HEADER + "2024/05/call-0.wav,2024-05-01T09:00:00Z,inbound,040 ABC,,,\n"
        "2024/05/call-1.wav,2024-05-01T10:00:00Z,inbound,+358 40 712 3456,,,\n"
    )
    report = import_items(runtime, ACTOR, items(manifest, folder))
    assert report.stored == 1
    assert report.failed[0].where.startswith("line 2 ")
    assert report.failed[0].reason.startswith("caller:")


# --- hostile manifests: each bad row its own clear error --------------------------------------


def problems(tmp_path: Path, folder: Path, name: str, text: str) -> dict[int, str]:
    manifest = tmp_path / name
    manifest.write_text(text)
    read = read_manifest(manifest, folder)
    return {p.line: p.reason for p in read.problems}


@pytest.mark.fast
def test_hostile_csv_rows_are_refused_one_by_one(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, 2)
    outside = tmp_path / "secret.wav"
    outside.write_bytes(wav(99))
    os.symlink(outside, folder / "link.wav")
    rows = [
        "../secret.wav,2024-05-01T09:00:00Z,,,,,",  # 2
        f"{outside},2024-05-01T09:00:00Z,,,,,",  # 3
        "link.wav,2024-05-01T09:00:00Z,,,,,",  # 4
        "missing.wav,2024-05-01T09:00:00Z,,,,,",  # 5
        "2024/05/call-0.wav,yesterday,,,,,",  # 6
        "2024/05/call-0.wav,2024-05-01T09:00:00,,,,,",  # 7: no time zone
        "2024/05/call-0.wav,,,,,,",  # 8
        "2024/05/call-0.wav,2024-05-01T09:00:00Z,sideways,,,,",  # 9
        f"2024/05/call-0.wav,2024-05-01T09:00:00Z,,{'1' * (MAX_FIELD + 1)},,,",  # 10
        "2024/05/call-0.wav,2024-05-01T09:00:00Z,,,,",  # 11: a column short
        "2024/05/call-1.wav,2024-05-01T09:00:00Z,,,,,",  # 12: good
        "2024/05/call-1.wav,2024-05-01T09:00:00Z,,,,,",  # 13: the same again
        "2024\\05\\call-1.wav,2024-05-01T09:00:00Z,,,,,",  # 14
        "2024/05,2024-05-01T09:00:00Z,,,,,",  # 15: a folder
    ]
    (folder / "extra.wav").write_bytes(wav(7))
    found = problems(tmp_path, folder, "m.csv", HEADER + "\n".join(rows) + "\n")
    unlisted = read_manifest(tmp_path / "m.csv", folder).unlisted
    assert unlisted == ["2024/05/call-0.wav", "extra.wav", "link.wav"]
    assert set(found) == set(range(2, 16)) - {12}
    assert "without .." in found[2]
    assert "without .." in found[3]
    assert "outside the folder" in found[4]
    assert found[5] == "file: no such file in the folder"
    assert found[6].startswith("start: not an ISO 8601 time")
    assert found[7].startswith("start: give the time zone")
    assert found[8] == "start: missing"
    assert found[9].startswith("direction:")
    assert found[10] == f"caller: longer than {MAX_FIELD} characters"
    assert found[11] == "6 columns, the header has 7"
    assert found[13] == "file: already listed on line 12"
    assert "backslash" in found[14]
    assert found[15] == "file: not a readable regular file"


@pytest.mark.fast
def test_a_huge_csv_cell_is_one_rows_error(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, 1)
    text = HEADER + f'2024/05/call-0.wav,2024-05-01T09:00:00Z,,"{"9" * 200_000}",,,\n'
    text += "2024/05/call-0.wav,2024-05-02T09:00:00Z,,,,,\n"
    manifest = tmp_path / "m.csv"
    manifest.write_text(text)
    read = read_manifest(manifest, folder)
    assert [p.line for p in read.problems] == [2]
    assert "not valid CSV" in read.problems[0].reason
    assert [row.line for row in read.rows] == [3]


@pytest.mark.fast
def test_a_manifest_that_is_no_manifest_is_refused_whole(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, 1)
    for name, text, reason in [
        ("a.csv", "file,start,colour\n", "unknown columns colour"),
        ("b.csv", "start,caller\n", "no file column"),
        ("c.csv", "", "empty"),
        ("d.json", '{"file": "x"}', "JSON array"),
    ]:
        manifest = tmp_path / name
        manifest.write_text(text)
        with pytest.raises(InvalidInput, match=reason):
            read_manifest(manifest, folder)


@pytest.mark.fast
def test_json_rows_are_read_up_to_the_damage_with_line_numbers(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, 3)
    good = {"file": "2024/05/call-0.wav", "start": "2024-05-01T09:00:00Z"}
    text = (
        "[\n"
        + json.dumps(good)
        + ",\n"
        + json.dumps({"file": "2024/05/call-1.wav", "start": 20240501})
        + ",\n"
        + json.dumps(["not", "an", "object"])
        + ",\n"
        + json.dumps({"file": "2024/05/call-2.wav", "start": "2024-05-01T09:00:00Z", "x": 1})
        + ",\n"
        + '{"file": "2024/05/call-2.wav", "start": "2024-05'
    )
    found = problems(tmp_path, folder, "m.json", text)
    assert found == {
        3: "start: must be a string",
        4: "a row must be a JSON object",
        5: "unknown fields x",
        6: found[6],
    }
    assert "not valid JSON" in found[6]
    manifest = tmp_path / "m.json"
    assert [row.file for row in read_manifest(manifest, folder).rows] == ["2024/05/call-0.wav"]


@pytest.mark.fast
def test_json_lines_manifests_report_each_bad_line(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, 2)
    text = "\n".join(
        [
            json.dumps({"file": "2024/05/call-0.wav", "start": "2024-05-01T09:00:00Z"}),
            "{truncated",
            json.dumps({"file": "2024/05/call-1.wav", "start": "2024-05-01T09:00:00Z"}),
        ]
    )
    found = problems(tmp_path, folder, "m.jsonl", text)
    assert list(found) == [2]
    assert found[2].startswith("not valid JSON")


@pytest.mark.fast
def test_a_manifest_that_turns_out_not_utf8_stops_at_that_line(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, 2)
    manifest = tmp_path / "m.csv"
    rows = HEADER + "2024/05/call-0.wav,2024-05-01T09:00:00Z,,,,,\n"
    manifest.write_bytes(rows.encode() + b"2024/05/call-1.wav,2024-05-01T09:00:00Z,,,Ann\xe9,,\n")
    read = read_manifest(manifest, folder)
    assert [row.line for row in read.rows] == [2]
    assert [(p.line, p.reason) for p in read.problems] == [
        (3, "not UTF-8 text; nothing after it is read")
    ]


def test_a_row_s_transcript_is_stored_with_its_call_or_fails_its_row(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for n in range(3):
        (folder / f"call-{n}.wav").write_bytes(wav(n, seconds=1.0))
    (folder / "call-0.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:00.900\nLasku 4471 on väärin.\n")
    lens = {"Transcript": [{"BeginOffsetMillis": 0, "EndOffsetMillis": 9000, "Content": "Late"}]}
    (folder / "call-1.json").write_text(json.dumps(lens))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "file,start,transcript\n"
        "call-0.wav,2024-05-01T09:15:00+03:00,call-0.vtt\n"
        "call-1.wav,2024-05-01T09:16:00+03:00,call-1.json\n"
        "call-2.wav,2024-05-01T09:17:00+03:00,../outside.vtt\n"
    )
    read = read_manifest(manifest, folder)
    assert [(p.line, p.reason) for p in read.problems] == [
        (4, "transcript: must be a path inside the folder, without .. or a leading /")
    ]
    assert read.unlisted == ["call-2.wav"]  # the transcripts named are not unlisted

    report = import_items(runtime, ACTOR, [RecordingItem(row) for row in read.rows], jobs=1)

    assert report.stored == 1
    assert [note.reason for note in report.failed] == [
        "Transcript[0].end: Transcript[0]: ends after the call, at 9000 ms of 2000"
    ]
    with runtime.session() as session:
        (contact,) = session.scalars(select(Contact))
        roles = sorted(obj.role for obj in contact.objects)
        assert roles == ["original", "transcript"]
    assert len(list(runtime.store.list())) == 2  # nothing left of the failed row


def keyed_manifest(tmp_path: Path, count: int, name: str = "manifest.csv") -> Path:
    """A manifest of the first `count` recordings, each with the telephony system's id."""
    manifest = tmp_path / name
    rows = good_rows(count).splitlines()
    manifest.write_text(
        HEADER.rstrip("\n") + ",external_id\n"
        + "".join(f"{row},connect-{n}\n" for n, row in enumerate(rows))
    )  # fmt: skip
    return manifest


def test_recordings_keyed_by_their_ids_are_read_once_and_only_checked_when_the_id_is_stored(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = folder_with(tmp_path, 5)
    first = items(keyed_manifest(tmp_path, 4), folder)
    report = import_items(runtime, ACTOR, first, jobs=1)
    assert (report.stored, report.skipped, report.failed) == (4, 0, [])
    # No pass over the files before storing them: their keys are the ids, none stored yet.
    assert [item for item in first if "digest" in vars(item)] == []

    # Again, with a fifth row, one file changed since and another gone once the manifest was
    # read: the same bytes are skipped, other bytes under a stored id are a contact of their
    # own, linked to the first, a file that cannot be read is that row's error, and the new
    # row is stored.
    (folder / "2024" / "05" / "call-1.wav").write_bytes(wav(101))
    again = items(keyed_manifest(tmp_path, 5), folder)
    (folder / "2024" / "05" / "call-3.wav").unlink()
    report = import_items(runtime, ACTOR, again, jobs=1)
    assert (report.stored, report.skipped) == (2, 2)
    assert [note.where for note in report.shared_key] == ["line 3 (2024/05/call-1.wav)"]
    assert [note.where for note in report.failed] == ["line 5 (2024/05/call-3.wav)"]
    assert "No such file" in report.failed[0].reason
    # Read beforehand: those whose id was stored (the one gone could not be); not the new one.
    assert ["digest" in vars(item) for item in again] == [True, True, True, False, False]
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 6


def test_recordings_keyed_by_their_ids_are_checked_by_the_worker_processes(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "PER_WORKER", 1)  # two workers for a few items
    folder = folder_with(tmp_path, 4)
    manifest = keyed_manifest(tmp_path, 4)
    report = import_items(runtime, ACTOR, items(manifest, folder), jobs=2)
    assert (report.stored, report.skipped, report.failed) == (4, 0, [])
    (folder / "2024" / "05" / "call-2.wav").write_bytes(wav(102))
    report = import_items(runtime, ACTOR, items(manifest, folder), jobs=2)
    assert (report.stored, report.skipped, report.failed) == (1, 3, [])
    assert [note.where for note in report.shared_key] == ["line 4 (2024/05/call-2.wav)"]
