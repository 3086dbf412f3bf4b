"""The backup drill on both backends: back up, work, restore into a fresh archive, check.

The work after the backup is what makes an older backup dangerous: a sweep deletes an expired
call, an erasure request removes a customer's e-mail, and new contacts arrive. The restore must
not bring the deleted ones back, must say how far the audit log fell behind the signed heads
kept outside the database, and must name what was lost; `archive check` then passes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from archive.accounts.models import Role
from archive.audit import Actor
from archive.audit.heads import sign_document
from archive.audit.models import AuditRecord
from archive.audit.use_cases import seal_log
from archive.backup.service import read, restore
from archive.cli.main import cli
from archive.contacts.models import Contact, ContactState, ContentObject
from archive.contacts.objects import read_object
from archive.crypto.keyring import KeyMaterial
from archive.errors import ContentMissing
from archive.integrity.check import check
from archive.lifecycle.use_cases import erase_case, run_sweep
from archive.privacy.use_cases.cases import open_case, verify_identity
from archive.retention.models import DeletionRun
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.builders import ingest_call, ingest_email
from archive.testing.databases import new_database

PASSPHRASE = "correct horse battery staple"
MARKER = "Hilkka Pöysti-Backupinen"
ADDRESS = "hilkka.backupinen@example.fi"
OFFICER = Actor(
    name="privacy.officer",
    user_id=uuid.uuid4(),
    roles=frozenset({Role.PRIVACY.value}),
    role=Role.PRIVACY.value,
)


def email_of(person: str, address: str, text: str) -> bytes:
    """A customer's e-mail sent an hour ago: not due for deletion under any policy."""
    sent = format_datetime(datetime.now(UTC) - timedelta(hours=1))
    return (
        f"From: {person} <{address}>\r\nTo: service@example-company.fi\r\n"
        f"Subject: {text}\r\nDate: {sent}\r\n"
        f"Message-ID: <{uuid.uuid4()}@example.fi>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{text}: {person}, {address}\r\n"
    ).encode()


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)


def env_of(settings: Settings, **more: str) -> dict[str, str]:
    return {**settings.to_env(), **more}


