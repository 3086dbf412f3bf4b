"""`archive requests`: a privacy officer at the console opens, verifies, answers and closes
data-subject requests, through the same services as the API, each step audited."""

from __future__ import annotations

import hashlib
import json
import re
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from archive.audit.models import AuditRecord
from archive.cli.main import cli
from archive.contacts.models import Contact, ContactState
from archive.customers.models import Customer
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.builders import ingest_call

CALLER = "040 123 4567"  # the caller of the helper's calls, as a person would type it
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}
    assert run(env, "init").exit_code == 0
    return env


@pytest.fixture
def runtime(env: dict[str, str]) -> Iterator[Runtime]:
    built = build_runtime(Settings(data_dir=Path(env["ARCHIVE_DATA_DIR"])))
    yield built
    built.close()


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def opened(env: dict[str, str], kind: str) -> str:
    return opened_for(env, CALLER, kind)


def opened_for(env: dict[str, str], customer: str, kind: str) -> str:
    result = run(env, "requests", "open", customer, "--kind", kind)
    assert result.exit_code == 0, result.output
    match = UUID.search(result.output)
    assert match, result.output
    return match.group(0)


def actions(runtime: Runtime) -> list[str]:
    with runtime.session() as session:
        return list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))


def test_an_access_request_from_opening_to_the_bundle_on_disk(
    env: dict[str, str], runtime: Runtime, tmp_path: Path
) -> None:
    contact = ingest_call(runtime).contact
    case = opened(env, "access")
    out = tmp_path / "answer.zip"

    refused = run(env, "requests", "export", case, "--out", str(out))
    assert refused.exit_code == 2
    assert "verify the requester's identity" in refused.output
    assert "Traceback" not in refused.output
    assert not out.exists()

    verified = run(env, "requests", "verify", case, "--method", "strong_electronic")
    assert verified.exit_code == 0, verified.output
    done = run(env, "requests", "export", case, "--out", str(out))
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert hashlib.sha256(out.read_bytes()).hexdigest() in done.output
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    assert [c["id"] for c in manifest["contacts"]] == [str(contact.id)]
    again = run(env, "requests", "export", case, "--out", str(out))
    assert again.exit_code != 0
    assert "exists" in again.output

    shown = run(env, "requests", "show", case)
    assert "strong_electronic" in shown.output
    assert "ready" in shown.output
    closed = run(env, "requests", "close", case, "--status", "completed")
    assert closed.exit_code == 0, closed.output
    assert "no open requests" in run(env, "requests", "list").output
    expected = [
        "case:open",
        "case:identity:verify",
        "case:export:request",
        "case:export:download",
        "case:close",
    ]
    assert [action for action in actions(runtime) if action in expected] == expected


def test_rectification_extension_objection_and_restriction(
    env: dict[str, str], runtime: Runtime
) -> None:
    contact = ingest_call(runtime).contact
    case = opened(env, "rectification")
    assert run(env, "requests", "rectify", case, "--kind", "phone", "050 111 2222").exit_code == 2
    run(env, "requests", "verify", case, "--method", "in_person")
    fixed = run(env, "requests", "rectify", case, "--kind", "phone", "050 111 2222")
    assert fixed.exit_code == 0, fixed.output
    bad = run(env, "requests", "rectify", case, "--kind", "phone", "not a number")
    assert bad.exit_code == 2
    assert "phone" in bad.output
    assert "Traceback" not in bad.output

    too_late = run(env, "requests", "extend", case, "--until", "2099-01-01", "--reason", "x")
    assert too_late.exit_code == 2
    assert "three months" in too_late.output

    # The customer is found by the corrected number now, no longer by the old one.
    assert "no customer" in run(env, "requests", "open", CALLER, "--kind", "objection").output
    objection = opened_for(env, "050 111 2222", "objection")
    run(env, "requests", "verify", objection, "--method", "known_channel")
    decided = run(env, "requests", "object", objection, "--upheld", "--note", "no QA use")
    assert decided.exit_code == 0, decided.output

    customer = str(contact.customer_id)
    assert run(env, "requests", "restrict", customer, "--reason", "CASE-3: disputed").exit_code == 0
    unnamed = run(env, "requests", "restrict", customer, "--lift", "--reason", "x@example.fi")
    assert unnamed.exit_code == 2
    lifted = run(env, "requests", "restrict", customer, "--lift", "--reason", "CASE-3: settled")
    assert lifted.exit_code == 0, lifted.output
    with runtime.session() as session:
        stored = session.get_one(Customer, contact.customer_id)
        assert stored.restricted_at is None
        assert stored.objected_at is not None
        purposes = list(
            session.scalars(
                select(AuditRecord.purpose).where(AuditRecord.action.like("customer:%restrict"))
            )
        )
    assert purposes == ["CASE-3: disputed", "CASE-3: settled"]


def test_an_erasure_at_the_console(env: dict[str, str], runtime: Runtime) -> None:
    contact = ingest_call(runtime).contact
    case = opened(env, "erasure")
    run(env, "requests", "verify", case, "--method", "in_person")
    erased = run(env, "requests", "erase", case, "--yes")
    assert erased.exit_code == 0, erased.output
    assert "erased completely" in erased.output
    with runtime.session() as session:
        assert session.get_one(Contact, contact.id).state == ContactState.DELETED
        assert session.get(Customer, contact.customer_id) is None
    assert "no customer" in run(env, "requests", "open", CALLER, "--kind", "access").output
