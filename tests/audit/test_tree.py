"""The Merkle log: sealing, signed heads kept outside the database, and what `verify` catches.

Each kind of tampering someone who can write the database might try is a test: deleting the
newest records, deleting the newest head, altering or reordering a record, restoring an older
backup. The heads kept outside the database (a file here, a bucket with S3) are what expose
them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.audit import AuditRecord, verify
from archive.audit.heads import TreeHead
from archive.audit.models import AuditHead, AuditNode
from archive.audit.proofs import prove
from archive.audit.sequencer import head_archive, seal
from archive.audit.witness import FileHeads
from archive.errors import IntegrityFailure
from archive.runtime import Runtime

from . import append, run_sql, sealed


def _count(runtime: Runtime, model: type) -> int:
    with runtime.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_empty_log_verifies_and_seals_nothing(runtime: Runtime) -> None:
    assert verify(runtime).ok
    result = sealed(runtime)
    assert (result.tree_size, result.added, result.head) == (0, 0, None)
    assert list(head_archive(runtime).heads()) == []


def test_a_stalled_sequencer_is_reported(runtime: Runtime) -> None:
    from dataclasses import replace
    from datetime import timedelta

    from archive.clock import FixedClock

    append(runtime, 2)
    assert not verify(runtime).sequencer_stalled
    later = replace(runtime, clock=FixedClock(runtime.clock.now() + timedelta(minutes=30)))
    report = verify(later)
    assert report.sequencer_stalled
    assert "the sequencer is not sealing" in report.summary()
    sealed(later)
    assert not verify(later).sequencer_stalled


def test_sealing_gives_each_record_a_leaf_and_keeps_the_head_outside(runtime: Runtime) -> None:
    ids = append(runtime, 7)
    assert verify(runtime).unsealed == 7
    result = sealed(runtime)
    assert (result.tree_size, result.added, result.published) == (7, 7, 1)
    with runtime.session() as session:
        leaves = dict(session.execute(select(AuditRecord.id, AuditRecord.leaf_index)).all())
    assert leaves == {record_id: place for place, record_id in enumerate(ids)}
    [kept] = head_archive(runtime).heads()
    assert kept == result.head
    assert kept.tree_size == 7
    # Nothing new: no new head, nothing published again.
    again = sealed(runtime)
    assert (again.added, again.published, again.head) == (0, 0, result.head)
    append(runtime, 2)
    assert sealed(runtime).tree_size == 9
    assert [h.tree_size for h in head_archive(runtime).heads()] == [7, 9]
    report = verify(runtime)
    assert report.ok, report.summary()
    assert (report.sealed, report.unsealed, report.witness_head) == (9, 0, 9)


# SQLite has one writer at a time: no record can overtake another there.
@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_a_record_committed_late_gets_a_later_leaf(runtime: Runtime) -> None:
    from archive.audit import Actor, AuditAction
    from archive.audit.service import AuditLog

    with runtime.session() as late:
        slow = AuditLog(late, runtime).record(Actor(name="slow"), AuditAction.USER_LOGIN)
        [quick] = append(runtime, 1)
        assert quick > slow.id
        sealed(runtime)
        late.commit()
    sealed(runtime)
    with runtime.session() as session:
        places = dict(session.execute(select(AuditRecord.id, AuditRecord.leaf_index)).all())
    assert places == {quick: 0, slow.id: 1}
    assert verify(runtime).ok


@pytest.mark.parametrize("cut", [1, 5, 104])
def test_deleting_the_newest_records_and_head_is_caught(runtime: Runtime, cut: int) -> None:
    append(runtime, 150)
    sealed(runtime)
    run_sql(runtime, "DELETE FROM audit_records WHERE leaf_index >= :low", low=150 - cut)
    run_sql(
        runtime, "DELETE FROM audit_tree_nodes WHERE level = 0 AND position >= :low", low=150 - cut
    )
    run_sql(runtime, "DELETE FROM audit_tree_heads")
    report = verify(runtime)
    assert not report.ok
    assert report.witness_head == 150
    text = report.summary()
    assert "the newest records were deleted, or an older backup restored" in text
    assert "audit log BROKEN" in text


def test_deleting_the_newest_head_is_caught(runtime: Runtime) -> None:
    append(runtime, 3)
    sealed(runtime)
    append(runtime, 3)
    sealed(runtime)
    run_sql(runtime, "DELETE FROM audit_tree_heads WHERE tree_size = 6")
    report = verify(runtime)
    assert not report.ok
    assert any("newest heads were deleted from the database" in p for p in report.problems)


@pytest.mark.parametrize(
    ("column", "value"),
    [("purpose", "ticket INC-999"), ("actor", "mallory"), ("outcome", "denied")],
)
def test_an_altered_record_is_named(runtime: Runtime, column: str, value: str) -> None:
    ids = append(runtime, 6)
    sealed(runtime)
    run_sql(
        runtime,
        f"UPDATE audit_records SET {column} = :value WHERE id = :id",
        value=value,
        id=ids[3],
    )
    report = verify(runtime)
    assert not report.ok
    assert report.first_bad_record_id == ids[3]
    assert any(f"record {ids[3]} (leaf 3) no longer matches" in p for p in report.problems)


def test_an_altered_record_with_its_leaf_rewritten_is_caught_by_the_head(runtime: Runtime) -> None:
    """Someone who recomputes the leaf and every node above it still cannot sign the root."""
    from archive.audit.leaves import record_leaf_hash
    from archive.audit.merkle import Frontier

    ids = append(runtime, 5)
    sealed(runtime)
    run_sql(runtime, "UPDATE audit_records SET actor = 'mallory' WHERE id = :id", id=ids[2])
    with runtime.session() as session:
        records = list(session.scalars(select(AuditRecord).order_by(AuditRecord.leaf_index)))
        session.query(AuditNode).delete()
        frontier = Frontier()
        for record in records:
            for level, index, hashed in frontier.append(record_leaf_hash(record)):
                session.add(AuditNode(level=level, position=index, hash=hashed))
        session.commit()
    report = verify(runtime)
    assert not report.ok
    assert any(
        "no longer hash to the root signed in the head kept outside" in p for p in report.problems
    )


def test_reordered_records_are_caught(runtime: Runtime) -> None:
    ids = append(runtime, 6)
    sealed(runtime)
    run_sql(runtime, "UPDATE audit_records SET leaf_index = -1 WHERE id = :id", id=ids[1])
    run_sql(runtime, "UPDATE audit_records SET leaf_index = 1 WHERE id = :id", id=ids[2])
    run_sql(runtime, "UPDATE audit_records SET leaf_index = 2 WHERE id = :id", id=ids[1])
    report = verify(runtime)
    assert not report.ok
    assert report.first_bad_record_id == ids[2]


def test_a_record_deleted_from_the_middle_is_caught(runtime: Runtime) -> None:
    ids = append(runtime, 6)
    sealed(runtime)
    run_sql(runtime, "DELETE FROM audit_records WHERE id = :id", id=ids[2])
    report = verify(runtime)
    assert not report.ok
    assert any("leaf 2 is missing" in p for p in report.problems)


BACKED_UP = ("audit_records", "audit_targets", "audit_tree_nodes", "audit_tree_heads")


def test_restoring_an_older_backup_is_caught(runtime: Runtime) -> None:
    append(runtime, 4)
    sealed(runtime)
    for table in BACKED_UP:
        run_sql(runtime, f"CREATE TABLE backup_{table} AS SELECT * FROM {table}")
    try:
        append(runtime, 4)
        sealed(runtime)
        for table in BACKED_UP:  # the older backup comes back ...
            run_sql(runtime, f"DELETE FROM {table}")
            run_sql(runtime, f"INSERT INTO {table} SELECT * FROM backup_{table}")
    finally:
        for table in BACKED_UP:
            run_sql(runtime, f"DROP TABLE backup_{table}")
    first = verify(runtime)
    assert (first.ok, first.witness_head, first.sealed) == (False, 8, 4)
    append(runtime, 6)  # ... and is written to, so it holds more records than the newest head
    with pytest.raises(IntegrityFailure, match="no longer extends the newest head kept outside"):
        seal(runtime)  # the records go into the tree, but no head is signed for it
    assert [h.tree_size for h in head_archive(runtime).heads()] == [4, 8]
    report = verify(runtime)
    assert not report.ok
    assert any("no longer hash to the root signed" in p for p in report.problems), report.problems


def test_a_head_forged_in_the_database_is_caught(runtime: Runtime) -> None:
    append(runtime, 3)
    sealed(runtime)
    run_sql(runtime, "UPDATE audit_tree_heads SET root_hash = :root", root=bytes(32))
    report = verify(runtime)
    assert any("signature does not match" in p for p in report.problems)


def test_a_forged_head_outside_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    append(runtime, 3)
    sealed(runtime)
    [real] = head_archive(runtime).heads()
    forged = TreeHead(10, bytes(32), real.at, real.key_id, real.signature)
    witness = FileHeads(tmp_path / "forged.jsonl")
    witness.publish(forged)
    report = verify(runtime, witness=witness)
    assert not report.ok
    assert any("signature does not match" in p for p in report.problems)


def test_proof_checks_with_an_independent_implementation(runtime: Runtime) -> None:
    """What docs/audit.md tells an auditor to do, written here from RFC 9162 alone."""
    ids = append(runtime, 13)
    sealed(runtime)
    public = {}
    for record_id in ids:
        with runtime.session() as session:
            proof = json.loads(json.dumps(prove(session, runtime, record_id)))
        leaf = _leaf_hash(proof["record"])
        assert leaf.hex() == proof["leaf_hash"]
        root = _root_from_path(
            leaf,
            proof["leaf_index"],
            proof["tree_size"],
            [bytes.fromhex(h) for h in proof["audit_path"]],
        )
        head = proof["head"]
        assert root.hex() == head["root_hash"]
        assert head["tree_size"] == proof["tree_size"] == 13
        public.update(proof["public_keys"])
        _check_signature(head, public[head["key_id"]])
    # A proof of a record that was changed since does not check.
    run_sql(runtime, "UPDATE audit_records SET actor = 'mallory' WHERE id = :id", id=ids[4])
    with runtime.session() as session:
        proof = prove(session, runtime, ids[4])
    leaf = _leaf_hash(proof["record"])
    root = _root_from_path(
        leaf,
        proof["leaf_index"],
        proof["tree_size"],
        [bytes.fromhex(h) for h in proof["audit_path"]],
    )
    assert root.hex() != proof["head"]["root_hash"]


def test_an_unsealed_record_has_no_proof_yet(runtime: Runtime) -> None:
    from archive.errors import Conflict, NotFound

    [record_id] = append(runtime, 1)
    with runtime.session() as session, pytest.raises(Conflict, match="not sealed"):
        prove(session, runtime, record_id)
    with runtime.session() as session, pytest.raises(NotFound):
        prove(session, runtime, record_id + 100)


def test_two_sequencers_at_once_make_one_tree(runtime: Runtime) -> None:
    append(runtime, 300)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(seal(runtime))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sealed(runtime)
    # Every perfect subtree once: 300 leaves, 150 pairs, 75 fours, and so on up.
    assert _count(runtime, AuditNode) == sum(300 >> level for level in range(9))
    with runtime.session() as session:
        places = list(
            session.scalars(select(AuditRecord.leaf_index).order_by(AuditRecord.leaf_index))
        )
    assert places == list(range(300))
    assert verify(runtime).ok


def test_a_held_lease_keeps_a_second_sequencer_out(runtime: Runtime) -> None:
    from datetime import timedelta

    from archive.audit.models import AuditLease

    append(runtime, 2)
    with runtime.session() as session:
        session.add(
            AuditLease(
                name="sequencer",
                holder="elsewhere",
                expires_at=runtime.clock.now() + timedelta(seconds=60),
            )
        )
        session.commit()
    assert seal(runtime) is None
    assert _count(runtime, AuditHead) == 0
    run_sql(
        runtime,
        "UPDATE audit_leases SET expires_at = :past",
        past=runtime.clock.now() - timedelta(seconds=1),
    )
    assert sealed(runtime).tree_size == 2  # a lease that ran out is taken over
    # A lease set far ahead by hand, to stop the sealing, is not honoured either.
    append(runtime, 1)
    far = runtime.clock.now() + timedelta(days=365)
    run_sql(runtime, "UPDATE audit_leases SET holder = 'mallory', expires_at = :far", far=far)
    assert sealed(runtime).tree_size == 3


def test_heads_verify_after_the_signing_key_is_rotated(runtime: Runtime) -> None:
    import secrets
    from dataclasses import replace

    from archive.audit.heads import public_keys, with_new_signing_key

    append(runtime, 2)
    first = sealed(runtime).head
    assert first is not None
    rotated = replace(runtime, keys=with_new_signing_key(runtime.keys, secrets.token_bytes(32)))
    append(rotated, 2)
    second = sealed(rotated).head
    assert second is not None
    assert first.key_id != second.key_id
    assert set(public_keys(rotated.keys)) == {first.key_id, second.key_id}
    assert verify(rotated).ok
    # A head signed by a key this archive never had is not trusted.
    stranger = replace(runtime, keys=with_new_signing_key(runtime.keys, secrets.token_bytes(32)))
    stranger = replace(stranger, keys=with_new_signing_key(stranger.keys, secrets.token_bytes(32)))
    keys = public_keys(stranger.keys)
    assert second.key_id not in keys


def _leaf_hash(document: dict[str, object]) -> bytes:
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"\x00" + encoded.encode("utf-8")).digest()


def _root_of(proof: dict[str, object], leaf: bytes) -> bytes:
    path = [bytes.fromhex(str(h)) for h in proof["audit_path"]]  # type: ignore[attr-defined]
    return _root_from_path(leaf, int(str(proof["leaf_index"])), int(str(proof["tree_size"])), path)


def _root_from_path(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """The root a path leads to, by the recursive definition: split at the largest power of
    two below the size, descend into the half holding the leaf, path entries bottom up."""

    def node(left: bytes, right: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + left + right).digest()

    def climb(index: int, size: int, path: list[bytes]) -> bytes:
        if size == 1:
            assert not path
            return leaf
        k = 1
        while k * 2 < size:
            k *= 2
        *below, sibling = path
        if index < k:
            return node(climb(index, k, below), sibling)
        return node(sibling, climb(index - k, size - k, below))

    return climb(index, size, path)


def _check_signature(head: dict[str, object], public_key: str) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    signed = {k: v for k, v in head.items() if k != "signature"}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
    key.verify(base64.b64decode(str(head["signature"])), message.encode("utf-8"))


def test_a_changed_targets_index_is_caught(runtime: Runtime) -> None:
    """The access report reads the targets index: rows deleted to hide an access, or added to
    make one up, are caught like a changed record."""
    ids = append(runtime, 4)
    sealed(runtime)
    run_sql(runtime, "DELETE FROM audit_targets WHERE record_id = :id", id=ids[1])
    hidden = verify(runtime)
    assert not hidden.ok
    assert hidden.first_bad_record_id == ids[1]
    assert any(f"the targets index of record {ids[1]}" in p for p in hidden.problems)
    run_sql(
        runtime,
        "INSERT INTO audit_targets (record_id, record_at, target_id) "
        "SELECT id, at, 'contact-999' FROM audit_records WHERE id = :id",
        id=ids[2],
    )
    made_up = verify(runtime)
    assert any(f"the targets index of record {ids[2]}" in p for p in made_up.problems)
