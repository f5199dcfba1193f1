"""Campaigns on the coordinator: create, read, close and aggregate.

Closing a campaign adds the ciphertext vectors of all accepted submissions (multiplication
modulo n^2, fedcarbon.crypto.vector.add_vectors). An aggregate is only formed when at least
k distinct participants contributed (privacy model point 2); otherwise the campaign fails
and nothing is ever decrypted for it.
"""

import json

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from coordinator.errors import ConflictError, InvalidRequestError, NotFoundError
from coordinator.membership import legal_entities
from coordinator.store import (
    AggregateRow,
    CampaignRow,
    Participant,
    ResultRow,
    SealedShareRow,
    SubmissionRow,
)
from fedcarbon import serde
from fedcarbon.campaign import DEFAULT_MIN_CONTRIBUTORS, Campaign, CampaignState, KeyScheme
from fedcarbon.crypto import vector
from fedcarbon.crypto.vector import MIN_KEY_BITS
from fedcarbon.federation.manifest import Manifest
from fedcarbon.results import CampaignResult
from fedcarbon.v1 import campaign_pb2, result_pb2

# The agents' default policy (agent/config.py: Policy), enforced again at creation so that a
# weak campaign is refused before anyone is asked to answer it (issue 12).
MIN_THRESHOLD = 2


def _to_row(campaign: Campaign, weak_allowed: bool = False) -> CampaignRow:
    return CampaignRow(
        campaign_id=campaign.campaign_id,
        definition=serde.campaign_to_proto(campaign).SerializeToString(deterministic=True),
        state=campaign.state.value,
        created_unix_ms=campaign.created_unix_ms,
        weak_allowed=weak_allowed,
    )


def weaknesses(campaign: Campaign) -> list[str]:
    """Where a campaign is below the default minimums (key size, threshold, k)."""
    found = []
    if campaign.key.bits < MIN_KEY_BITS:
        found.append(f"the key has {campaign.key.bits} bits, below {MIN_KEY_BITS}")
    if campaign.key.threshold < MIN_THRESHOLD:
        found.append(
            f"the key needs {campaign.key.threshold} trustee(s) to decrypt, below {MIN_THRESHOLD}"
        )
    if campaign.min_contributors < DEFAULT_MIN_CONTRIBUTORS:
        found.append(f"k = {campaign.min_contributors}, below {DEFAULT_MIN_CONTRIBUTORS}")
    return found


def _from_row(row: CampaignRow) -> Campaign:
    message = campaign_pb2.Campaign()
    message.ParseFromString(row.definition)
    return serde.campaign_from_proto(message).with_state(CampaignState(row.state))


def create_campaign(
    engine: Engine,
    campaign: Campaign,
    sealed_shares: dict[str, bytes] | None = None,
    *,
    allow_weak: bool = False,
) -> Campaign:
    """Store a new campaign (and the sealed key shares to forward to its trustees).

    Below the default minimums it is refused unless ``allow_weak`` (test federations), which
    is recorded with the campaign.
    """
    weak = weaknesses(campaign)
    if weak and not allow_weak:
        raise InvalidRequestError(
            f"campaign {campaign.campaign_id!r} is below the default minimums: "
            + "; ".join(weak)
            + " (pass --allow-weak for a test federation; agents' default policy refuses it)"
        )
    with Session(engine) as session:
        if session.get(CampaignRow, campaign.campaign_id) is not None:
            raise ConflictError(f"campaign {campaign.campaign_id!r} already exists")
        for trustee_id in campaign.key.trustee_ids:
            trustee = session.get(Participant, trustee_id)
            if trustee is None or trustee.role != "trustee":
                raise InvalidRequestError(
                    f"campaign {campaign.campaign_id!r}: {trustee_id!r} is not an enrolled trustee"
                )
        if campaign.buyer_id and session.get(Participant, campaign.buyer_id) is None:
            raise InvalidRequestError(
                f"campaign {campaign.campaign_id!r}: buyer {campaign.buyer_id!r} is not enrolled"
            )
        for invited in campaign.invited:
            if session.get(Participant, invited) is None:
                raise InvalidRequestError(
                    f"campaign {campaign.campaign_id!r}: invited {invited!r} is not enrolled"
                )
        for other in session.exec(select(CampaignRow)).all():
            if _from_row(other).key.paillier_n == campaign.key.paillier_n:
                raise InvalidRequestError(
                    f"campaign {campaign.campaign_id!r} reuses the key of campaign "
                    f"{other.campaign_id!r}; every campaign needs its own key"
                )
        if campaign.key.scheme is KeyScheme.SINGLE_HOLDER and len(campaign.key.trustee_ids) != 1:
            raise InvalidRequestError("a single-holder key names exactly one trustee")
        shares = sealed_shares or {}
        if campaign.key.scheme is KeyScheme.THRESHOLD:
            missing = set(campaign.key.trustee_ids) - set(shares)
            if missing:
                raise InvalidRequestError(
                    f"campaign {campaign.campaign_id!r}: no sealed key share for {sorted(missing)}"
                )
        for trustee_id, sealed in shares.items():
            if trustee_id not in campaign.key.trustee_ids:
                raise InvalidRequestError(f"sealed share for {trustee_id!r}, not a key holder")
            session.add(
                SealedShareRow(
                    campaign_id=campaign.campaign_id, trustee_id=trustee_id, sealed_share=sealed
                )
            )
        session.add(_to_row(campaign, weak_allowed=bool(weak)))
        session.commit()
    return campaign


