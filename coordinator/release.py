"""Release: trustees' openings in, one released statistic out, at most once.

The coordinator holds no key (privacy model point 1). It hands trustees everything needed
to re-check an aggregate (point 3), collects their signed openings in two parts -- first the
non-zero indicators, then the values (fedcarbon.shares) -- and rebuilds the totals from any
t of them. Nothing is opened past the indicators unless every metric has at least k
non-zero contributors (point 7). The AGGREGATED -> RELEASED transition is a compare-and-set,
so a campaign is released once even with several replicas (point 2). Trustees then check the
release against the openings and sign it.
"""

import json
from dataclasses import dataclass, replace

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from coordinator.campaigns import (
    aggregate_of,
    fail_campaign,
    get_campaign,
    get_result,
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
    IndicatorShareRow,
    NoiseShareRow,
    Participant,
    ResultSignatureRow,
    SubmissionRow,
    now_ms,
)
from fedcarbon import serde, shares
from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.campaign import Campaign, CampaignState
from fedcarbon.crypto import vector
from fedcarbon.crypto.errors import CryptoError
from fedcarbon.decryption import (
    DecryptionShare,
    NoiseShare,
    ShareError,
    combine_shares,
    indicator_problems,
    noised_target,
    released_sums,
)
from fedcarbon.results import (
    RESULT_CONTEXT,
    CampaignResult,
    MetricResult,
    ResultSignature,
    result_message,
)
from fedcarbon.submission import (
    DECRYPTION_SHARE_CONTEXT,
    NOISE_SHARE_CONTEXT,
    SignedSubmission,
    noise_proof_context,
)

ShareTable = type[DecryptionShareRow] | type[IndicatorShareRow]
_TABLES: dict[str, ShareTable] = {"indicators": IndicatorShareRow, "values": DecryptionShareRow}


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
    indicator_shares: list[tuple[bytes, bytes]]
    value_shares: list[tuple[bytes, bytes]]
    result: CampaignResult | None


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
    received = [serde.noise_from_bytes(n.body) for n in noise]
    return row, noised_target(campaign, blobs, received), noise


ShareRow = DecryptionShareRow | IndicatorShareRow


def _share_rows(session: Session, table: ShareTable, campaign_id: str) -> list[ShareRow]:
    return list(
        session.exec(select(table).where(table.campaign_id == campaign_id)).all()  # type: ignore[arg-type]
    )


def _openings(rows: list[ShareRow]) -> dict[str, tuple[bytes, ...]]:
    """Trustee id -> its stored openings, for every share that is not a refusal."""
    return {
        row.trustee_id: serde.share_from_bytes(row.body).shares for row in rows if not row.refusal
    }


def _indicator_counts(session: Session, campaign: Campaign) -> list[int] | None:
    """The non-zero counts rebuilt from the stored indicator openings, or None while short."""
    ready = target(session, campaign)
    if ready is None:
        return None
    rows = _share_rows(session, IndicatorShareRow, campaign.campaign_id)
    try:
        return combine_shares(campaign, _ints(ready[1]), _openings(rows), "indicators")
    except CryptoError:
        return None


def _ints(blobs: list[bytes]) -> list[int]:
    return [int.from_bytes(blob, "big") for blob in blobs]


def decryption_tasks(engine: Engine, trustee_id: str) -> list[tuple[str, bytes, str]]:
    """(campaign id, digest, phase) for every step this trustee still owes."""
    tasks = []
    with Session(engine) as session:
        for campaign in list_campaigns(engine, CampaignState.AGGREGATED):
            if trustee_id not in campaign.key.trustee_ids:
                continue
            key = (campaign.campaign_id, trustee_id)
            row, _ = aggregate_of(session, campaign)
            if campaign.noise is not None and session.get(NoiseShareRow, key) is None:
                tasks.append((campaign.campaign_id, row.digest, "noise"))
                continue
            ready = target(session, campaign)
            if ready is None:
                continue
            digest = vector.digest(ready[1])
            if session.get(IndicatorShareRow, key) is None:
                tasks.append((campaign.campaign_id, digest, "indicators"))
            elif session.get(DecryptionShareRow, key) is None:
                counts = _indicator_counts(session, campaign)
                if counts is not None and not indicator_problems(
                    campaign, row.contributors, counts
                ):
                    tasks.append((campaign.campaign_id, digest, "decrypt"))
        for campaign in list_campaigns(engine, CampaignState.RELEASED):
            key = (campaign.campaign_id, trustee_id)
            if trustee_id in campaign.key.trustee_ids and (
                session.get(ResultSignatureRow, key) is None
            ):
                tasks.append((campaign.campaign_id, b"", "sign"))
    return tasks


