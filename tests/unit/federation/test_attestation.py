"""Attestations: who counts towards k, and as which legal entity."""

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon.audit import signing
from fedcarbon.federation.attestation import (
    Attestation,
    Member,
    attest,
    attestation_digest,
    attested_entities,
)
from fedcarbon.federation.errors import AttestationError
from fedcarbon.federation.legal_id import lei_with_check_digits
from fedcarbon.federation.manifest import Manifest, ManifestRegistrar, ManifestTrustee


def lei(n: int) -> str:
    return "LEI:" + lei_with_check_digits(f"TESTLEI{n:011d}")


@pytest.fixture
def keys() -> list[Ed25519PrivateKey]:
    return [signing.generate_signing_key() for _ in range(3)]


@pytest.fixture
def manifest(keys: list[Ed25519PrivateKey]) -> Manifest:
    trustees = tuple(
        ManifestTrustee(f"t{i}", f"Org {i}", lei(i), signing.public_key_bytes(k), bytes(32))
        for i, k in enumerate(keys[:2])
    )
    registrar = ManifestRegistrar("reg", "Registry", signing.public_key_bytes(keys[2]))
    return Manifest("f", 1, trustees, (registrar,), 2)


def member(name: str, legal: int) -> Member:
    return Member(name, signing.public_key_bytes(signing.generate_signing_key()), lei(legal), name)


def test_two_distinct_attesters_make_a_member_count(
    manifest: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    m = member("acme", 100)
    found = attested_entities(manifest, [m], [attest(keys[0], m), attest(keys[2], m)])
    assert found == {"acme": lei(100)}


def test_one_attester_twice_is_not_two(manifest: Manifest, keys: list[Ed25519PrivateKey]) -> None:
    m = member("acme", 100)
    assert attested_entities(manifest, [m], [attest(keys[0], m), attest(keys[0], m)]) == {}


def test_attesters_outside_the_manifest_do_not_count(
    manifest: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    m = member("acme", 100)
    outsiders = [signing.generate_signing_key() for _ in range(3)]
    attestations = [attest(keys[0], m), *(attest(k, m) for k in outsiders)]
    assert attested_entities(manifest, [m], attestations) == {}


def test_an_attestation_for_another_identity_key_does_not_count(
    manifest: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    """The operator re-keys an attested member (takes over its participant id)."""
    m = member("acme", 100)
    rekeyed = replace(m, identity_key=bytes(32))
    attestations = [attest(keys[0], m), attest(keys[1], m)]
    assert attested_entities(manifest, [rekeyed], attestations) == {}


def test_an_attestation_for_another_legal_id_does_not_count(
    manifest: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    m = member("acme", 100)
    attestations = [attest(keys[0], m), attest(keys[1], m)]
    assert attested_entities(manifest, [replace(m, legal_id=lei(101))], attestations) == {}


def test_a_forged_signature_does_not_count(
    manifest: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    m = member("acme", 100)
    good = attest(keys[0], m)
    forged = replace(attest(keys[1], m), signature=bytes(64))
    with pytest.raises(AttestationError, match="does not verify"):
        forged.verify()
    assert attested_entities(manifest, [m], [good, forged]) == {}


def test_sites_of_one_legal_entity_count_once(
    manifest: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    sites = [member("acme-a", 100), member("acme-b", 100), member("other", 200)]
    attestations = [attest(k, s) for s in sites for k in keys[:2]]
    found = attested_entities(manifest, sites, attestations)
    assert len(found) == 3 and len(set(found.values())) == 2


def test_a_malformed_legal_id_cannot_be_attested(keys: list[Ed25519PrivateKey]) -> None:
    with pytest.raises(AttestationError, match="check digits"):
        attest(keys[0], replace(member("acme", 1), legal_id="LEI:TESTLEI0000000000199"))


def test_a_nul_in_a_field_is_refused(keys: list[Ed25519PrivateKey]) -> None:
    with pytest.raises(AttestationError, match="NUL"):
        attest(keys[0], replace(member("acme", 1), organisation="a\x00b"))


class _Checked(set[str]):
    """An in-memory ``CheckedAttestations``."""

    def add(self, digests: list[str]) -> None:  # type: ignore[override]
        self.update(digests)


def _counting_verify(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = Attestation.verify

    def counting(self: Attestation) -> None:
        calls.append(self.participant_id)
        real(self)

    monkeypatch.setattr(Attestation, "verify", counting)
    return calls


def test_a_remembered_attestation_is_not_verified_again(
    manifest: Manifest, keys: list[Ed25519PrivateKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    m = member("acme", 100)
    attestations = [attest(keys[0], m), attest(keys[2], m)]
    checked = _Checked()
    calls = _counting_verify(monkeypatch)
    assert attested_entities(manifest, [m], attestations, checked) == {"acme": lei(100)}
    assert len(calls) == 2 and checked == {attestation_digest(a) for a in attestations}
    assert attested_entities(manifest, [m], attestations, checked) == {"acme": lei(100)}
    assert len(calls) == 2


def test_a_changed_attestation_is_verified_afresh_and_refused(
    manifest: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    m = member("acme", 100)
    good = [attest(keys[0], m), attest(keys[2], m)]
    checked = _Checked()
    attested_entities(manifest, [m], good, checked)
    # Same attester and signature over another record (another organisation): a new digest,
    # verified, and its signature does not hold for the changed record.
    other = replace(m, organisation="Other")
    moved = [replace(a, organisation="Other") for a in good]
    assert all(attestation_digest(a) not in checked for a in moved)
    assert attested_entities(manifest, [other], moved, checked) == {}
    forged = replace(good[1], signature=bytes(64))
    assert attestation_digest(forged) not in checked
    assert attested_entities(manifest, [m], [good[0], forged], checked) == {}


def test_a_failed_verification_is_not_remembered(
    manifest: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    m = member("acme", 100)
    forged = replace(attest(keys[1], m), signature=bytes(64))
    checked = _Checked()
    attested_entities(manifest, [m], [attest(keys[0], m), forged], checked)
    assert attestation_digest(forged) not in checked and len(checked) == 1