def weak_allowed(engine: Engine, campaign_id: str) -> bool:
    with Session(engine) as session:
        row = session.get(CampaignRow, campaign_id)
        return bool(row and row.weak_allowed)


def get_campaign(engine: Engine, campaign_id: str) -> Campaign:
    with Session(engine) as session:
        row = session.get(CampaignRow, campaign_id)
        if row is None:
            raise NotFoundError(f"unknown campaign {campaign_id!r}")
        return _from_row(row)


def list_campaigns(engine: Engine, state: CampaignState | None = None) -> list[Campaign]:
    with Session(engine) as session:
        query = select(CampaignRow).order_by(CampaignRow.created_unix_ms)  # type: ignore[arg-type]
        if state is not None:
            query = query.where(CampaignRow.state == state.value)
        return [_from_row(row) for row in session.exec(query).all()]


def set_state(session: Session, campaign_id: str, old: CampaignState, new: CampaignState) -> bool:
    """Compare-and-set on the state: exactly one caller wins a transition."""
    result = session.exec(
        update(CampaignRow)
        .where(CampaignRow.campaign_id == campaign_id)  # type: ignore[arg-type]
        .where(CampaignRow.state == old.value)  # type: ignore[arg-type]
        .values(state=new.value)
    )
    return bool(result.rowcount == 1)


def submissions_of(session: Session, campaign_id: str) -> list[SubmissionRow]:
    return list(
        session.exec(
            select(SubmissionRow)
            .where(SubmissionRow.campaign_id == campaign_id)
            .order_by(SubmissionRow.leaf_index)  # type: ignore[arg-type]
        ).all()
    )


def aggregate_submissions(campaign: Campaign, entries: list[bytes]) -> list[int]:
    """The homomorphic sum of the submissions' ciphertext vectors (also run by trustees)."""
    n = campaign.key.paillier_n
    vectors = []
    for entry in entries:
        body = serde.body_from_bytes(serde.signed_from_entry(entry).body)
        vectors.append(
            vector.from_bytes(body.ciphertexts, n, expected=campaign.packing.ciphertexts)
        )
    return vector.add_vectors(vectors, n)