def aggregate_view(
    engine: Engine, campaign_id: str, with_submissions: bool = True
) -> AggregateView:
    """The bundle trustees check; ``with_submissions=False`` loads no submission at all.

    Trustees take the included submissions from the transparency log instead (issue 14), so
    the ~8 KB per contributor need neither be read from the database nor held while sending.
    """
    campaign = get_campaign(engine, campaign_id)
    with Session(engine) as session:
        row, blobs = aggregate_of(session, campaign)
        contributors = json.loads(row.contributor_ids)
        submissions = (
            [
                row
                for row in session.exec(
                    select(SubmissionRow)
                    .where(SubmissionRow.campaign_id == campaign_id)
                    .order_by(SubmissionRow.leaf_index)  # type: ignore[arg-type]
                ).all()
                if row.participant_id in contributors
            ]
            if with_submissions
            else []
        )
        keys = {}
        for participant_id in [*contributors, *campaign.key.trustee_ids]:
            participant = session.get(Participant, participant_id)
            if participant is not None:
                keys[participant_id] = participant.identity_key
        noise = _noise_rows(session, campaign_id)
        ready = target(session, campaign)
        signed = {
            part: [
                (r.body, r.signature)
                for r in _share_rows(session, table, campaign_id)
                if not r.refusal
            ]
            for part, table in _TABLES.items()
        }
        return AggregateView(
            campaign=campaign,
            submissions=[serde.signed_from_entry(s.entry) for s in submissions],
            identity_keys=keys,
            ciphertexts=blobs,
            digest=row.digest,
            noise=[(n.body, n.signature) for n in noise],
            target_digest=vector.digest(ready[1]) if ready is not None else b"",
            indicator_shares=signed["indicators"],
            value_shares=signed["values"],
            result=get_signed_result(engine, campaign_id)
            if campaign.state is CampaignState.RELEASED
            else None,
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
    """Store a trustee's signed openings of one part; release once t valid ones are in.

    A share must either carry openings or say why the trustee refuses: an empty share would
    use up the trustee's one answer and have its real share ignored later.
    """
    where = f"{share.part} share for {share.campaign_id!r} from {share.trustee_id!r}"
    campaign = get_campaign(engine, share.campaign_id)
    if not share.shares and not share.refusal:
        raise InvalidRequestError(f"{where}: carries neither openings nor a refusal")
    table = _TABLES[share.part]
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
        if share.part == "values" and not share.refusal:
            counts = _indicator_counts(session, campaign)
            if counts is None:
                raise ConflictError(
                    f"{where}: t trustees have not yet opened the non-zero indicators"
                )
        session.add(
            table(
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


def _combine(
    session: Session, campaign: Campaign, part: str, target_ints: list[int]
) -> list[int] | None:
    """Rebuild one part from the stored openings; liars are marked refused and left out."""
    table = _TABLES[part]
    while True:
        rows = _share_rows(session, table, campaign.campaign_id)
        try:
            return combine_shares(campaign, target_ints, _openings(rows), part)
        except ShareError as error:
            # t honest shares may already be stored beside a lie: mark the liar, try again.
            for row in rows:
                if row.trustee_id in error.trustee_ids:
                    row.refusal = f"rejected by coordinator: {error}"
                    session.add(row)
            session.commit()


def _out_of_reach(session: Session, campaign: Campaign, part: str) -> str | None:
    """Why t openings of a part can no longer come in (None: they still can)."""
    refused = [
        row for row in _share_rows(session, _TABLES[part], campaign.campaign_id) if row.refusal
    ]
    if len(campaign.key.trustee_ids) - len(refused) >= campaign.key.threshold:
        return None
    return f"trustees refused or failed to open the {part}: " + "; ".join(
        f"{row.trustee_id}: {row.refusal}" for row in refused
    )


def try_release(engine: Engine, campaign_id: str) -> CampaignState:
    """Rebuild what is in; release, keep waiting, or fail when t or k is out of reach."""
    campaign = get_campaign(engine, campaign_id)
    if campaign.state is not CampaignState.AGGREGATED:
        return campaign.state
    with Session(engine) as session:
        ready = target(session, campaign)
        aggregate, _ = aggregate_of(session, campaign)
        contributors = aggregate.contributors
        if ready is None:
            return CampaignState.AGGREGATED
        target_ints = _ints(ready[1])
        totals: dict[str, list[int] | None] = {}
        for part in ("indicators", "values"):
            try:
                totals[part] = _combine(session, campaign, part, target_ints)
            except CryptoError as error:  # inconsistent or malformed shares from a contributor
                reason = f"the {part} cannot be rebuilt ({error}); nothing released"
                fail_campaign(session, campaign_id, contributors, reason)
                session.commit()
                return CampaignState.FAILED
            if totals[part] is None:
                unreachable = _out_of_reach(session, campaign, part)
                if unreachable is None:
                    return CampaignState.AGGREGATED
                fail_campaign(session, campaign_id, contributors, unreachable)
                session.commit()
                return CampaignState.FAILED
            if part == "indicators":
                problems = indicator_problems(campaign, contributors, totals[part] or [])
                if problems:
                    reason = "; ".join(problems) + "; the values were never opened"
                    fail_campaign(session, campaign_id, contributors, reason)
                    session.commit()
                    return CampaignState.FAILED
        try:
            sums = released_sums(campaign, contributors, totals["values"] or [])
        except CryptoError as error:
            fail_campaign(session, campaign_id, contributors, str(error))
            session.commit()
            return CampaignState.FAILED
        result = CampaignResult(
            campaign_id=campaign_id,
            state=CampaignState.RELEASED,
            contributors=contributors,
            metrics=tuple(
                MetricResult(m.name, m.unit, m.scale, total)
                for m, total in zip(campaign.metrics, sums, strict=True)
            ),
            released_unix_ms=now_ms(),
            aggregate_digest=aggregate.digest,
            epsilon=campaign.epsilon,
            delta=campaign.delta,
            nonzero=tuple(totals["indicators"] or ()),
        )
        if not set_state(session, campaign_id, CampaignState.AGGREGATED, CampaignState.RELEASED):
            return get_campaign(engine, campaign_id).state  # another replica released it
        store_result(session, result)
        session.commit()
        return CampaignState.RELEASED


def resume_releases(engine: Engine) -> list[str]:
    """Try the release of every aggregated campaign; return those it released (run at start).

    ``accept_share`` stores an opening, then tries the release: a coordinator killed between
    the two leaves the last needed opening stored and its campaign waiting for one that
    already came (trustees owe nothing more), until a release is tried again.
    """
    return [
        campaign.campaign_id
        for campaign in list_campaigns(engine, CampaignState.AGGREGATED)
        if try_release(engine, campaign.campaign_id) is CampaignState.RELEASED
    ]


def get_signed_result(engine: Engine, campaign_id: str) -> CampaignResult:
    """The stored result with every trustee signature received so far."""
    result = get_result(engine, campaign_id)
    with Session(engine) as session:
        rows = session.exec(
            select(ResultSignatureRow).where(ResultSignatureRow.campaign_id == campaign_id)
        ).all()
        signatures = tuple(ResultSignature(r.trustee_id, r.signature) for r in rows)
    return replace(result, signatures=signatures)


def accept_result_signature(
    engine: Engine, campaign_id: str, signature: ResultSignature
) -> CampaignState:
    """Store a trustee's signature over the released result, after checking it."""
    where = f"result signature for {campaign_id!r} from {signature.trustee_id!r}"
    campaign = get_campaign(engine, campaign_id)
    if campaign.state is not CampaignState.RELEASED:
        raise ConflictError(f"{where}: campaign is {campaign.state.value}, not released")
    keys = dict(campaign.key.holders())
    if signature.trustee_id not in keys:
        raise PermissionDeniedError(f"{where}: not a key holder of this campaign")
    message = result_message(get_result(engine, campaign_id), campaign.digest)
    try:
        signing.verify(
            keys[signature.trustee_id], message, signature.signature, context=RESULT_CONTEXT
        )
    except SignatureError as error:
        raise UnauthenticatedError(f"{where}: {error}") from None
    with Session(engine) as session:
        session.add(
            ResultSignatureRow(
                campaign_id=campaign_id,
                trustee_id=signature.trustee_id,
                signature=signature.signature,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            raise ConflictError(f"{where}: this trustee already signed") from None
    return campaign.state


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
            vector.from_bytes(share.ciphertexts, campaign.moduli)
        except CryptoError as error:
            raise InvalidRequestError(f"{where}: {error}") from None
        context = noise_proof_context(campaign.digest, share.trustee_id, share.aggregate_digest)
        if shares.unproven(campaign, [(share.ciphertexts, share.proofs, context)]):
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
