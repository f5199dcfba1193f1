"""Campaigns on the coordinator: create, read, close and aggregate.

Closing a campaign adds the ciphertext vectors of all accepted submissions (multiplication
modulo n^2, fedcarbon.crypto.vector.add_vectors). An aggregate is only formed when at least
k distinct participants contributed (privacy model point 2); otherwise the campaign fails
and nothing is ever decrypted for it.
"""

import json
import logging
from collections.abc import Iterable, Iterator

from sqlalchemy import Engine, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from coordinator import transitions
from coordinator.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    UnavailableError,
)
from coordinator.log import TransparencyLog
from coordinator.membership import legal_entities
from coordinator.store import (
    AggregateRow,
    CampaignRow,
    CohortEntryRow,
    Participant,
    ResultRow,
    SubmissionRow,
)
from fedcarbon import serde
from fedcarbon.campaign import DEFAULT_MIN_CONTRIBUTORS, Campaign, CampaignState
from fedcarbon.cohorts import cohort_of, cohort_to_entry
from fedcarbon.crypto import vector
from fedcarbon.crypto.vector import MIN_KEY_BITS
from fedcarbon.errors import WireError
from fedcarbon.federation.manifest import Manifest
from fedcarbon.results import CampaignResult
from fedcarbon.submission import entry_id
from fedcarbon.v1 import campaign_pb2, result_pb2

log = logging.getLogger("fedcarbon.coordinator")

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


def create_campaign(engine: Engine, campaign: Campaign, *, allow_weak: bool = False) -> Campaign:
    """Store a new campaign whose key holders are enrolled trustees, each with its own key.

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
        for statement in campaign.key.statements:
            trustee = session.get(Participant, statement.trustee_id)
            if trustee is None or trustee.role != "trustee":
                raise InvalidRequestError(
                    f"campaign {campaign.campaign_id!r}: {statement.trustee_id!r} is not an "
                    "enrolled trustee"
                )
            if trustee.identity_key != statement.identity_key:
                raise InvalidRequestError(
                    f"campaign {campaign.campaign_id!r}: the key statement of "
                    f"{statement.trustee_id!r} is signed by another identity key than the "
                    "trustee enrolled with"
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
        moduli = set(campaign.key.moduli)
        for other in session.exec(select(CampaignRow)).all():
            if moduli & set(_key_moduli(other)):
                raise InvalidRequestError(
                    f"campaign {campaign.campaign_id!r} reuses a key of campaign "
                    f"{other.campaign_id!r}; every campaign needs its own keys"
                )
        session.add(_to_row(campaign, weak_allowed=bool(weak)))
        transitions.record(session, campaign.campaign_id, None, CampaignState.OPEN)
        session.commit()
    return campaign


def _key_moduli(row: CampaignRow) -> list[int]:
    """The Paillier moduli a stored campaign names (read from the raw definition, any scheme)."""
    message = campaign_pb2.Campaign()
    message.ParseFromString(row.definition)
    return [int.from_bytes(k.paillier_n, "big") for k in message.key.trustee_keys]


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
        listed = []
        for row in session.exec(query).all():
            try:
                listed.append(_from_row(row))
            except WireError as error:
                # A stored campaign that no longer checks out (a retired key scheme, or terms
                # that do not match their key statements) is served to nobody, and does not
                # hide the others: `coordinator migrate` retires it.
                log.warning(
                    "campaign not served", extra={"campaign": row.campaign_id, "why": str(error)}
                )
        return listed


def set_state(session: Session, campaign_id: str, old: CampaignState, new: CampaignState) -> bool:
    """Compare-and-set on the state: exactly one caller wins a transition.

    ``old == new`` only locks the row (submissions use it to hold a campaign open); that is
    not a change, so it is not reported to the state watchers (coordinator/transitions.py).
    """
    result = session.exec(
        update(CampaignRow)
        .where(CampaignRow.campaign_id == campaign_id)  # type: ignore[arg-type]
        .where(CampaignRow.state == old.value)  # type: ignore[arg-type]
        .values(state=new.value)
    )
    if result.rowcount != 1:
        return False
    if old is not new:
        transitions.record(session, campaign_id, old, new)
    return True


def submission_count(session: Session, campaign_id: str) -> int:
    return int(
        session.exec(select(func.count()).where(SubmissionRow.campaign_id == campaign_id)).one()
    )


def _entries(session: Session, campaign_id: str) -> Iterator[bytes]:
    """The campaign's submission entries in log order, fetched a page at a time."""
    query = (
        select(SubmissionRow.entry)
        .where(SubmissionRow.campaign_id == campaign_id)
        .order_by(SubmissionRow.leaf_index)  # type: ignore[arg-type]
        .execution_options(yield_per=256)
    )
    yield from session.exec(query)


def aggregate_submissions(campaign: Campaign, entries: Iterable[bytes]) -> list[int]:
    """The homomorphic sum of the submissions' ciphertext vectors (also run by trustees).

    Folded one vector at a time, so memory does not grow with the number of submissions.
    """
    moduli = campaign.moduli
    return vector.add_vectors(
        (
            vector.from_bytes(
                serde.body_from_bytes(serde.signed_from_entry(e).body).ciphertexts, moduli
            )
            for e in entries
        ),
        moduli,
    )


_CLOSE_RETRIES = 5