def close_campaign(
    engine: Engine, campaign_id: str, manifest: Manifest | None = None
) -> tuple[CampaignState, str]:
    """Stop accepting submissions; aggregate if at least k contributed, else fail.

    With a federation manifest, k counts distinct legal entities among contributors attested
    by enough of its trustees and registrars, and an unattested contributor fails the
    campaign (trustees would refuse the aggregate anyway). Without one, k counts participant
    ids: a federation that never installed a manifest (tests, min_threshold = 1 setups).
    """
    campaign = get_campaign(engine, campaign_id)
    if campaign.state is not CampaignState.OPEN:
        raise ConflictError(f"campaign {campaign_id!r} is {campaign.state.value}, not open")
    with Session(engine) as session:
        # Claim the transition first: it locks the row, so no submission slips in between
        # reading the submissions and storing their aggregate.
        if not set_state(session, campaign_id, CampaignState.OPEN, CampaignState.AGGREGATED):
            raise ConflictError(f"campaign {campaign_id!r} changed state while closing")
        rows = submissions_of(session, campaign_id)
        contributors = sorted({row.participant_id for row in rows})
        if manifest is not None:
            entities = legal_entities(session, manifest, contributors)
            unattested = [pid for pid in contributors if pid not in entities]
            distinct = len(set(entities.values()))
            if unattested or distinct < campaign.min_contributors:
                reason = (
                    f"only {distinct} distinct attested legal "
                    f"entit{'y' if distinct == 1 else 'ies'} among {len(contributors)} "
                    f"contributor(s); at least {campaign.min_contributors} are required before "
                    "anything is released"
                    + (
                        f"; not attested by {manifest.min_attestations} trustee(s) or "
                        f"registrar(s) of the manifest: {', '.join(unattested)}"
                        if unattested
                        else ""
                    )
                )
                fail_campaign(session, campaign_id, len(contributors), reason)
                session.commit()
                return CampaignState.FAILED, reason
        if len(contributors) < campaign.min_contributors:
            reason = (
                f"only {len(contributors)} contributor(s); at least {campaign.min_contributors} "
                "are required before anything is released"
            )
            fail_campaign(session, campaign_id, len(contributors), reason)
            session.commit()
            return CampaignState.FAILED, reason
        total = aggregate_submissions(campaign, [row.entry for row in rows])
        blobs = vector.to_bytes(total, campaign.key.paillier_n)
        session.add(
            AggregateRow(
                campaign_id=campaign_id,
                ciphertexts=b"".join(blobs),
                count=len(blobs),
                contributors=len(contributors),
                contributor_ids=json.dumps(contributors),
                digest=vector.digest(blobs),
            )
        )
        session.commit()
    return CampaignState.AGGREGATED, f"{len(contributors)} contributors aggregated"


def store_result(session: Session, result: CampaignResult) -> None:
    session.add(
        ResultRow(
            campaign_id=result.campaign_id,
            result=serde.result_to_proto(result).SerializeToString(deterministic=True),
            released_unix_ms=result.released_unix_ms,
        )
    )


def fail_campaign(session: Session, campaign_id: str, contributors: int, reason: str) -> None:
    """AGGREGATED -> FAILED (compare-and-set) with the reason as the campaign's result.

    Only the caller that wins the transition stores the result; the caller commits.
    """
    if set_state(session, campaign_id, CampaignState.AGGREGATED, CampaignState.FAILED):
        store_result(
            session, CampaignResult(campaign_id, CampaignState.FAILED, contributors, reason=reason)
        )


def get_result(engine: Engine, campaign_id: str) -> CampaignResult:
    campaign = get_campaign(engine, campaign_id)
    with Session(engine) as session:
        row = session.get(ResultRow, campaign_id)
    if row is None:
        return CampaignResult(campaign_id, campaign.state, 0, reason="not released yet")
    message = result_pb2.CampaignResult()
    message.ParseFromString(row.result)
    return serde.result_from_proto(message)


def aggregate_of(session: Session, campaign: Campaign) -> tuple[AggregateRow, list[bytes]]:
    row = session.get(AggregateRow, campaign.campaign_id)
    if row is None:
        raise NotFoundError(f"campaign {campaign.campaign_id!r} has no aggregate yet")
    width = vector.ciphertext_length(campaign.key.paillier_n)
    blobs = [row.ciphertexts[i * width : (i + 1) * width] for i in range(row.count)]
    return row, blobs


def sealed_shares_for(engine: Engine, trustee_id: str) -> list[tuple[str, bytes]]:
    with Session(engine) as session:
        rows = session.exec(
            select(SealedShareRow).where(SealedShareRow.trustee_id == trustee_id)
        ).all()
        return [(row.campaign_id, row.sealed_share) for row in rows]
