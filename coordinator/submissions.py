"""Accepting a submission: authenticate, validate, store and log it, in that order.

Nothing is written until every check passed, and the submission, its log leaf and the
uniqueness of (campaign, participant) commit in one transaction: a rejected submission
changes nothing, a retried one counts once. Concurrent submissions share that transaction
and their proof checks (coordinator/batching.py): the receipt is sent only after the commit,
so a submission is durable before it is acknowledged.
"""

import threading
from dataclasses import dataclass

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from coordinator.batching import Combiner, ProofBatcher
from coordinator.campaigns import get_campaign, set_state
from coordinator.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
    UnavailableError,
)
from coordinator.log import TransparencyLog
from coordinator.store import CampaignRow, Participant, SubmissionRow, now_ms
from fedcarbon import serde
from fedcarbon.audit.errors import SignatureError
from fedcarbon.audit.receipts import Receipt
from fedcarbon.campaign import Campaign, CampaignState
from fedcarbon.crypto import fixedbase, shortexp, vector
from fedcarbon.crypto.errors import InvalidCiphertextError
from fedcarbon.errors import WireError
from fedcarbon.submission import (
    SignedSubmission,
    entry_id,
    submission_proof_context,
)

# Campaign keys whose h_s gets a fixed-base table in this process (about 13 MB and 15 P to
# build each, fedcarbon/crypto/fixedbase.py): within the process-wide cache, so that several
# open campaigns never make the tables evict one another and be rebuilt per submission.
MAX_TABLED_KEYS = fixedbase.MAX_TABLES

# Bodies larger than this are refused before parsing (a vector of a few 4096-bit
# ciphertexts is a few KB; this leaves ample room).
MAX_BODY_BYTES = 1 << 20
# Agents stamp submissions with the UTC day (agent/contribution.py); a clock a little ahead is
# tolerated, a stamp further in the future is refused (as trustee requests' are).
MAX_FUTURE_MS = 5 * 60 * 1000
_APPEND_RETRIES = 5
MAX_CACHED_CAMPAIGNS = 256


