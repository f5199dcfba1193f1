"""Release: trustees' decryption shares in, one released statistic out, at most once.

The coordinator holds no key (privacy model point 1). It hands trustees everything needed
to re-check an aggregate (point 3), collects their signed shares, combines t of them and
unpacks the slots into per-metric sums. The AGGREGATED -> RELEASED transition is a
compare-and-set, so a campaign is released once even with several replicas (point 2).
"""

import json
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from coordinator.campaigns import (
    aggregate_of,
    fail_campaign,
    get_campaign,
    list_campaigns,
    set_state,
    store_result,
)
from coordinator.errors import (
    ConflictError,
    InvalidRequestError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from coordinator.store import (
    AggregateRow,
    DecryptionShareRow,
    NoiseShareRow,
    Participant,
    SubmissionRow,
    now_ms,
)
from fedcarbon import serde
from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.campaign import Campaign, CampaignState
from fedcarbon.crypto import packing, vector
from fedcarbon.crypto.errors import CryptoError
from fedcarbon.decryption import (
    DecryptionShare,
    NoiseShare,
    ShareError,
    combine_shares,
    noised_target,
)
from fedcarbon.dp import remove_offsets
from fedcarbon.results import CampaignResult, MetricResult
from fedcarbon.submission import (
    DECRYPTION_SHARE_CONTEXT,
    NOISE_SHARE_CONTEXT,
    SignedSubmission,
    noise_proof_context,
    unproven_slots,
)


@dataclass(frozen=True)
class AggregateView:
    """What a trustee needs to recompute an aggregate before decrypting it."""

    campaign: Campaign
    submissions: list[SignedSubmission]
    identity_keys: dict[str, bytes]
    ciphertexts: list[bytes]
    digest: bytes
    noise: list[tuple[bytes, bytes]]  # (signed body, signature) per trustee that sent noise
    target_digest: bytes


def _noise_rows(session: Session, campaign_id: str) -> list[NoiseShareRow]:
    return list(
        session.exec(select(NoiseShareRow).where(NoiseShareRow.campaign_id == campaign_id)).all()
    )


def target(
    session: Session, campaign: Campaign
) -> tuple[AggregateRow, list[bytes], list[NoiseShareRow]] | None:
    """The aggregate trustees decrypt, or None while noise shares are still missing."""
    row, blobs = aggregate_of(session, campaign)
    if campaign.noise is None:
        return row, blobs, []
    noise = _noise_rows(session, campaign.campaign_id)
    if len(noise) < len(campaign.key.trustee_ids):
        return None
    shares = [serde.noise_from_bytes(n.body) for n in noise]
    return row, noised_target(campaign, blobs, shares), noise


def decryption_tasks(engine: Engine, trustee_id: str) -> list[tuple[str, bytes, str]]:
    """(campaign id, digest, phase) for every step this trustee still owes."""
    tasks = []
    with Session(engine) as session:
        for campaign in list_campaigns(engine, CampaignState.AGGREGATED):
            if trustee_id not in campaign.key.trustee_ids:
                continue
            row, _ = aggregate_of(session, campaign)
            owes_noise = campaign.noise is not None and (
                session.get(NoiseShareRow, (campaign.campaign_id, trustee_id)) is None
            )
            if owes_noise:
                tasks.append((campaign.campaign_id, row.digest, "noise"))
                continue
            if session.get(DecryptionShareRow, (campaign.campaign_id, trustee_id)) is not None:
                continue
            ready = target(session, campaign)
            if ready is not None:
                tasks.append((campaign.campaign_id, vector.digest(ready[1]), "decrypt"))
    return tasks


def aggregate_view(engine: Engine, campaign_id: str) -> AggregateView:
    campaign = get_campaign(engine, campaign_id)
    with Session(engine) as session:
        row, blobs = aggregate_of(session, campaign)
        contributors = json.loads(row.contributor_ids)
        submissions = [
            row
            for row in session.exec(
                select(SubmissionRow)
                .where(SubmissionRow.campaign_id == campaign_id)
                .order_by(SubmissionRow.leaf_index)  # type: ignore[arg-type]
            ).all()
            if row.participant_id in contributors
        ]
        keys = {}
        for participant_id in [*contributors, *campaign.key.trustee_ids]:
            participant = session.get(Participant, participant_id)
            if participant is not None:
                keys[participant_id] = participant.identity_key
        noise = _noise_rows(session, campaign_id)
        ready = target(session, campaign)
        return AggregateView(
            campaign=campaign,
            submissions=[serde.signed_from_entry(s.entry) for s in submissions],
            identity_keys=keys,
            ciphertexts=blobs,
            digest=row.digest,
            noise=[(n.body, n.signature) for n in noise],
            target_digest=vector.digest(ready[1]) if ready is not None else b"",
        )


def _check_trustee_message(
    session: Session,
    campaign: Campaign,
    trustee_id: str,
    body: bytes,
    signature: bytes,
    context: bytes,
    where: str,
) -> None:
    """A message from one of the campaign's enrolled trustees, signed, while it is aggregated."""
    if trustee_id not in campaign.key.trustee_ids:
        raise PermissionDeniedError(f"{where}: not a trustee of this campaign")
    trustee = session.get(Participant, trustee_id)
    if trustee is None or trustee.role != "trustee":
        raise PermissionDeniedError(f"{where}: not an enrolled trustee")
    try:
        signing.verify(trustee.identity_key, body, signature, context=context)
    except SignatureError as error:
        raise UnauthenticatedError(f"{where}: {error}") from None
    if campaign.state is not CampaignState.AGGREGATED:
        raise ConflictError(f"{where}: campaign is {campaign.state.value}, not awaiting trustees")


def accept_share(
    engine: Engine, share: DecryptionShare, body: bytes, signature: bytes
) -> CampaignState:
    """Store a trustee's signed share; release once t valid shares are in."""
    where = f"decryption share for {share.campaign_id!r} from {share.trustee_id!r}"
    campaign = get_campaign(engine, share.campaign_id)
    with Session(engine) as session:
        _check_trustee_message(
            session, campaign, share.trustee_id, body, signature, DECRYPTION_SHARE_CONTEXT, where
        )
        ready = target(session, campaign)
        if ready is None and not share.refusal:
            raise ConflictError(f"{where}: noise shares are still missing; nothing to decrypt yet")
        expected = (
            vector.digest(ready[1])
            if ready is not None
            else aggregate_of(session, campaign)[0].digest
        )
        if share.aggregate_digest != expected and not share.refusal:
            raise InvalidRequestError(f"{where}: aggregate digest does not match")
        session.add(
            DecryptionShareRow(
                campaign_id=share.campaign_id,
                trustee_id=share.trustee_id,
                body=body,
                signature=signature,
                refusal=share.refusal,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            raise ConflictError(f"{where}: this trustee already answered") from None
    return try_release(engine, campaign.campaign_id)


def _shares(session: Session, campaign_id: str) -> list[DecryptionShareRow]:
    return list(
        session.exec(
            select(DecryptionShareRow).where(DecryptionShareRow.campaign_id == campaign_id)
        ).all()
    )


def try_release(engine: Engine, campaign_id: str) -> CampaignState:
    """Combine the shares in; release, keep waiting, or fail when t is out of reach."""
    campaign = get_campaign(engine, campaign_id)
    if campaign.state is not CampaignState.AGGREGATED:
        return campaign.state
    with Session(engine) as session:
        ready = target(session, campaign)
        aggregate, blobs = aggregate_of(session, campaign)
        if ready is not None:
            blobs = ready[1]
        ciphertexts = [int.from_bytes(blob, "big") for blob in blobs]
        plaintexts = None
        while ready is not None:
            # Combine what is in; a trustee whose share fails is marked and left out, and the
            # rest is tried again (t honest shares may already be stored beside a lie).
            rows = _shares(session, campaign_id)
            usable = {
                row.trustee_id: serde.share_from_bytes(row.body).shares
                for row in rows
                if not row.refusal
            }
            try:
                plaintexts = combine_shares(campaign, ciphertexts, usable)
                break
            except ShareError as error:
                for row in rows:
                    if row.trustee_id in error.trustee_ids:
                        row.refusal = f"rejected by coordinator: {error}"
                        session.add(row)
                session.commit()
        rows = _shares(session, campaign_id)
        refused = [row for row in rows if row.refusal]
        still_possible = len(campaign.key.trustee_ids) - len(refused)
        if plaintexts is None:
            if still_possible >= campaign.key.threshold:
                return CampaignState.AGGREGATED
            reason = "trustees refused or failed: " + "; ".join(
                f"{row.trustee_id}: {row.refusal}" for row in refused
            )
            fail_campaign(session, campaign_id, aggregate.contributors, reason)
            session.commit()
            return CampaignState.FAILED
        plan = campaign.noise
        extra = [] if plan is None else [plan.trustees * 2 * o for o in plan.offsets]
        bad = packing.out_of_range(
            plaintexts, campaign.bounds, campaign.packing, aggregate.contributors, extra
        )
        if bad:
            reason = (
                "the decrypted aggregate is outside what contributors within their bounds can "
                f"produce ({', '.join(bad)}): a contribution was out of range; nothing released"
            )
            fail_campaign(session, campaign_id, aggregate.contributors, reason)
            session.commit()
            return CampaignState.FAILED
        sums = packing.unpack(plaintexts, campaign.bounds, campaign.packing, aggregate.contributors)
        if plan is not None:
            sums = remove_offsets(sums, plan, len(campaign.key.trustee_ids))
        result = CampaignResult(
            campaign_id=campaign_id,
            state=CampaignState.RELEASED,
            contributors=aggregate.contributors,
            metrics=tuple(
                MetricResult(m.name, m.unit, m.scale, total)
                for m, total in zip(campaign.metrics, sums, strict=True)
            ),
            released_unix_ms=now_ms(),
            aggregate_digest=aggregate.digest,
            epsilon=campaign.epsilon,
            delta=campaign.delta,
        )
        if not set_state(session, campaign_id, CampaignState.AGGREGATED, CampaignState.RELEASED):
            return get_campaign(engine, campaign_id).state  # another replica released it
        store_result(session, result)
        session.commit()
        return CampaignState.RELEASED


def accept_noise(engine: Engine, share: NoiseShare, body: bytes, signature: bytes) -> CampaignState:
    """Store a trustee's signed, encrypted noise vector for an aggregate."""
    where = f"noise share for {share.campaign_id!r} from {share.trustee_id!r}"
    campaign = get_campaign(engine, share.campaign_id)
    if campaign.noise is None:
        raise InvalidRequestError(f"{where}: this campaign asks for no noise")
    with Session(engine) as session:
        _check_trustee_message(
            session, campaign, share.trustee_id, body, signature, NOISE_SHARE_CONTEXT, where
        )
        row, _ = aggregate_of(session, campaign)
        if share.aggregate_digest != row.digest:
            raise InvalidRequestError(f"{where}: aggregate digest does not match")
        try:
            vector.from_bytes(
                share.ciphertexts, campaign.key.paillier_n, expected=campaign.packing.ciphertexts
            )
        except CryptoError as error:
            raise InvalidRequestError(f"{where}: {error}") from None
        context = noise_proof_context(campaign.digest, share.trustee_id, share.aggregate_digest)
        if unproven_slots(campaign.key.paillier_n, share.ciphertexts, share.proofs, context):
            raise InvalidRequestError(f"{where}: noise lacks valid proofs of plaintext knowledge")
        session.add(
            NoiseShareRow(
                campaign_id=share.campaign_id,
                trustee_id=share.trustee_id,
                body=body,
                signature=signature,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            raise ConflictError(f"{where}: this trustee already sent noise") from None
    return campaign.state
