"""The Merkle tree arithmetic against RFC 9162's recursive definitions, written out here."""

from __future__ import annotations

import hashlib

import pytest

from archive.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

pytestmark = pytest.mark.fast

SIZES = [*range(1, 40), 64, 65, 100, 257]


def mth(leaves: list[bytes]) -> bytes:
    """MTH as RFC 9162 2.1.1 defines it, straight from the text."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def grown(size: int) -> tuple[list[bytes], dict[tuple[int, int], bytes], Frontier]:
    leaves = [leaf_hash(f"record {i}".encode()) for i in range(size)]
    frontier, nodes = Frontier(), {}
    for leaf in leaves:
        for level, position, hashed in frontier.append(leaf):
            nodes[(level, position)] = hashed
    return leaves, nodes, frontier


def test_the_empty_tree() -> None:
    assert Frontier().root() == EMPTY_ROOT == mth([])


@pytest.mark.parametrize("size", SIZES)
def test_the_frontier_gives_the_rfc_root(size: int) -> None:
    leaves, nodes, frontier = grown(size)
    assert frontier.root() == mth(leaves)
    assert Frontier.load(size, lambda level, position: nodes[(level, position)]).root() == (
        mth(leaves)
    )
    # Only perfect subtrees are stored: 2**level leaves under each node.
    assert len(nodes) == sum(size >> level for level in range(size.bit_length()))


@pytest.mark.parametrize("size", SIZES)
def test_every_inclusion_proof_holds_and_no_other_leaf_passes(size: int) -> None:
    leaves, nodes, _ = grown(size)
    root = mth(leaves)
    for index in range(size):
        path = inclusion_proof(lambda level, position: nodes[(level, position)], index, size)
        assert verify_inclusion(leaves[index], index, size, path, root)
        assert not verify_inclusion(leaf_hash(b"forged"), index, size, path, root)
        if size > 1:
            assert not verify_inclusion(leaves[index], (index + 1) % size, size, path, root)


@pytest.mark.parametrize("size", SIZES)
def test_every_consistency_proof_holds_and_a_rewritten_prefix_fails(size: int) -> None:
    leaves, nodes, _ = grown(size)
    for old in range(size + 1):
        proof = consistency_proof(lambda level, position: nodes[(level, position)], old, size)
        assert verify_consistency(old, size, mth(leaves[:old]), mth(leaves), proof)
        if 0 < old < size:
            rewritten = mth([leaf_hash(b"other"), *leaves[1:old]])
            assert not verify_consistency(old, size, rewritten, mth(leaves), proof)


def test_proofs_refuse_what_is_not_in_the_tree() -> None:
    _, nodes, _ = grown(4)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(lambda level, position: nodes[(level, position)], 4, 4)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(lambda level, position: nodes[(level, position)], 5, 4)
