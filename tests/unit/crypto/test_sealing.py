"""Key shares sealed to their trustee (HPKE X25519): round trip, binding and tamper detection."""

import random

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.crypto.errors import KeyMaterialFormatError, SealedBoxError
from fedcarbon.crypto.sealing import (
    MAGIC,
    key_share_aad,
    open_key_share,
    open_sealed,
    seal,
    seal_key_share,
)
from fedcarbon.crypto.threshold import KeyShare, generate_threshold_key

TRUSTEE = X25519PrivateKey.generate()
TRUSTEE_PUBLIC = TRUSTEE.public_key().public_bytes_raw()
_, SHARES = generate_threshold_key(256, 3, 2, rng=random.Random(1), allow_insecure_size=True)
BLOB = seal(b"secret share", TRUSTEE_PUBLIC, b"campaign-1/trustee-2")


@settings(max_examples=25, deadline=None)
@given(plaintext=st.binary(max_size=2048), aad=st.binary(max_size=64))
def test_sealed_bytes_open_with_the_trustee_key(plaintext: bytes, aad: bytes) -> None:
    assert open_sealed(seal(plaintext, TRUSTEE_PUBLIC, aad), TRUSTEE, aad) == plaintext


def test_raw_private_key_bytes_also_open() -> None:
    assert (
        open_sealed(BLOB, TRUSTEE.private_bytes_raw(), b"campaign-1/trustee-2") == b"secret share"
    )


def test_blob_does_not_contain_the_plaintext() -> None:
    assert b"secret share" not in BLOB


def test_sealing_twice_gives_different_blobs() -> None:
    assert seal(b"x", TRUSTEE_PUBLIC, b"a") != seal(b"x", TRUSTEE_PUBLIC, b"a")


def test_blob_starts_with_the_format_magic() -> None:
    assert BLOB.startswith(MAGIC)


@settings(max_examples=40, deadline=None)
@given(position=st.integers(0, len(BLOB) - 1), flip=st.integers(1, 255))
def test_any_altered_byte_is_detected(position: int, flip: int) -> None:
    tampered = bytearray(BLOB)
    tampered[position] ^= flip
    with pytest.raises(SealedBoxError):
        open_sealed(bytes(tampered), TRUSTEE, b"campaign-1/trustee-2")


def test_wrong_associated_data_is_detected() -> None:
    with pytest.raises(SealedBoxError, match="wrong campaign or trustee binding"):
        open_sealed(BLOB, TRUSTEE, b"campaign-1/trustee-3")


def test_other_private_key_cannot_open() -> None:
    with pytest.raises(SealedBoxError):
        open_sealed(BLOB, X25519PrivateKey.generate(), b"campaign-1/trustee-2")


def test_truncated_blob_is_refused() -> None:
    with pytest.raises(SealedBoxError, match="truncated"):
        open_sealed(BLOB[:40], TRUSTEE, b"campaign-1/trustee-2")


def test_public_key_of_wrong_length_is_refused() -> None:
    with pytest.raises(SealedBoxError, match="32 raw X25519 bytes, got 31"):
        seal(b"x", TRUSTEE_PUBLIC[:31], b"")


def test_key_share_round_trips_through_sealing() -> None:
    blob = seal_key_share(SHARES[1], TRUSTEE_PUBLIC, "campaign-7")
    opened = open_key_share(blob, TRUSTEE, "campaign-7", trustee_index=2)
    assert (opened.index, opened.s_i, opened.public) == (2, SHARES[1].s_i, SHARES[1].public)


def test_share_sealed_for_one_campaign_does_not_open_in_another() -> None:
    blob = seal_key_share(SHARES[0], TRUSTEE_PUBLIC, "campaign-7")
    with pytest.raises(SealedBoxError, match="trustee 1 of campaign 'campaign-8'"):
        open_key_share(blob, TRUSTEE, "campaign-8", trustee_index=1)


def test_share_sealed_for_one_trustee_index_does_not_open_as_another() -> None:
    blob = seal_key_share(SHARES[0], TRUSTEE_PUBLIC, "campaign-7")
    with pytest.raises(SealedBoxError, match="trustee 3"):
        open_key_share(blob, TRUSTEE, "campaign-7", trustee_index=3)


def test_share_aad_separates_campaign_from_index() -> None:
    assert key_share_aad("c1", 12) != key_share_aad("c11", 2)


def test_sealed_share_not_matching_the_public_key_is_refused() -> None:
    wrong = KeyShare(index=1, s_i=SHARES[0].s_i + 1, public=SHARES[0].public)
    blob = seal_key_share(wrong, TRUSTEE_PUBLIC, "campaign-7")
    with pytest.raises(KeyMaterialFormatError, match="does not match its verification key"):
        open_key_share(blob, TRUSTEE, "campaign-7", trustee_index=1)
