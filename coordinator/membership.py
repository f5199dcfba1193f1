"""Members' legal identities and their attestations, as the coordinator stores and serves them.

The coordinator is not trusted for who takes part: it only stores attestations signed by
the trustees and registrars of the federation manifest and hands them out (to `trustee
approve`, and with each aggregate to the trustees, who check them again). With a manifest
installed, k counts distinct attested legal entities (coordinator/campaigns.py: close).
"""

import os
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from coordinator.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from coordinator.store import AttestationRow, Participant
from fedcarbon.federation.attestation import Attestation, Member, attested_entities
from fedcarbon.federation.errors import AttestationError
from fedcarbon.federation.manifest import Manifest, load_manifest


class InstalledManifest:
    """The manifest file in the coordinator's home, re-read when it changes (or None)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cached: tuple[int, Manifest] | None = None

    def get(self) -> Manifest | None:
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return None
        if self._cached is None or self._cached[0] != stamp:
            self._cached = (stamp, load_manifest(self.path))
        return self._cached[1]


def member_of(row: Participant) -> Member:
    return Member(row.participant_id, row.identity_key, row.legal_id, row.organisation)


def _attestation(row: AttestationRow) -> Attestation:
    return Attestation(
        row.participant_id,
        row.identity_key,
        row.legal_id,
        row.organisation,
        row.attester_key,
        row.signature,
    )


def attestations_for(session: Session, participant_ids: list[str]) -> list[Attestation]:
    if not participant_ids:
        return []
    rows = session.exec(
        select(AttestationRow).where(
            AttestationRow.participant_id.in_(participant_ids)  # type: ignore[attr-defined]
        )
    ).all()
    return [_attestation(row) for row in rows]


def members(
    engine: Engine, participant_ids: list[str] | None = None
) -> list[tuple[Participant, list[Attestation]]]:
    """Participants (all non-trustees, or the ones named) with their stored attestations."""
    with Session(engine) as session:
        query = select(Participant).order_by(Participant.participant_id)
        if participant_ids is not None:
            query = query.where(Participant.participant_id.in_(participant_ids))  # type: ignore[attr-defined]
        else:
            query = query.where(Participant.role != "trustee")
        rows = list(session.exec(query).all())
        found = attestations_for(session, [r.participant_id for r in rows])
    by_id: dict[str, list[Attestation]] = {}
    for attestation in found:
        by_id.setdefault(attestation.participant_id, []).append(attestation)
    return [(row, by_id.get(row.participant_id, [])) for row in rows]


def store_attestation(engine: Engine, attestation: Attestation, manifest: Manifest | None) -> int:
    """Keep an attestation that verifies for the member's enrolled record; return the count.

    Refused: an attester not in the installed manifest, a record that differs from what the
    participant enrolled with, a signature that does not verify.
    """
    if manifest is None:
        raise PermissionDeniedError(
            "no federation manifest is installed on this coordinator "
            "(`fedcarbon coordinator manifest install FILE`); attestations cannot be checked"
        )
    if attestation.attester_key not in manifest.attesters():
        raise PermissionDeniedError(
            f"attestation of {attestation.participant_id!r}: the attester key "
            f"{attestation.attester_key.hex()[:16]}... is not a trustee or registrar of "
            f"manifest {manifest.fingerprint[:16]}"
        )
    with Session(engine) as session:
        participant = session.get(Participant, attestation.participant_id)
        if participant is None:
            raise NotFoundError(f"unknown participant {attestation.participant_id!r}")
        if not attestation.claims(member_of(participant)):
            raise InvalidRequestError(
                f"attestation of {attestation.participant_id!r} is for another identity key, "
                "legal id or organisation than the participant enrolled with"
            )
        try:
            attestation.verify()
        except AttestationError as error:
            raise InvalidRequestError(str(error)) from None
        session.merge(
            AttestationRow(
                participant_id=attestation.participant_id,
                attester_key=attestation.attester_key,
                legal_id=attestation.legal_id,
                organisation=attestation.organisation,
                identity_key=attestation.identity_key,
                signature=attestation.signature,
            )
        )
        session.commit()
        return len(attestations_for(session, [attestation.participant_id]))


def legal_entities(
    session: Session, manifest: Manifest, participant_ids: list[str]
) -> dict[str, str]:
    """participant id -> legal id, for the named participants that are attested enough."""
    rows = session.exec(
        select(Participant).where(Participant.participant_id.in_(participant_ids))  # type: ignore[attr-defined]
    ).all()
    return attested_entities(
        manifest, [member_of(row) for row in rows], attestations_for(session, participant_ids)
    )
