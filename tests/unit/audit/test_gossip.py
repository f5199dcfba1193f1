"""Fork detection over gossiped tree heads (fedcarbon/audit/gossip.py)."""

import dataclasses
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon.audit import signing
from fedcarbon.audit.gossip import check_heads
from fedcarbon.audit.merkle import MerkleTree
from fedcarbon.audit.treehead import TreeHead, sign_tree_head

KEY = Ed25519PrivateKey.generate()
PUBLIC = signing.public_key_bytes(KEY)


def _tree(entries: list[bytes]) -> MerkleTree:
    tree = MerkleTree()
    for entry in entries:
        tree.append_entry(entry)
    return tree


def _head(tree: MerkleTree, size: int, at: int = 1000) -> TreeHead:
    return sign_tree_head(KEY, "log", size, tree.root(size), at + size)


HONEST = _tree([b"a", b"b", b"c", b"d", b"e"])
FORKED = _tree([b"a", b"b", b"x"])


def _prove(old: int, new: int) -> list[bytes]:
    return HONEST.consistency_proof(old, new)


def test_heads_of_the_same_log_are_consistent() -> None:
    ours = _head(HONEST, 5)
    result = check_heads(ours, [_head(HONEST, 2), _head(HONEST, 3), ours], _prove, PUBLIC)
    assert result.forks == () and len(result.consistent) == 3


def test_same_size_different_root_is_a_fork() -> None:
    ours = _head(HONEST, 3)
    (fork,) = check_heads(ours, [_head(FORKED, 3)], _prove, PUBLIC).forks
    assert "two signed heads of size 3 with different roots" in fork.reason
    evidence = json.loads(fork.to_json())
    assert evidence["format"] == "fedcarbon.fork.v1"
    assert evidence["theirs"]["root_hash"] == FORKED.root(3).hex()


def test_a_smaller_head_from_another_history_is_a_fork() -> None:
    (fork,) = check_heads(_head(HONEST, 5), [_head(FORKED, 3)], _prove, PUBLIC).forks
    assert "cannot prove that its size-3 head" in fork.reason


def test_a_log_that_refuses_the_proof_is_reported() -> None:
    def refuse(old: int, new: int) -> list[bytes]:
        raise RuntimeError("not serving that")

    (fork,) = check_heads(_head(HONEST, 5), [_head(HONEST, 3)], refuse, PUBLIC).forks
    assert "gave no consistency proof" in fork.reason and "not serving that" in fork.reason


def test_a_larger_head_seen_elsewhere_is_ahead_not_a_fork() -> None:
    result = check_heads(_head(HONEST, 3), [_head(HONEST, 5)], _prove, PUBLIC)
    assert result.forks == () and [h.tree_size for h in result.ahead] == [5]


def test_heads_not_signed_by_the_log_are_ignored() -> None:
    forged = dataclasses.replace(_head(FORKED, 3), signature=bytes(64))
    other_key = sign_tree_head(Ed25519PrivateKey.generate(), "log", 3, FORKED.root(3), 1003)
    result = check_heads(_head(HONEST, 3), [forged, other_key], _prove, PUBLIC)
    assert result.forks == () and result.consistent == ()