@pytest.fixture
def fresh(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A fresh archive over the same store and the same signed heads: another data directory
    (no key file), and an empty database of its own."""
    fresh = replace(
        settings,
        data_dir=tmp_path / "fresh",
        store_path=settings.resolved_store_path,
        audit_heads_file=settings.resolved_audit_heads_file,
        database_url=None,
    )
    with ExitStack() as cleanup:
        if settings.resolved_database_url.startswith("postgresql"):
            fresh = replace(fresh, database_url=cleanup.enter_context(new_database("restored")))
        yield fresh


def erase_customer_of(runtime: Runtime, contact: Contact) -> None:
    assert contact.customer_id is not None
    with runtime.session() as session:
        case = open_case(session, runtime, OFFICER, contact.customer_id, "erasure")
        verify_identity(session, runtime, OFFICER, case.case.id, "in_person")
        assert erase_case(session, runtime, OFFICER, case.case.id).complete


def states(runtime: Runtime, *contacts: Contact) -> list[str | None]:
    with runtime.session() as session:
        found = {
            row.id: row.state
            for row in session.scalars(
                select(Contact).where(Contact.id.in_([c.id for c in contacts]))
            )
        }
    return [found.get(contact.id) for contact in contacts]


def keys_of(runtime: Runtime, contact: Contact) -> list[str]:
    with runtime.session() as session:
        return list(
            session.scalars(
                select(ContentObject.storage_key).where(ContentObject.contact_id == contact.id)
            )
        )


def test_a_restored_older_backup_keeps_deletions_reports_the_gap_and_checks_clean(
    runtime: Runtime, settings: Settings, keys: KeyMaterial, fresh: Settings, tmp_path: Path
) -> None:
    now = runtime.clock.now()
    expired = ingest_call(runtime, started_at=now - timedelta(days=800), external_id="old").contact
    kept = ingest_call(runtime, started_at=now - timedelta(days=1), external_id="new").contact
    erased = ingest_email(runtime, email_of(MARKER, ADDRESS, "Lasku")).contact
    erased_keys = keys_of(runtime, erased)
    assert seal_log(runtime) is not None
    original = env_of(settings, ARCHIVE_KEYS=keys.to_json())

    backup = tmp_path / "backup"
    taken = run(original, "backup", str(backup), stdin=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert taken.exit_code == 0, taken.output
    assert "objects: " in taken.output
    assert "not copied" in taken.output
    assert {p.name for p in backup.iterdir()} >= {"manifest.json", "objects.jsonl", "keys.sealed"}
    with runtime.session() as session:  # a copy of the database left: the trail says so
        (took,) = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "backup:take")
        ).all()
        assert took.actor.startswith("console:")
        assert "keys:sealed" in took.targets

    # The work the backup does not know of.
    swept = run_sweep(runtime, Actor(name="drill"))
    assert expired.id in swept.deleted_ids
    erase_customer_of(runtime, erased)
    assert states(runtime, expired, erased) == [ContactState.DELETED, ContactState.DELETED]
    later = ingest_email(runtime, email_of("Pentti Myöhäinen", "pentti@example.fi", "Myöhään"))
    later_keys = keys_of(runtime, later.contact)
    assert seal_log(runtime) is not None

    # A restore into the archive itself is refused: it is no fresh one.
    refused = run(original, "restore", str(backup), "--passphrase-file", str(_file(tmp_path)))
    assert refused.exit_code == 2
    assert "already holds" in refused.output

    restored = run(env_of(fresh, ARCHIVE_BACKUP_PASSPHRASE=PASSPHRASE), "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert "2 contacts deleted since the backup were deleted again" in restored.output
    assert "audit records ahead of the restored log" in restored.output
    assert f"lost: {len(later_keys)} objects in the store are named by no row" in restored.output

    checked = run(env_of(fresh), "check")
    assert checked.exit_code == 0, checked.output
    assert checked.output.rstrip().endswith("ok")
    for key in later_keys:  # the operator finds the lost contacts' objects here
        assert f"orphan           {key}" in checked.output

    # The heads go on in a new lineage from the restored log; the old one stays, and the log
    # verifies with the restart named, so the records the restore lost are never hidden.
    assert "the signed heads go on in lineage 1" in restored.output
    verified = run(env_of(fresh), "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "restarted after a restore (" in verified.output
    assert "lineage 0 of the heads kept outside the database reached" in verified.output
    assert "lineage 1 goes on from the empty log" in verified.output
    sealed = run(env_of(fresh), "audit", "seal")
    assert sealed.exit_code == 0, sealed.output
    back = build_runtime(fresh)
    try:
        assert states(back, expired, erased, kept, later.contact) == [
            ContactState.DELETED,
            ContactState.DELETED,
            ContactState.ACTIVE,
            None,  # stored after the backup: lost from the database
        ]
        assert keys_of(back, erased) == []
        assert not any(back.store.exists(key) for key in erased_keys)
        with back.session() as session:
            (obj,) = session.scalars(
                select(ContentObject).where(ContentObject.contact_id == kept.id)
            ).all()
            assert b"".join(read_object(back, obj))  # the restored keys open what was kept
            reapplied = session.scalars(
                select(DeletionRun).where(DeletionRun.actor.like("re-applied%"))
            ).all()
            assert [one.deleted for one in reapplied] == [2]
            (said,) = session.scalars(
                select(AuditRecord).where(AuditRecord.target_type == "backup")
            ).all()
            assert said.action == "backup:restore"
            gap = [t for t in said.targets if t.startswith("gap:")]
            assert gap != ["gap:0"]
            (restart,) = session.scalars(
                select(AuditRecord).where(AuditRecord.action == "audit:restart")
            ).all()
            assert "lineage:1" in restart.targets
            assert restart.leaf_index is not None  # sealed into the new lineage's tree
        # A sweep after the restore finds nothing more to bring back.
        assert run_sweep(back, Actor(name="drill")).reapplied == 0
    finally:
        back.close()


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return path


def test_a_wrong_passphrase_and_a_changed_dump_are_refused_before_anything_is_written(
    runtime: Runtime, settings: Settings, keys: KeyMaterial, fresh: Settings, tmp_path: Path
) -> None:
    ingest_call(runtime, external_id="one")
    backup = tmp_path / "backup"
    original = env_of(settings, ARCHIVE_KEYS=keys.to_json(), ARCHIVE_BACKUP_PASSPHRASE=PASSPHRASE)
    assert run(original, "backup", str(backup)).exit_code == 0

    wrong = run(
        env_of(fresh, ARCHIVE_BACKUP_PASSPHRASE="not the passphrase at all"), "restore", str(backup)
    )
    assert wrong.exit_code == 2
    assert "the passphrase does not open the backup's keys" in wrong.output
    assert not fresh.resolved_key_file.exists()

    dump = next(backup.glob("database.*"))
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    changed = run(env_of(fresh, ARCHIVE_BACKUP_PASSPHRASE=PASSPHRASE), "restore", str(backup))
    assert changed.exit_code == 2
    assert "does not match the manifest's SHA-256" in changed.output
    assert not fresh.resolved_key_file.exists()


def test_a_backup_rewritten_by_someone_without_the_keys_is_refused(
    runtime: Runtime, settings: Settings, keys: KeyMaterial, fresh: Settings, tmp_path: Path
) -> None:
    """Whoever can write where backups are kept swaps the dump and makes the manifest's
    digest match again, or signs the new manifest with a key of their own, or drops the
    signature: the restore refuses each before writing anything."""
    ingest_call(runtime, external_id="one")
    backup = tmp_path / "backup"
    keys_json = keys.to_json()
    taken = run(env_of(settings, ARCHIVE_KEYS=keys_json), "backup", str(backup), "--keys=external")
    assert taken.exit_code == 0, taken.output
    restore_env = env_of(fresh, ARCHIVE_KEYS=keys_json)
    manifest_path, signature_path = backup / "manifest.json", backup / "manifest.sig"
    dump = next(backup.glob("database.*"))
    originals = {path: path.read_bytes() for path in (manifest_path, signature_path, dump)}

    swapped = bytearray(originals[dump])
    swapped[len(swapped) // 2] ^= 0x01
    dump.write_bytes(bytes(swapped))
    manifest = json.loads(originals[manifest_path])
    manifest["database"]["sha256"] = hashlib.sha256(bytes(swapped)).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    rewritten = run(restore_env, "restore", str(backup))
    assert rewritten.exit_code == 2
    assert "not one this archive's keys signed" in rewritten.output
    assert "its signature does not match" in rewritten.output

    key_id, signature = sign_document(Ed25519PrivateKey.generate(), manifest_path.read_bytes())
    signature_path.write_text(
        json.dumps(
            {
                "format": "contact-archive-backup-signature/v1",
                "key_id": key_id,
                "signature": base64.b64encode(signature).decode(),
            }
        )
    )
    foreign = run(restore_env, "restore", str(backup))
    assert foreign.exit_code == 2
    assert "which is not one of the audit log's keys" in foreign.output

    signature_path.unlink()
    unsigned = run(restore_env, "restore", str(backup))
    assert unsigned.exit_code == 2
    assert "has no manifest.sig" in unsigned.output

    # Nothing was loaded: the backup as taken, its signature left out, restores into the same
    # fresh database when the operator vouches for it.
    dump.write_bytes(originals[dump])
    manifest_path.write_bytes(originals[manifest_path])
    allowed = run(restore_env, "restore", str(backup), "--allow-unsigned")
    assert allowed.exit_code == 0, allowed.output
    assert run(restore_env, "check").exit_code == 0


def test_keys_left_for_the_secret_store_are_not_in_the_backup_and_are_asked_for(
    runtime: Runtime, settings: Settings, keys: KeyMaterial, fresh: Settings, tmp_path: Path
) -> None:
    ingest_call(runtime, external_id="one")
    backup = tmp_path / "backup"
    taken = run(
        env_of(settings, ARCHIVE_KEYS=keys.to_json()), "backup", str(backup), "--keys=external"
    )
    assert taken.exit_code == 0, taken.output
    assert not (backup / "keys.sealed").exists()
    assert '"where": "external"' in (backup / "manifest.json").read_text()

    missing = run(env_of(fresh), "restore", str(backup))
    assert missing.exit_code == 2
    assert "key file" in missing.output
    restored = run(env_of(fresh, ARCHIVE_KEYS=keys.to_json()), "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert run(env_of(fresh, ARCHIVE_KEYS=keys.to_json()), "check").exit_code == 0


def test_nothing_readable_is_in_the_backup(
    runtime: Runtime, settings: Settings, keys: KeyMaterial, tmp_path: Path
) -> None:
    ingest_email(runtime, email_of(MARKER, ADDRESS, "Salainen asia"))
    backup = tmp_path / "backup"
    env = env_of(settings, ARCHIVE_KEYS=keys.to_json(), ARCHIVE_BACKUP_PASSPHRASE=PASSPHRASE)
    assert run(env, "backup", str(backup)).exit_code == 0
    texts = [path.read_bytes() for path in backup.iterdir()]
    dump = next(backup.glob("database.pgdump"), None)
    if dump is not None:
        # The custom format compresses: read it as the SQL it restores.
        texts.append(
            subprocess.run(
                ["pg_restore", "--file=-", str(dump)], capture_output=True, check=True
            ).stdout
        )
    secrets = [MARKER, "Backupinen", ADDRESS, "Salainen asia"]
    for data in texts:
        for secret in secrets:
            for form in {secret, secret.casefold(), secret.upper()}:
                assert form.encode() not in data, secret


def test_a_database_restored_by_hand_is_mended_by_the_next_sweep_and_checked_meanwhile(
    runtime: Runtime, settings: Settings, keys: KeyMaterial, fresh: Settings, tmp_path: Path
) -> None:
    erased = ingest_email(runtime, email_of(MARKER, ADDRESS, "Lasku")).contact
    backup = tmp_path / "backup"
    env = env_of(settings, ARCHIVE_KEYS=keys.to_json(), ARCHIVE_BACKUP_PASSPHRASE=PASSPHRASE)
    assert run(env, "backup", str(backup)).exit_code == 0
    erase_customer_of(runtime, erased)

    # Loaded without `archive restore`, so nothing was deleted again yet.
    restore(fresh, backup, read(backup), passphrase=PASSPHRASE)
    back = build_runtime(fresh)
    try:
        assert states(back, erased) == [ContactState.ACTIVE]
        report = check(back)
        assert report.ok, report.findings
        assert report.count("journalled") == len(keys_of(back, erased))
        assert report.count("missing") == 0
        with back.session() as session:
            (obj,) = session.scalars(
                select(ContentObject).where(ContentObject.contact_id == erased.id)
            ).all()
            with pytest.raises(ContentMissing):  # never served: its object is gone
                b"".join(read_object(back, obj))
        assert run_sweep(back, Actor(name="drill")).reapplied == 1
        assert states(back, erased) == [ContactState.DELETED]
        assert check(back).findings == []
    finally:
        back.close()
