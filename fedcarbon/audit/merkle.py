"""The Merkle hash tree of the transparency log (RFC 9162 section 2.1, same tree as RFC 6962).

Every accepted submission is a leaf; the tree's root, signed in a tree head, commits the log to
every entry and to their order. An inclusion proof shows one entry is in a tree of a given size;
a consistency proof shows a tree of size m is a prefix of a tree of size n, i.e. the log was only
appended to.

Definitions (RFC 9162 section 2.1.1, "Definition of the Merkle Tree"), with HASH = SHA-256:

    MTH({})        = HASH()
    MTH({d(0)})    = HASH(0x00 || d(0))                       leaf hash
    MTH(D_n)       = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  node hash, n > 1,
                     k the largest power of two smaller than n

The 0x00 / 0x01 prefixes keep leaves and interior nodes apart (second-preimage resistance).

Two layers live here: pure functions over a sequence of leaf hashes, written straight from the
RFC's recursive definitions (easy to check, O(n) per call), and `MerkleTree`, which appends leaf
hashes one at a time and caches every complete subtree so that the root and proofs for *any*
past tree size cost O(log n) hashes. Storage-agnostic: the caller persists leaf hashes and rebuilds
a `MerkleTree` from them at start-up.
"""

import hashlib
import threading
from collections.abc import Iterable, Sequence

from fedcarbon.audit.errors import MerkleRangeError

HASH_SIZE = 32  # SHA-256 digest size; every leaf hash, node hash and proof element has it.
LEAF_PREFIX = b"\x00"  # RFC 9162 section 2.1.1: leaf hashes are HASH(0x00 || entry).
NODE_PREFIX = b"\x01"  # RFC 9162 section 2.1.1: node hashes are HASH(0x01 || left || right).
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH() of the empty string.


def leaf_hash(entry: bytes) -> bytes:
    """HASH(0x00 || entry): the hash of one log entry (RFC 9162 section 2.1.1)."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 || left || right): an interior node (RFC 9162 section 2.1.1)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """k, the largest power of two strictly smaller than n (n > 1), as RFC 9162 defines it."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _check_range(what: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise MerkleRangeError(f"{what}={value} is outside [{low}, {high}]")