def close_campaign(
    engine: Engine, campaign_id: str, manifest: Manifest | None = None
) -> tuple[CampaignState, str]:
    """Stop accepting submissions; aggregate if at least k contributed, else fail.

    With a federation manifest, k counts distinct legal entities among contributors attested
    by enough of its trustees and registrars, and an unattested contributor fails the
    campaign (trustees would refuse the aggregate anyway). Without one, k counts participant
    ids: a federation that never installed a manifest (tests, min_threshold = 1 setups).

    An aggregated campaign's cohort (its sorted contributor ids and what is released about
    them) is appended to the transparency log in the same transaction, so agents and
    trustees can check it against every other exact release (fedcarbon/cohorts.py).
    """
    campaign = get_campaign(engine, campaign_id)
    if campaign.state is not CampaignState.OPEN:
        raise ConflictError(f"campaign {campaign_id!r} is {campaign.state.value}, not open")
    for _ in range(_CLOSE_RETRIES):
        try:
            return _close(engine, campaign, manifest)
        except IntegrityError:
            continue  # another replica took the next log index: the transaction rolled back
    raise UnavailableError(f"campaign {campaign_id!r}: could not append its cohort to the log")


def _close(
    engine: Engine, campaign: Campaign, manifest: Manifest | None
) -> tuple[CampaignState, str]:
    campaign_id = campaign.campaign_id
    with Session(engine) as session:
        # Claim the transition first: it locks the row, so no submission slips in between
        # reading the submissions and storing their aggregate.
        if not set_state(session, campaign_id, CampaignState.OPEN, CampaignState.AGGREGATED):
            raise ConflictError(f"campaign {campaign_id!r} changed state while closing")
        contributors = sorted(
            set(
                session.exec(
                    select(SubmissionRow.participant_id).where(
                        SubmissionRow.campaign_id == campaign_id
                    )
                ).all()
            )
        )
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
        total = aggregate_submissions(campaign, _entries(session, campaign_id))
        blobs = vector.to_bytes(total, campaign.moduli)
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
        _stage_cohort(session, campaign, contributors)
        session.commit()
    return CampaignState.AGGREGATED, f"{len(contributors)} contributors aggregated"


def _stage_cohort(session: Session, campaign: Campaign, contributors: list[str]) -> None:
    """Add the campaign's cohort entry as the next log leaf (the caller commits)."""
    entry = cohort_to_entry(cohort_of(campaign, contributors))
    index = TransparencyLog.next_index(session)
    session.add(
        CohortEntryRow(
            campaign_id=campaign.campaign_id,
            entry_id=entry_id(entry),
            entry=entry,
            leaf_index=index,
        )
    )
    TransparencyLog.stage(session, index, entry_id(entry), entry)


def publish_missing_cohorts(engine: Engine) -> list[str]:
    """Log the cohorts of campaigns aggregated before cohort entries existed (an upgrade).

    Run at start-up. Released campaigns get theirs too, so that later exact campaigns are
    compared with them; failed ones released nothing and are left out.
    """
    with Session(engine) as session:
        published = set(session.exec(select(CohortEntryRow.campaign_id)).all())
        aggregates = list(session.exec(select(AggregateRow)).all())
    done = []
    for row in sorted(aggregates, key=lambda r: r.created_unix_ms):
        if row.campaign_id in published:
            continue
        campaign = get_campaign(engine, row.campaign_id)
        if campaign.state not in (CampaignState.AGGREGATED, CampaignState.RELEASED):
            continue
        for _ in range(_CLOSE_RETRIES):
            with Session(engine) as session:
                if session.get(CohortEntryRow, row.campaign_id) is not None:
                    break  # another replica published it
                _stage_cohort(session, campaign, json.loads(row.contributor_ids))
                try:
                    session.commit()
                except IntegrityError:
                    continue
                done.append(row.campaign_id)
                break
    return done


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
    return row, vector.split_concatenated(row.ciphertexts, campaign.moduli)


RETIRED_KEY_SCHEMES = (campaign_pb2.KEY_SCHEME_SINGLE_HOLDER, campaign_pb2.KEY_SCHEME_THRESHOLD)


def retire_dealt_campaigns(engine: Engine) -> list[str]:
    """Fail every open or aggregated campaign that still uses a dealt key (fedcarbon 0.1).

    Their keys were made by a dealer who saw the whole private key (issue 12); they are no
    longer served (``list_campaigns`` skips them) and must not be decrypted. Released and
    failed campaigns keep their stored results. Returns the campaign ids retired.
    """
    retired = []
    with Session(engine) as session:
        for row in session.exec(select(CampaignRow)).all():
            message = campaign_pb2.Campaign()
            try:
                message.ParseFromString(row.definition)
            except Exception:  # protobuf's DecodeError: not a campaign this can judge
                continue
            if message.key.scheme not in RETIRED_KEY_SCHEMES:
                continue
            state = CampaignState(row.state)
            if state not in (CampaignState.OPEN, CampaignState.AGGREGATED):
                continue
            if state is CampaignState.OPEN:
                set_state(session, row.campaign_id, CampaignState.OPEN, CampaignState.AGGREGATED)
            fail_campaign(
                session,
                row.campaign_id,
                0,
                "retired: its key was dealt by a single party (fedcarbon 0.1); re-open the "
                "campaign with dealer-free trustee keys (`fedcarbon trustee keygen`)",
            )
            retired.append(row.campaign_id)
        session.commit()
    return retired
