"""The Merkle tree against RFC 9162 section 2.1 and the Certificate Transparency test vectors."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.audit.errors import MerkleRangeError
from fedcarbon.audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# Known-answer vectors from Certificate Transparency's reference implementation, as kept in
# github.com/transparency-dev/merkle, proof/verify_test.go (Apache-2.0; values only, no code):
# the eight leaf inputs, the roots of the trees of sizes 1..8, and published proofs.
CT_ENTRIES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
# (0-based leaf index, tree size, audit path); the Go file numbers leaves from 1.
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, consistency proof)
CT_CONSISTENCY = [
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CT_LEAVES = [leaf_hash(e) for e in CT_ENTRIES]


def naive_mth(entries: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 section 2.1.1, on the entries themselves, no shared code."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(entries[:k]) + naive_mth(entries[k:])).digest()


def distinct_entries(size: int, salt: bytes) -> list[bytes]:
    """Entries that all differ, so no wrong-index probe can pass by a duplicate leaf."""
    return [salt + i.to_bytes(4, "big") for i in range(size)]


def flip(proof: list[bytes], position: int) -> list[bytes]:
    """A copy of `proof` with one bit of one element flipped."""
    altered = list(proof)
    element = bytearray(altered[position])
    element[position % len(element)] ^= 0x10
    altered[position] = bytes(element)
    return altered


sizes = st.integers(min_value=1, max_value=300)
salts = st.binary(max_size=8)


def test_empty_tree_root_is_sha256_of_empty_string() -> None:
    assert root_hash([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_leaf_hash_prefixes_zero_byte() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()


def test_node_hash_prefixes_one_byte() -> None:
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_root_matches_certificate_transparency_vector(size: int) -> None:
    assert root_hash(CT_LEAVES[:size]) == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_inclusion_proof_matches_certificate_transparency_vector(
    index: int, size: int, proof: list[str]
) -> None:
    assert inclusion_proof(CT_LEAVES, index, size) == [bytes.fromhex(p) for p in proof]


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_certificate_transparency_inclusion_vector_verifies(
    index: int, size: int, proof: list[str]
) -> None:
    hashes = [bytes.fromhex(p) for p in proof]
    assert verify_inclusion(CT_LEAVES[index], index, size, hashes, CT_ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_consistency_proof_matches_certificate_transparency_vector(
    old: int, new: int, proof: list[str]
) -> None:
    assert consistency_proof(CT_LEAVES, old, new) == [bytes.fromhex(p) for p in proof]


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_certificate_transparency_consistency_vector_verifies(
    old: int, new: int, proof: list[str]
) -> None:
    hashes = [bytes.fromhex(p) for p in proof]
    assert verify_consistency(old, new, CT_ROOTS[old - 1], CT_ROOTS[new - 1], hashes)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(min_value=0, max_value=300), salt=salts)
def test_root_hash_equals_naive_rfc_definition(size: int, salt: bytes) -> None:
    entries = distinct_entries(size, salt)
    assert root_hash([leaf_hash(e) for e in entries]) == naive_mth(entries)


@settings(max_examples=15, deadline=None)
@given(size=sizes, salt=salts)
def test_every_inclusion_proof_verifies(size: int, salt: bytes) -> None:
    tree = MerkleTree(leaf_hash(e) for e in distinct_entries(size, salt))
    root = tree.root()
    assert all(
        verify_inclusion(tree.leaf(i), i, size, tree.inclusion_proof(i), root) for i in range(size)
    )


@settings(max_examples=15, deadline=None)
@given(size=sizes, salt=salts)
def test_inclusion_proof_fails_for_a_wrong_leaf(size: int, salt: bytes) -> None:
    tree = MerkleTree(leaf_hash(e) for e in distinct_entries(size, salt))
    root, wrong = tree.root(), leaf_hash(b"not in the log")
    assert not any(
        verify_inclusion(wrong, i, size, tree.inclusion_proof(i), root) for i in range(size)
    )


@settings(max_examples=15, deadline=None)
@given(size=st.integers(min_value=2, max_value=300), salt=salts)
def test_inclusion_proof_fails_for_a_wrong_index(size: int, salt: bytes) -> None:
    tree = MerkleTree(leaf_hash(e) for e in distinct_entries(size, salt))
    root = tree.root()
    assert not any(
        verify_inclusion(tree.leaf(i), (i + shift) % size, size, tree.inclusion_proof(i), root)
        for i in range(size)
        for shift in (1, size - 1)
    )


@settings(max_examples=15, deadline=None)
@given(size=st.integers(min_value=2, max_value=300), salt=salts)
def test_inclusion_proof_fails_with_a_flipped_proof_bit(size: int, salt: bytes) -> None:
    tree = MerkleTree(leaf_hash(e) for e in distinct_entries(size, salt))
    root = tree.root()
    probes = [(i, pos) for i in range(size) for pos in range(len(tree.inclusion_proof(i)))]
    assert not any(
        verify_inclusion(tree.leaf(i), i, size, flip(tree.inclusion_proof(i), pos), root)
        for i, pos in probes
    )


@settings(max_examples=15, deadline=None)
@given(size=sizes, salt=salts)
def test_inclusion_proof_fails_against_a_wrong_root(size: int, salt: bytes) -> None:
    tree = MerkleTree(leaf_hash(e) for e in distinct_entries(size, salt))
    wrong_root = node_hash(tree.root(), tree.root())
    assert not any(
        verify_inclusion(tree.leaf(i), i, size, tree.inclusion_proof(i), wrong_root)
        for i in range(size)
    )


@settings(max_examples=40, deadline=None)
@given(size=sizes, salt=salts, data=st.data())
def test_pure_inclusion_proof_equals_incremental_tree(
    size: int, salt: bytes, data: st.DataObject
) -> None:
    leaves = [leaf_hash(e) for e in distinct_entries(size, salt)]
    tree_size = data.draw(st.integers(min_value=1, max_value=size))
    index = data.draw(st.integers(min_value=0, max_value=tree_size - 1))
    assert inclusion_proof(leaves, index, tree_size) == MerkleTree(leaves).inclusion_proof(
        index, tree_size
    )


def consistency_case(size: int, salt: bytes, data: st.DataObject) -> tuple[MerkleTree, int, int]:
    tree = MerkleTree(leaf_hash(e) for e in distinct_entries(size, salt))
    new = data.draw(st.integers(min_value=1, max_value=size), label="new_size")
    old = data.draw(st.integers(min_value=1, max_value=new), label="old_size")
    return tree, old, new


@settings(max_examples=60, deadline=None)
@given(size=sizes, salt=salts, data=st.data())
def test_consistency_proof_verifies(size: int, salt: bytes, data: st.DataObject) -> None:
    tree, old, new = consistency_case(size, salt, data)
    proof = tree.consistency_proof(old, new)
    assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)


@settings(max_examples=60, deadline=None)
@given(size=sizes, salt=salts, data=st.data())
def test_consistency_proof_fails_when_old_tree_altered(
    size: int, salt: bytes, data: st.DataObject
) -> None:
    tree, old, new = consistency_case(size, salt, data)
    altered_index = data.draw(st.integers(min_value=0, max_value=old - 1), label="altered")
    entries = distinct_entries(size, salt)
    entries[altered_index] += b"!"
    altered_old_root = root_hash([leaf_hash(e) for e in entries[:old]])
    proof = tree.consistency_proof(old, new)
    assert not verify_consistency(old, new, altered_old_root, tree.root(new), proof)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=2, max_value=300), salt=salts, data=st.data())
def test_consistency_proof_fails_with_a_flipped_proof_bit(
    size: int, salt: bytes, data: st.DataObject
) -> None:
    tree, old, new = consistency_case(size, salt, data)
    proof = tree.consistency_proof(old, new)
    if not proof:  # old == new: nothing to flip; covered by the equal-size tests below
        return
    position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="position")
    assert not verify_consistency(old, new, tree.root(old), tree.root(new), flip(proof, position))


@settings(max_examples=40, deadline=None)
@given(size=sizes, salt=salts, data=st.data())
def test_pure_consistency_proof_equals_incremental_tree(
    size: int, salt: bytes, data: st.DataObject
) -> None:
    leaves = [leaf_hash(e) for e in distinct_entries(size, salt)]
    new = data.draw(st.integers(min_value=0, max_value=size))
    old = data.draw(st.integers(min_value=0, max_value=new))
    assert consistency_proof(leaves, old, new) == MerkleTree(leaves).consistency_proof(old, new)


@settings(max_examples=40, deadline=None)
@given(size=sizes, salt=salts, data=st.data())
def test_incremental_root_of_every_past_size_equals_pure_root(
    size: int, salt: bytes, data: st.DataObject
) -> None:
    leaves = [leaf_hash(e) for e in distinct_entries(size, salt)]
    tree = MerkleTree(leaves)
    past = data.draw(st.integers(min_value=0, max_value=size))
    assert tree.root(past) == root_hash(leaves[:past])


def test_incremental_root_after_each_append_equals_pure_root() -> None:
    leaves = [leaf_hash(e) for e in distinct_entries(70, b"append")]
    tree = MerkleTree()
    roots = []
    for leaf in leaves:
        tree.append(leaf)
        roots.append(tree.root())
    assert roots == [root_hash(leaves[: n + 1]) for n in range(70)]


def test_consistency_between_equal_sizes_needs_equal_roots_and_no_proof() -> None:
    assert verify_consistency(5, 5, CT_ROOTS[4], CT_ROOTS[4], [])
    assert not verify_consistency(5, 5, CT_ROOTS[4], CT_ROOTS[3], [])


def test_empty_tree_is_consistent_with_any_tree_with_empty_proof() -> None:
    assert verify_consistency(0, 8, EMPTY_ROOT, CT_ROOTS[7], [])


def test_consistency_refuses_a_shrinking_log() -> None:
    proof_6_to_8 = [bytes.fromhex(p) for p in CT_CONSISTENCY[1][2]]
    assert not verify_consistency(8, 6, CT_ROOTS[7], CT_ROOTS[5], proof_6_to_8)


def test_consistency_refuses_a_non_empty_proof_for_equal_sizes() -> None:
    assert not verify_consistency(6, 6, CT_ROOTS[5], CT_ROOTS[5], [CT_ROOTS[5]])


def test_consistency_refuses_an_empty_proof_for_growth() -> None:
    assert not verify_consistency(6, 8, CT_ROOTS[5], CT_ROOTS[7], [])


def test_inclusion_refuses_index_at_tree_size() -> None:
    assert not verify_inclusion(CT_LEAVES[0], 8, 8, [], CT_ROOTS[7])


def test_inclusion_refuses_proof_with_trailing_element() -> None:
    proof = [bytes.fromhex(p) for p in CT_INCLUSION[0][2]] + [CT_ROOTS[7]]
    assert not verify_inclusion(CT_LEAVES[0], 0, 8, proof, CT_ROOTS[7])


def test_inclusion_refuses_short_hashes() -> None:
    assert not verify_inclusion(CT_LEAVES[0][:31], 0, 1, [], CT_LEAVES[0][:31])


def test_inclusion_proof_refuses_index_outside_tree() -> None:
    with pytest.raises(MerkleRangeError, match="index=8"):
        inclusion_proof(CT_LEAVES, 8, 8)


def test_tree_refuses_root_for_a_future_size() -> None:
    with pytest.raises(MerkleRangeError, match="tree_size=9"):
        MerkleTree(CT_LEAVES).root(9)


def test_tree_refuses_leaf_hash_of_wrong_length() -> None:
    with pytest.raises(MerkleRangeError, match="32 bytes"):
        MerkleTree().append(b"short")


def test_append_entry_hashes_entry_as_leaf() -> None:
    tree = MerkleTree()
    tree.append_entry(b"\x00")
    assert tree.leaf(0) == leaf_hash(b"\x00")


SMALL_LEAVES = [leaf_hash(e) for e in distinct_entries(48, b"exhaustive")]
SMALL_TREE = MerkleTree(SMALL_LEAVES)


@pytest.mark.parametrize("size", range(1, 49))
def test_every_inclusion_proof_of_small_trees_matches_pure_and_verifies(size: int) -> None:
    root = root_hash(SMALL_LEAVES[:size])
    proofs = [SMALL_TREE.inclusion_proof(i, size) for i in range(size)]
    assert proofs == [inclusion_proof(SMALL_LEAVES, i, size) for i in range(size)]
    assert all(verify_inclusion(SMALL_LEAVES[i], i, size, proofs[i], root) for i in range(size))


@pytest.mark.parametrize("new", range(1, 49))
def test_every_consistency_proof_of_small_trees_matches_pure_and_verifies(new: int) -> None:
    proofs = [SMALL_TREE.consistency_proof(old, new) for old in range(new + 1)]
    assert proofs == [consistency_proof(SMALL_LEAVES, old, new) for old in range(new + 1)]
    assert all(
        verify_consistency(old, new, SMALL_TREE.root(old), SMALL_TREE.root(new), proofs[old])
        for old in range(new + 1)
    )
