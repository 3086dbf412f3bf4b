"""The Merkle tree of the audit log, as RFC 9162 (Certificate Transparency v2) defines it.

Leaves are hashed as SHA-256(0x00 || leaf) and interior nodes as SHA-256(0x01 || left || right);
a tree of n leaves splits at k, the largest power of two below n. Everything here is pure
arithmetic on hashes: where the nodes are kept is the caller's business (`NodeSource`).

The nodes stored are those of perfect subtrees, named by (level, index): node (l, i) covers the
leaves i * 2**l up to (i + 1) * 2**l. Every hash a proof needs is made of such nodes, because
each split of an RFC 9162 tree leaves a left part that is a perfect, aligned subtree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

# Reads the stored hash of the perfect subtree (level, index).
NodeSource = Callable[[int, int], bytes]


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


@dataclass
class Frontier:
    """The right edge of a tree: the roots of its perfect subtrees, largest first.

    Enough to append leaves and compute the root without reading anything else, which is how
    the sequencer grows the tree a batch at a time.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    @staticmethod
    def coordinates(size: int) -> list[tuple[int, int]]:
        """The (level, index) of each perfect subtree on the right edge of a tree of `size`."""
        found = []
        start = 0
        for level in reversed(range(size.bit_length())):
            if size >> level & 1:
                found.append((level, start >> level))
                start += 1 << level
        return found

    @classmethod
    def load(cls, size: int, node: NodeSource) -> Frontier:
        return cls(size, [node(level, index) for level, index in cls.coordinates(size)])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; the nodes completed by it, (level, index, hash), leaf first."""
        made = [(0, self.size, leaf)]
        current, index, level = leaf, self.size, 0
        while index & 1:
            current = node_hash(self.hashes.pop(), current)
            index >>= 1
            level += 1
            made.append((level, index, current))
        self.hashes.append(current)
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            result = node_hash(left, result)
        return result


def subtree(node: NodeSource, start: int, end: int) -> bytes:
    """The hash of the leaves [start, end) of a tree, from stored perfect subtrees."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return node(level, start >> level)
    k = split(size)
    return node_hash(subtree(node, start, start + k), subtree(node, start + k, end))


def inclusion_proof(node: NodeSource, index: int, size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `size` leaves (RFC 9162, 2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(subtree(node, start + k, end))
            end = start + k
        else:
            path.append(subtree(node, start, start + k))
            start += k
    path.reverse()  # the RFC lists the path from the leaf up
    return path


def consistency_proof(node: NodeSource, old: int, new: int) -> list[bytes]:
    """The proof that the tree of `old` leaves is a prefix of the tree of `new` (2.1.4.1)."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new} leaves")
    if old in (0, new):
        return []
    proof: list[bytes] = []
    start, end, m, whole = 0, new, old, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            proof.append(subtree(node, start + k, end))
            end = start + k
        else:
            proof.append(subtree(node, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(subtree(node, start, end))
    proof.reverse()
    return proof


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether `path` proves the leaf hash `leaf` is leaf `index` of the tree (2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether `proof` shows the tree of `old` leaves is a prefix of the one of `new` (2.1.4.2)."""
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
