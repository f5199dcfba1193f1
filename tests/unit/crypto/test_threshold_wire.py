"""Wire format of threshold keys, shares and partial decryptions: deterministic, versioned."""

import json
import random

import pytest

from fedcarbon.crypto.errors import KeyMaterialFormatError
from fedcarbon.crypto.threshold import (
    FORMAT_VERSION,
    KeyShare,
    PartialDecryption,
    ThresholdPublicKey,
    combine,
    generate_threshold_key,
    partial_decrypt,
)

# Small key: unit tests check the format, not security (STYLE.md).
PUBLIC, SHARES = generate_threshold_key(256, 3, 2, rng=random.Random(9), allow_insecure_size=True)
CIPHERTEXT = PUBLIC.paillier.raw_encrypt(99)
PARTIAL = partial_decrypt(SHARES[0], CIPHERTEXT)


def _edited(data: bytes, **changes: object) -> bytes:
    obj = json.loads(data)
    obj.update(changes)
    return json.dumps(obj).encode()


def test_public_key_round_trips() -> None:
    assert ThresholdPublicKey.from_bytes(PUBLIC.to_bytes()) == PUBLIC


def test_key_share_round_trips_with_its_public_key() -> None:
    restored = KeyShare.from_bytes(SHARES[1].to_bytes())
    assert (restored.index, restored.s_i, restored.public) == (2, SHARES[1].s_i, PUBLIC)


def test_partial_decryption_round_trips() -> None:
    assert PartialDecryption.from_bytes(PARTIAL.to_bytes()) == PARTIAL


def test_restored_objects_still_decrypt() -> None:
    public = ThresholdPublicKey.from_bytes(PUBLIC.to_bytes())
    share = KeyShare.from_bytes(SHARES[2].to_bytes())
    partials = [
        PartialDecryption.from_bytes(PARTIAL.to_bytes()),
        partial_decrypt(share, CIPHERTEXT),
    ]
    assert combine(public, CIPHERTEXT, partials) == 99


def test_serialisation_is_canonical_json_with_sorted_keys() -> None:
    data = PUBLIC.to_bytes()
    assert data == json.dumps(json.loads(data), sort_keys=True, separators=(",", ":")).encode()


def test_reparsed_key_serialises_to_identical_bytes() -> None:
    assert ThresholdPublicKey.from_bytes(PUBLIC.to_bytes()).to_bytes() == PUBLIC.to_bytes()


def test_fingerprint_is_stable_across_serialisation() -> None:
    assert ThresholdPublicKey.from_bytes(PUBLIC.to_bytes()).fingerprint == PUBLIC.fingerprint


def test_format_carries_type_and_version() -> None:
    obj = json.loads(PARTIAL.to_bytes())
    assert (obj["type"], obj["version"]) == (
        "fedcarbon.threshold_paillier.partial_decryption",
        FORMAT_VERSION,
    )


def test_unknown_version_is_refused_by_name() -> None:
    with pytest.raises(KeyMaterialFormatError, match=r"public_key\.version: got 2"):
        ThresholdPublicKey.from_bytes(_edited(PUBLIC.to_bytes(), version=2))


def test_wrong_object_type_is_refused() -> None:
    with pytest.raises(KeyMaterialFormatError, match=r"key_share\.type"):
        KeyShare.from_bytes(PUBLIC.to_bytes())


def test_non_hex_field_is_named() -> None:
    with pytest.raises(KeyMaterialFormatError, match=r"partial_decryption\.value"):
        PartialDecryption.from_bytes(_edited(PARTIAL.to_bytes(), value="zz"))


def test_negative_hex_is_refused() -> None:
    with pytest.raises(KeyMaterialFormatError, match=r"public_key\.n"):
        ThresholdPublicKey.from_bytes(_edited(PUBLIC.to_bytes(), n="-ff"))


def test_bad_verification_key_entry_is_named_by_position() -> None:
    obj = json.loads(PUBLIC.to_bytes())
    obj["verification_keys"][1] = 42
    with pytest.raises(KeyMaterialFormatError, match=r"verification_keys\[1\]"):
        ThresholdPublicKey.from_bytes(json.dumps(obj))


def test_inconsistent_threshold_is_refused() -> None:
    with pytest.raises(KeyMaterialFormatError, match="threshold t=4"):
        ThresholdPublicKey.from_bytes(_edited(PUBLIC.to_bytes(), threshold=4))


def test_missing_proof_field_is_named() -> None:
    obj = json.loads(PARTIAL.to_bytes())
    del obj["proof"]["z"]
    with pytest.raises(KeyMaterialFormatError, match=r"partial_decryption\.proof\.z"):
        PartialDecryption.from_bytes(json.dumps(obj))


def test_share_index_outside_trustee_set_is_refused() -> None:
    with pytest.raises(KeyMaterialFormatError, match="index 7"):
        KeyShare.from_bytes(_edited(SHARES[0].to_bytes(), index=7))


def test_garbage_bytes_are_refused() -> None:
    with pytest.raises(KeyMaterialFormatError, match="not valid JSON"):
        PartialDecryption.from_bytes(b"\x00\xff not json")
