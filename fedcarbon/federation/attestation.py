"""Attestations: a manifest trustee or registrar vouches that a participant id is a legal entity.

An attestation is an Ed25519 signature (context ``fedcarbon.v1.attestation``) over
(participant_id, identity_key, legal_id, organisation). The operator issues tokens and runs
the participant registry, so it could enrol any number of fake suppliers (sybils); it cannot
make independent attesters sign for them. A participant counts towards k only with
``manifest.min_attestations`` valid attestations from distinct attesters, and k counts
distinct legal entities, not participant ids.
"""

from collections.abc import Iterable
from dataclasses import dataclass

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


def attesters_of(
    manifest: Manifest, member: Member, attestations: Iterable[Attestation]
) -> set[bytes]:
    """The distinct manifest attesters whose valid attestation is about exactly this member."""
    known = manifest.attesters()
    found: set[bytes] = set()
    for attestation in attestations:
        if attestation.attester_key not in known or not attestation.claims(member):
            continue
        try:
            attestation.verify()
        except AttestationError:
            continue
        found.add(attestation.attester_key)
    return found


def attested_entities(
    manifest: Manifest, participants: Iterable[Member], attestations: Iterable[Attestation]
) -> dict[str, str]:
    """participant_id -> legal_id for participants with enough distinct valid attesters.

    Only participants with at least ``manifest.min_attestations`` distinct attesters (trustees
    or registrars of the manifest) whose signatures verify over the participant's exact
    (id, identity key, legal id, organisation) appear. Count ``len(set(result.values()))``
    for the number of distinct legal entities.
    """
    by_participant: dict[str, list[Attestation]] = {}
    for attestation in attestations:
        by_participant.setdefault(attestation.participant_id, []).append(attestation)
    entities: dict[str, str] = {}
    for member in participants:
        try:
            legal_id = normalise_legal_id(member.legal_id)
        except LegalIdError:
            continue
        if legal_id != member.legal_id:
            continue
        signers = attesters_of(manifest, member, by_participant.get(member.participant_id, []))
        if len(signers) >= manifest.min_attestations:
            entities[member.participant_id] = legal_id
    return entities
