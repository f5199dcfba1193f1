"""Batch verification spread over workers (fedcarbon.crypto.parallel)."""

import dataclasses

import pytest
from phe import paillier

from fedcarbon.crypto.errors import EncodingError
from fedcarbon.crypto.parallel import _chunks, make_executor, verify_parallel
from fedcarbon.crypto.shortexp import ShortExponentKey, make_hs
from fedcarbon.crypto.shortproof import encrypt_and_prove, vector_items

PUBLIC, PRIVATE = paillier.generate_paillier_keypair(n_length=512)
KEY = ShortExponentKey(int(PUBLIC.n), make_hs(PRIVATE))
CIPHERTEXTS, PROOFS = encrypt_and_prove(KEY, list(range(9)), b"ctx")
ITEMS = vector_items(CIPHERTEXTS, PROOFS, b"ctx")


def test_chunks_cover_the_range_in_order() -> None:
    assert _chunks(5, 2) == [(0, 3), (3, 5)]
    assert _chunks(1, 4) == [(0, 1)]
    assert _chunks(0, 2) == []


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_parallel_names_bad_items_with_global_indices(mode: str) -> None:
    items = list(ITEMS)
    items[1] = dataclasses.replace(items[1], context=b"other")
    items[8] = dataclasses.replace(items[8], c=items[7].c)
    with make_executor(mode, 2) as executor:  # type: ignore[arg-type]
        assert verify_parallel(KEY, items, executor=executor, workers=2) == [1, 8]
        assert verify_parallel(KEY, ITEMS, executor=executor, workers=2) == []


def test_parallel_without_an_executor_starts_its_own() -> None:
    assert verify_parallel(KEY, ITEMS, mode="thread", workers=3) == []


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(EncodingError, match="unknown parallel mode"):
        make_executor("fibers", 2)  # type: ignore[arg-type]
