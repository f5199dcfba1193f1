"""Sealed boxes (HPKE X25519): round trip, binding and tamper detection."""

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.crypto.errors import SealedBoxError
from fedcarbon.crypto.sealing import MAGIC, open_sealed, seal

TRUSTEE = X25519PrivateKey.generate()
TRUSTEE_PUBLIC = TRUSTEE.public_key().public_bytes_raw()
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