def _mth(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) by the RFC's recursion, without copying the sequence."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[start]
    k = _split(n)
    return node_hash(_mth(leaf_hashes, start, start + k), _mth(leaf_hashes, start + k, end))


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a whole tree given its leaf hashes (RFC 9162 section 2.1.1)."""
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def _path(leaf_hashes: Sequence[bytes], m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end]), RFC 9162 section 2.1.3.1; leaf's sibling first."""
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(leaf_hashes, m, start, start + k), _mth(leaf_hashes, start + k, end)]
    return [*_path(leaf_hashes, m - k, start + k, end), _mth(leaf_hashes, start, start + k)]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the first `tree_size` leaves.

    RFC 9162 section 2.1.3.1: PATH(m, D_n) lists the sibling hashes from the leaf up to the root.
    """
    _check_range("tree_size", tree_size, 1, len(leaf_hashes))
    _check_range("index", index, 0, tree_size - 1)
    return _path(leaf_hashes, index, 0, tree_size)


def _subproof(
    leaf_hashes: Sequence[bytes], m: int, start: int, end: int, whole: bool
) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b), RFC 9162 section 2.1.4.1."""
    n = end - start
    if m == n:
        return [] if whole else [_mth(leaf_hashes, start, end)]
    k = _split(n)
    if m <= k:
        return [
            *_subproof(leaf_hashes, m, start, start + k, whole),
            _mth(leaf_hashes, start + k, end),
        ]
    return [
        *_subproof(leaf_hashes, m - k, start + k, end, False),
        _mth(leaf_hashes, start, start + k),
    ]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of `old_size` leaves is a prefix of the one of `new_size`.

    RFC 9162 section 2.1.4.1: PROOF(m, D_n) = SUBPROOF(m, D_n, true). Empty when old_size is 0
    or equal to new_size, as there is nothing to prove.
    """
    _check_range("new_size", new_size, 0, len(leaf_hashes))
    _check_range("old_size", old_size, 0, new_size)
    if old_size in (0, new_size):
        return []
    return _subproof(leaf_hashes, old_size, 0, new_size, True)


def _valid_hash(value: bytes) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff `proof` shows leaf `leaf_hash` sits at `index` in the tree whose root is `root`.

    RFC 9162 section 2.1.3.2, "Verifying an Inclusion Proof": walk from the leaf to the root,
    taking the sibling on the left when the current node is a right child (LSB(fn) set) or the
    last node of its level (fn == sn); the proof must be used up exactly when sn reaches 0.
    """
    if not (_valid_hash(leaf_hash) and _valid_hash(root)) or index < 0 or index >= tree_size:
        return False
    if not all(_valid_hash(p) for p in proof):
        return False
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False  # step 4a: more proof than tree
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:  # step 4b.ii: skip levels where this node has no right sibling
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff `proof` shows the tree (old_size, old_root) is a prefix of (new_size, new_root).

    RFC 9162 section 2.1.4.2, "Verifying Consistency between Two Tree Heads", rebuilds both roots
    from the proof at once. The trivial cases, which carry an empty proof, are spelled out
    first: equal sizes need equal roots, and the empty tree (whose root must be HASH()) is a
    prefix of every tree.
    """
    if not (_valid_hash(old_root) and _valid_hash(new_root)):
        return False
    if old_size < 0 or new_size < old_size or not all(_valid_hash(p) for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False  # step 1
    path = list(proof)
    if _is_power_of_two(old_size):
        path.insert(0, old_root)  # step 2: the old root is itself a node of the new tree
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0  # step 7


class MerkleTree:
    """An append-only Merkle tree that answers roots and proofs for any past size quickly.

    It keeps, for every height h, the hashes of all complete subtrees of 2**h leaves (level 0
    being the leaf hashes), each level packed into one `bytearray` of 32-byte hashes: about 64
    bytes per leaf in total, so a million-leaf log needs about 64 MB. Every node the RFC's
    recursion visits is either such a complete subtree (one lookup) or lies on the right edge
    of the tree being asked about (at most log2(n) of them), so `root`, `inclusion_proof` and
    `consistency_proof` hash O(log n) times and `append` hashes once on average.

    Appends are serialised by an internal lock; readers need no lock, because a new size is
    published only after every node it needs is cached (under CPython's GIL).
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        """Build the tree from stored leaf hashes, in log order."""
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        self._append_lock = threading.Lock()
        self.extend(leaf_hashes)

    def __len__(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def size(self) -> int:
        """The number of leaves appended so far (the newest tree size)."""
        return self._size

    def append(self, leaf: bytes) -> int:
        """Append one leaf hash (see `leaf_hash`); return its index."""
        if not _valid_hash(leaf):
            raise MerkleRangeError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        with self._append_lock:
            index = self._size
            self._levels[0] += leaf
            # Close every complete subtree the new leaf finishes: one per trailing 0-bit of the
            # new size. The size is published last, so a concurrent reader never asks for a
            # node that is not cached yet.
            height, count = 0, index + 1
            while count % 2 == 0:
                level = self._levels[height]
                combined = node_hash(
                    bytes(level[-2 * HASH_SIZE : -HASH_SIZE]), bytes(level[-HASH_SIZE:])
                )
                if height + 1 == len(self._levels):
                    self._levels.append(bytearray())
                self._levels[height + 1] += combined
                height += 1
                count //= 2
            self._size = index + 1
        return index

    def append_entry(self, entry: bytes) -> int:
        """Hash a log entry as a leaf (0x00 prefix) and append it; return its index."""
        return self.append(leaf_hash(entry))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes, in order."""
        for leaf in leaf_hashes:
            self.append(leaf)

    def leaf(self, index: int) -> bytes:
        """The leaf hash at `index`."""
        _check_range("index", index, 0, self._size - 1)
        return self._node(0, index)

    def _node(self, height: int, index: int) -> bytes:
        offset = index * HASH_SIZE
        return bytes(self._levels[height][offset : offset + HASH_SIZE])

    def _mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) using the cached complete subtrees."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if _is_power_of_two(n) and start % n == 0:
            return self._node(n.bit_length() - 1, start // n)
        k = _split(n)
        return node_hash(self._mth(start, start + k), self._mth(start + k, end))

    def _size_or_latest(self, tree_size: int | None) -> int:
        if tree_size is None:
            return self._size
        _check_range("tree_size", tree_size, 0, self._size)
        return tree_size

    def root(self, tree_size: int | None = None) -> bytes:
        """The root hash of the tree of the first `tree_size` leaves (default: all of them)."""
        return self._mth(0, self._size_or_latest(tree_size))

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return [*self._path(m, start, start + k), self._mth(start + k, end)]
        return [*self._path(m - k, start + k, end), self._mth(start, start + k)]

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """The audit path of leaf `index` in the tree of `tree_size` leaves (RFC 9162 2.1.3.1)."""
        size = self._size_or_latest(tree_size)
        _check_range("tree_size", size, 1, self._size)
        _check_range("index", index, 0, size - 1)
        return self._path(index, 0, size)

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self._mth(start, end)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self._mth(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._mth(start, start + k)]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that tree `old_size` is a prefix of tree `new_size` (RFC 9162 2.1.4.1)."""
        size = self._size_or_latest(new_size)
        _check_range("old_size", old_size, 0, size)
        if old_size in (0, size):
            return []
        return self._subproof(old_size, 0, size, True)