class SubmissionDesk:
    """Accepts submissions into the store and the transparency log."""

    def __init__(self, engine: Engine, log: TransparencyLog) -> None:
        self._engine = engine
        self._log = log
        self._tables_lock = threading.Lock()
        self._tabled: dict[str, list[shortexp.ShortExponentKey]] = {}  # campaign id -> keys
        # campaign id -> (stored definition, parsed campaign, digest): see _campaign
        self._campaigns: dict[str, tuple[bytes, Campaign, bytes]] = {}
        self._batcher = ProofBatcher()
        self._appender: Combiner[_Accepted, tuple[Receipt, bool]] = Combiner(self._record)

    def accept(self, signed: SignedSubmission, caller: str | None = None) -> tuple[Receipt, bool]:
        """Return the receipt and whether this exact submission had been accepted before.

        ``caller`` (the authenticated participant of the call, coordinator/auth.py) must be the
        submission's own participant: nobody relays another member's submission.
        """
        if len(signed.body) > MAX_BODY_BYTES:
            raise InvalidRequestError(f"submission body exceeds {MAX_BODY_BYTES} bytes")
        try:
            body = serde.body_from_bytes(signed.body)
        except WireError as error:
            raise InvalidRequestError(str(error)) from None
        where = f"submission to campaign {body.campaign_id!r} from {body.participant_id!r}"
        if caller is not None and caller != body.participant_id:
            raise PermissionDeniedError(f"{where}: sent by {caller!r}, not by its participant")
        ahead = body.created_unix_ms - now_ms()
        if ahead > MAX_FUTURE_MS:
            raise InvalidRequestError(
                f"{where}: created_unix_ms {body.created_unix_ms} is {ahead // 1000} s in the "
                f"future (at most {MAX_FUTURE_MS // 1000} s allowed; check the clock)"
            )
        with Session(self._engine) as session:  # one connection for every look-up
            participant = session.get(Participant, body.participant_id)
            if participant is None:
                raise UnauthenticatedError(f"{where}: unknown participant")
            try:
                signed.verify(participant.identity_key)
            except SignatureError as error:
                raise UnauthenticatedError(f"{where}: {error}") from None
            campaign, digest = self._campaign(session, body.campaign_id)
            existing = self._existing(session, body.campaign_id, body.participant_id)
        entry = serde.signed_to_entry(signed)
        submission_id = entry_id(entry)
        if existing is not None:
            if existing.submission_id == submission_id:
                return self._log.receipt(existing.leaf_index, existing.entry), True
            raise ConflictError(f"{where}: this participant already submitted to the campaign")
        if campaign.state is not CampaignState.OPEN:
            raise ConflictError(f"{where}: campaign is {campaign.state.value}, not open")
        if not campaign.accepts(body.participant_id):
            raise PermissionDeniedError(f"{where}: participant is not invited")
        if body.participant_id == campaign.buyer_id:
            raise PermissionDeniedError(f"{where}: the buyer does not contribute to its own total")
        if participant.role == "trustee":
            raise PermissionDeniedError(f"{where}: trustees do not contribute figures")
        if body.campaign_digest != digest:
            raise InvalidRequestError(f"{where}: campaign digest does not match its terms")
        try:
            vector.from_bytes(body.ciphertexts, campaign.moduli)
        except InvalidCiphertextError as error:
            raise InvalidRequestError(f"{where}: {error}") from None
        context = submission_proof_context(digest, body.participant_id)
        self._use_tables(campaign)
        if not self._batcher.proven(campaign, digest, body.ciphertexts, body.proofs, context):
            raise InvalidRequestError(
                f"{where}: a ciphertext lacks a valid proof of plaintext knowledge "
                "bound to this participant and campaign"
            )
        return self._appender(
            _Accepted(
                body.campaign_id,
                body.participant_id,
                submission_id,
                entry,
                campaign.max_contributors,
            )
        )

    def _campaign(self, session: Session, campaign_id: str) -> tuple[Campaign, bytes]:
        """The campaign with its current state, and its digest.

        Parsing the stored terms and hashing them cost about 1 P per submission; the terms
        never change once stored, so they are parsed and hashed once per process and reused
        while the stored definition is byte for byte the same. The state is read every time
        (and re-checked under the append lock).
        """
        row = session.get(CampaignRow, campaign_id)
        if row is None:
            raise NotFoundError(f"unknown campaign {campaign_id!r}")
        definition, state = bytes(row.definition), CampaignState(row.state)
        cached = self._campaigns.get(campaign_id)
        if cached is None or cached[0] != definition:
            campaign = get_campaign(self._engine, campaign_id)
            cached = (definition, campaign, campaign.digest)
            with self._tables_lock:
                if len(self._campaigns) >= MAX_CACHED_CAMPAIGNS:
                    self._campaigns.clear()
                self._campaigns[campaign_id] = cached
        return cached[1].with_state(state), cached[2]

    def _use_tables(self, campaign: Campaign) -> None:
        """Build the fixed-base tables of an open campaign's keys once, for its proof checks.

        Each batch check raises h_s to a ~785-bit exponent per trustee key: about 0.4 P with
        ``powmod``, a few hundredths of P from the table. Tables of campaigns no longer open
        are dropped first; past ``MAX_TABLED_KEYS`` keys a campaign is checked with ``powmod``
        (slower, never wrong).
        """
        keys = [statement.encryption_key for statement in campaign.key.statements]
        if all(fixedbase.cached(key.hs, key.nsquare) is not None for key in keys):
            return
        with self._tables_lock:  # one thread builds; the others wait and then find them built
            if campaign.campaign_id not in self._tabled:
                self._drop_closed_tables()
                if sum(map(len, self._tabled.values())) + len(keys) > MAX_TABLED_KEYS:
                    return
                self._tabled[campaign.campaign_id] = keys
            for key in keys:
                shortexp.precompute(key)

    def _drop_closed_tables(self) -> None:
        for campaign_id, keys in list(self._tabled.items()):
            try:
                still_open = get_campaign(self._engine, campaign_id).state is CampaignState.OPEN
            except NotFoundError:
                still_open = False
            if not still_open:
                for key in keys:
                    shortexp.forget(key)
                del self._tabled[campaign_id]

    @staticmethod
    def _existing(session: Session, campaign_id: str, participant_id: str) -> SubmissionRow | None:
        return session.exec(
            select(SubmissionRow)
            .where(SubmissionRow.campaign_id == campaign_id)
            .where(SubmissionRow.participant_id == participant_id)
        ).first()

    def _record(self, batch: list["_Accepted"]) -> list[tuple[Receipt, bool] | BaseException]:
        """Append a batch of checked submissions and answer each with its receipt.

        All of them in one transaction (``_append``); if that fails on a uniqueness
        constraint (the same participant twice, or another replica's append), each is
        appended on its own, so that the one at fault is named and the others go in.
        Receipts share one signed tree head, signed after the commit.
        """
        outcomes = self._append(batch)
        if outcomes is None:
            outcomes = [self._append_alone(item) for item in batch]
        receipts = iter(
            self._log.receipts(
                [
                    (outcome[0], item.entry)
                    for item, outcome in zip(batch, outcomes, strict=True)
                    if not isinstance(outcome, BaseException)
                ]
            )
        )
        return [
            outcome if isinstance(outcome, BaseException) else (next(receipts), outcome[1])
            for outcome in outcomes
        ]

    def _append_alone(self, item: "_Accepted") -> tuple[int, bool] | BaseException:
        for _ in range(_APPEND_RETRIES):
            outcome = self._append([item])
            if outcome is not None:
                return outcome[0]
            with Session(self._engine) as session:
                settled = self._settled(session, item)
            if settled is not None:
                return settled
            # another replica took this log index: try the next one
        return UnavailableError("could not append to the log after several attempts; try again")

    def _settled(
        self, session: Session, item: "_Accepted"
    ) -> tuple[int, bool] | BaseException | None:
        """The answer for an item whose participant already has a stored submission to the
        campaign: the same one sent twice (its leaf, a duplicate) or another (refused)."""
        existing = self._existing(session, item.campaign_id, item.participant_id)
        if existing is None:
            return None
        if existing.submission_id == item.submission_id:
            return existing.leaf_index, True
        return ConflictError(
            f"submission to campaign {item.campaign_id!r} from {item.participant_id!r}: "
            "already submitted"
        )

    def _append(self, batch: list["_Accepted"]) -> list[tuple[int, bool] | BaseException] | None:
        """Store and log ``batch`` in one transaction: (leaf index, duplicate) or the refusal
        of each item; None when the commit hit a uniqueness constraint (nothing written)."""
        outcomes: list[tuple[int, bool] | BaseException] = []
        # One batch at a time in this process (the combiner runs one); across replicas the
        # leaf index primary key serialises (a loser gets IntegrityError, None here). No
        # autoflush: the look-ups below must not flush this batch's rows early, so that a
        # uniqueness conflict surfaces at the commit, where it is handled.
        with Session(self._engine, autoflush=False) as session:
            room: dict[str, int | BaseException] = {}  # campaign id -> free slots, or refusal
            taken: dict[tuple[str, str], tuple[str, int]] = {}  # in this batch: -> (id, index)
            index: int | None = None  # read once the campaign row is locked
            for item in batch:
                where = f"submission to campaign {item.campaign_id!r} from {item.participant_id!r}"
                if item.campaign_id not in room:
                    room[item.campaign_id] = self._room(session, item)
                free = room[item.campaign_id]
                earlier = taken.get((item.campaign_id, item.participant_id))
                if earlier is not None:
                    outcomes.append(
                        (earlier[1], True)
                        if earlier[0] == item.submission_id
                        else ConflictError(f"{where}: already submitted")
                    )
                elif isinstance(free, BaseException) or free <= 0:
                    # A resend racing its original (stored by an earlier batch after this one's
                    # look-up) gets the original's answer, not the refusal a newcomer gets.
                    outcomes.append(
                        self._settled(session, item)
                        or (
                            free
                            if isinstance(free, BaseException)
                            else ConflictError(
                                f"campaign {item.campaign_id!r} is full: its slots are sized "
                                f"for {item.max_contributors} contributors"
                            )
                        )
                    )
                else:
                    if index is None:
                        index = TransparencyLog.next_index(session)
                    stage_submission(
                        session,
                        index,
                        item.submission_id,
                        item.campaign_id,
                        item.participant_id,
                        item.entry,
                    )
                    taken[(item.campaign_id, item.participant_id)] = (item.submission_id, index)
                    room[item.campaign_id] = free - 1
                    outcomes.append((index, False))
                    index += 1
            if not taken:
                return outcomes
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return None
        return outcomes

    @staticmethod
    def _room(session: Session, item: "_Accepted") -> int | BaseException:
        """Free contributor slots of the item's campaign, holding it open for this transaction.

        A no-op compare-and-set on the campaign row: it takes the write lock on SQLite and
        the row lock on PostgreSQL, so a concurrent close either sees these submissions or
        makes them fail here, never half of both.
        """
        if not set_state(session, item.campaign_id, CampaignState.OPEN, CampaignState.OPEN):
            return ConflictError(f"campaign {item.campaign_id!r} is no longer open")
        taken = session.exec(
            select(func.count()).where(SubmissionRow.campaign_id == item.campaign_id)
        ).one()
        return item.max_contributors - int(taken)


def stage_submission(
    session: Session,
    index: int,
    submission_id: str,
    campaign_id: str,
    participant_id: str,
    entry: bytes,
) -> None:
    """Add a submission's row and its log leaf at ``index`` to the session's transaction."""
    session.add(
        SubmissionRow(
            submission_id=submission_id,
            campaign_id=campaign_id,
            participant_id=participant_id,
            entry=entry,
            leaf_index=index,
        )
    )
    TransparencyLog.stage(session, index, submission_id, entry)


@dataclass(frozen=True)
class _Accepted:
    """A submission that passed every check, waiting to be stored and logged."""

    campaign_id: str
    participant_id: str
    submission_id: str
    entry: bytes
    max_contributors: int
