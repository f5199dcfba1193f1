"""Attestations: a manifest trustee or registrar vouches that a participant id is a legal entity.

An attestation is an Ed25519 signature (context ``fedcarbon.v1.attestation``) over
(participant_id, identity_key, legal_id, organisation). The operator issues tokens and runs
the participant registry, so it could enrol any number of fake suppliers (sybils); it cannot
make independent attesters sign for them. A participant counts towards k only with
``manifest.min_attestations`` valid attestations from distinct attesters, and k counts
distinct legal entities, not participant ids.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.federation.errors import AttestationError, LegalIdError
from fedcarbon.federation.legal_id import normalise_legal_id
from fedcarbon.federation.manifest import Manifest

ATTESTATION_CONTEXT = b"fedcarbon.v1.attestation"


@dataclass(frozen=True)
class Member:
    """A participant as the coordinator's registry claims it."""

    participant_id: str
    identity_key: bytes
    legal_id: str
    organisation: str


@dataclass(frozen=True)
class Attestation:
    participant_id: str
    identity_key: bytes
    legal_id: str
    organisation: str
    attester_key: bytes
    signature: bytes

    def claims(self, member: Member) -> bool:
        """Whether this attestation is about exactly this member record."""
        return (self.participant_id, self.identity_key, self.legal_id, self.organisation) == (
            member.participant_id,
            member.identity_key,
            member.legal_id,
            member.organisation,
        )

    def verify(self) -> None:
        try:
            signing.verify(
                self.attester_key,
                attestation_message(
                    self.participant_id, self.identity_key, self.legal_id, self.organisation
                ),
                self.signature,
                context=ATTESTATION_CONTEXT,
            )
        except SignatureError as error:
            raise AttestationError(
                f"attestation of {self.participant_id!r} by {self.attester_key.hex()[:16]}...: "
                f"{error}"
            ) from None


def attestation_message(
    participant_id: str, identity_key: bytes, legal_id: str, organisation: str
) -> bytes:
    """The signed bytes: NUL-separated fields (none may contain NUL)."""
    fields = (participant_id, identity_key.hex(), legal_id, organisation)
    if any("\x00" in field for field in fields):
        raise AttestationError(f"attestation of {participant_id!r}: a field contains NUL")
    return b"\x00".join(field.encode() for field in fields)


def attest(key: Ed25519PrivateKey, member: Member) -> Attestation:
    """Sign for a member whose legal identity the attester has checked out of band."""
    try:
        legal_id = normalise_legal_id(member.legal_id)
    except LegalIdError as error:
        raise AttestationError(f"cannot attest {member.participant_id!r}: {error}") from None
    if legal_id != member.legal_id:
        raise AttestationError(
            f"cannot attest {member.participant_id!r}: legal id {member.legal_id!r} "
            f"is not canonical ({legal_id!r})"
        )
    message = attestation_message(
        member.participant_id, member.identity_key, member.legal_id, member.organisation
    )
    return Attestation(
        member.participant_id,
        member.identity_key,
        member.legal_id,
        member.organisation,
        signing.public_key_bytes(key),
        signing.sign(key, message, context=ATTESTATION_CONTEXT),
    )


class CheckedAttestations(Protocol):
    """Digests (``attestation_digest``) of attestations already found valid, kept by a caller.

    A trustee re-checks every contributor's attestations in every release round; with such
    a set only the attestations it has not verified before cost an Ed25519 verification.
    """

    def __contains__(self, digest: str) -> bool: ...

    def add(self, digests: list[str]) -> None: ...


def attestation_digest(attestation: Attestation) -> str:
    """SHA-256 naming exactly what one verification checked: attester key, record, signature.

    Any other key, field or signature gives another digest, so a remembered success never
    stands in for an attestation that was not itself verified.
    """
    digest = hashlib.sha256(b"fedcarbon.v1.attestation-checked\x00")
    for part in (
        attestation.attester_key,
        attestation.participant_id.encode(),
        attestation.identity_key,
        attestation.legal_id.encode(),
        attestation.organisation.encode(),
        attestation.signature,
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def attesters_of(
    manifest: Manifest, member: Member, attestations: Iterable[Attestation]
) -> set[bytes]:
    """The distinct manifest attesters whose valid attestation is about exactly this member."""
    return _attesters(manifest, member, attestations, None, [])


def _attesters(
    manifest: Manifest,
    member: Member,
    attestations: Iterable[Attestation],
    checked: CheckedAttestations | None,
    fresh: list[str],
) -> set[bytes]:
    """``attesters_of``, skipping the verifications in ``checked``; new successes go to
    ``fresh`` (their digests) for the caller to remember at once."""
    known = manifest.attesters()
    found: set[bytes] = set()
    for attestation in attestations:
        if attestation.attester_key not in known or not attestation.claims(member):
            continue
        digest = "" if checked is None else attestation_digest(attestation)
        if checked is None or digest not in checked:
            try:
                attestation.verify()
            except AttestationError:
                continue
            if checked is not None:
                fresh.append(digest)
        found.add(attestation.attester_key)
    return found


def attested_entities(
    manifest: Manifest,
    participants: Iterable[Member],
    attestations: Iterable[Attestation],
    checked: CheckedAttestations | None = None,
) -> dict[str, str]:
    """participant_id -> legal_id for participants with enough distinct valid attesters.

    Only participants with at least ``manifest.min_attestations`` distinct attesters (trustees
    or registrars of the manifest) whose signatures verify over the participant's exact
    (id, identity key, legal id, organisation) appear. Count ``len(set(result.values()))``
    for the number of distinct legal entities. Attestations in ``checked`` are not verified
    again; the ones verified here are added to it.
    """
    by_participant: dict[str, list[Attestation]] = {}
    for attestation in attestations:
        by_participant.setdefault(attestation.participant_id, []).append(attestation)
    entities: dict[str, str] = {}
    fresh: list[str] = []
    for member in participants:
        try:
            legal_id = normalise_legal_id(member.legal_id)
        except LegalIdError:
            continue
        if legal_id != member.legal_id:
            continue
        signers = _attesters(
            manifest, member, by_participant.get(member.participant_id, []), checked, fresh
        )
        if len(signers) >= manifest.min_attestations:
            entities[member.participant_id] = legal_id
    if checked is not None and fresh:
        checked.add(fresh)
    return entities
