"""Purchase-line mappings kept in the agent's store: confirmed codes, and the audit of each use.

A spend line without a code (activity ``spend.unmatched``, see ``fedcarbon.matching``) gets its
NAICS-6 code here, before the footprint is computed:

1. a mapping a person confirmed or overrode for the same text (exact, or a near-duplicate the
   matcher scores high enough) is used first;
2. otherwise the offline matcher's best candidate is used if its calibrated confidence reaches
   the auto-accept threshold;
3. otherwise the line waits for review (``fedcarbon agent mappings review``) and is reported as
   rejected, never silently dropped or guessed.

Every mapping used is written to ``MappingUse`` with the input text, the candidates and scores,
the chosen code, who confirmed it and when (or that the matcher auto-accepted it), the matcher
version and the SHA-256 of the reference list and factor data. Nothing here leaves the machine.
"""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import BigInteger, Engine
from sqlmodel import Field, Session, SQLModel, select

from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.adapters.contract import Rejected
from fedcarbon.matching import UNMATCHED_ACTIVITY
from fedcarbon.matching.lines import MAX_DESCRIPTION
from fedcarbon.matching.matcher import (
    AUTO_ACCEPT,
    MATCHER_VERSION,
    Candidate,
    Confirmed,
    Decision,
    History,
    Match,
    Matcher,
    default_matcher,
    exact_key,
)
from fedcarbon.matching.reference import load_reference

AUTO_MAPPED = "matcher (auto-accept)"
"""``confirmed_by`` of a mapping nobody confirmed: the matcher's confidence was high enough."""


class ConfirmedMapping(SQLModel, table=True):
    """A code a person chose for a purchase-line text; the latest choice per text wins."""

    key: str = Field(primary_key=True)
    description: str
    naics6: str
    suggested_naics6: str | None = None
    """The matcher's best candidate when it was confirmed (an override when it differs)."""
    confirmed_by: str
    confirmed_unix_ms: int = Field(sa_type=BigInteger)

    @property
    def is_override(self) -> bool:
        return self.suggested_naics6 is not None and self.suggested_naics6 != self.naics6


class MappingUse(SQLModel, table=True):
    """One purchase line mapped for a footprint: everything needed to re-trace the choice."""

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(index=True)
    description: str
    candidates_json: str
    naics6: str
    decision: str
    """``confirmed`` or ``override`` (this exact text), ``near-duplicate`` (of a confirmed
    text), or ``auto-accept`` (the matcher's confidence reached the threshold)."""
    confirmed_by: str
    confirmed_unix_ms: int = Field(sa_type=BigInteger)
    used_unix_ms: int = Field(sa_type=BigInteger)
    matcher_version: str
    reference_sha256: str
    factors_sha256: str


_TABLES = [ConfirmedMapping.__table__, MappingUse.__table__]  # type: ignore[attr-defined]


def _ready(engine: Engine) -> Engine:
    SQLModel.metadata.create_all(engine, tables=_TABLES)
    return engine


def confirmed(engine: Engine) -> list[ConfirmedMapping]:
    """Every confirmed mapping, oldest first."""
    with Session(_ready(engine)) as session:
        query = select(ConfirmedMapping).order_by(
            ConfirmedMapping.confirmed_unix_ms  # type: ignore[arg-type]
        )
        return list(session.exec(query).all())


def history(engine: Engine) -> History:
    """The confirmed mappings as the matcher's history (looked up before the reference list)."""
    return History(Confirmed(m.description, m.naics6) for m in confirmed(engine))


def confirm(
    engine: Engine,
    description: str,
    naics6: str,
    *,
    by: str,
    suggested: str | None = None,
    when_ms: int | None = None,
) -> ConfirmedMapping:
    """Store (or replace) the code a person chose for ``description``.

    Raises:
        ValueError: the description is empty or too long, nobody is named, or the code has no
            EPA spend factor.
    """
    text = " ".join(description.split())
    if not text:
        raise ValueError("description is empty")
    if len(text) > MAX_DESCRIPTION:
        raise ValueError(f"description has {len(text)} characters (at most {MAX_DESCRIPTION})")
    if naics6 not in load_reference().titles:
        raise ValueError(
            f"{naics6!r} is not a NAICS-6 code with an EPA v1.2 spend factor "
            "(see `fedcarbon factors list --prefix spend.naics.`)"
        )
    if not by.strip():
        raise ValueError("who confirmed the mapping is empty")
    row = ConfirmedMapping(
        key=exact_key(text),
        description=text,
        naics6=naics6,
        suggested_naics6=suggested,
        confirmed_by=by.strip(),
        confirmed_unix_ms=when_ms if when_ms is not None else int(time.time() * 1000),
    )
    with Session(_ready(engine)) as session:
        session.merge(row)
        session.commit()
        stored = session.get(ConfirmedMapping, row.key)
        assert stored is not None
        session.expunge(stored)
        return stored


def forget(engine: Engine, description: str) -> bool:
    """Delete the confirmed mapping of ``description``; False when there was none."""
    with Session(_ready(engine)) as session:
        row = session.get(ConfirmedMapping, exact_key(description))
        if row is None:
            return False
        session.delete(row)
        session.commit()
        return True


def uses(engine: Engine, record_id: str | None = None) -> list[MappingUse]:
    """The audit trail, newest first (of one record when ``record_id`` is given)."""
    with Session(_ready(engine)) as session:
        query = select(MappingUse)
        if record_id is not None:
            query = query.where(MappingUse.record_id == record_id)
        query = query.order_by(MappingUse.id.desc())  # type: ignore[union-attr]
        return list(session.exec(query).all())


def candidates_to_json(candidates: Sequence[Candidate]) -> str:
    return json.dumps(
        [
            {
                "naics6": c.naics6,
                "title": c.title,
                "score": c.score,
                "reason": c.reason,
                "source": c.source,
            }
            for c in candidates
        ],
        ensure_ascii=False,
    )


@dataclass
class Resolution:
    """Records with codes filled in, lines waiting for review, and how each line was mapped."""

    records: list[ActivityRecord] = field(default_factory=list)
    pending: list[tuple[ActivityRecord, Match]] = field(default_factory=list)
    used: list[MappingUse] = field(default_factory=list)

    @property
    def rejected(self) -> list[Rejected]:
        """The pending lines as rejections naming the record and what to do."""
        return [
            Rejected(
                record.source or "spend line",
                record.record_id,
                f"description {record.description!r} has no confirmed code "
                f"({_pending_reason(match)}); run `fedcarbon agent mappings review`",
            )
            for record, match in self.pending
        ]

    def auto_mapped(self) -> list[MappingUse]:
        return [u for u in self.used if u.decision == Decision.AUTO.value]


def _pending_reason(match: Match) -> str:
    best = match.best
    if best is None:
        return "no candidate"
    return f"best candidate {best.naics6} at confidence {best.score:.2f}"


def pending_matches(
    engine: Engine, records: Sequence[ActivityRecord], matcher: Matcher | None = None
) -> list[tuple[ActivityRecord, Match]]:
    """Every spend line with a description, with the matcher's suggestions (history first)."""
    lines = [r for r in records if r.activity == UNMATCHED_ACTIVITY and r.description]
    if not lines:
        return []
    found = (matcher or default_matcher()).match(
        [r.description or "" for r in lines], history=history(engine)
    )
    return list(zip(lines, found, strict=True))


def resolve(
    engine: Engine,
    records: Sequence[ActivityRecord],
    matcher: Matcher | None = None,
    *,
    now_ms: int | None = None,
) -> Resolution:
    """Give every ``spend.unmatched`` record a ``spend.naics.<code>`` activity, or hold it back.

    Lines without a description are held back too (nothing to match). Each mapping used is
    written to the audit trail (``MappingUse``) before it is returned.
    """
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    matcher = matcher or default_matcher()
    reference = matcher.reference
    result = Resolution()
    by_key = {m.key: m for m in confirmed(engine)}
    matched = {id(r): m for r, m in pending_matches(engine, records, matcher)}
    for record in records:
        if record.activity != UNMATCHED_ACTIVITY:
            result.records.append(record)
            continue
        match = matched.get(id(record), Match(record.description or "", ()))
        use = _choose(record, match, by_key, now)
        if use is None:
            result.pending.append((record, match))
            continue
        use.reference_sha256 = reference.reference_sha256
        use.factors_sha256 = reference.factors_sha256
        result.used.append(use)
        result.records.append(replace(record, activity=f"spend.naics.{use.naics6}"))
    if result.used:
        with Session(_ready(engine)) as session:
            session.add_all(result.used)
            session.commit()
            for use in result.used:
                session.refresh(use)
                session.expunge(use)
    return result


def _choose(
    record: ActivityRecord, match: Match, by_key: dict[str, ConfirmedMapping], now: int
) -> MappingUse | None:
    """The mapping to use: this text's confirmed code, else a confident enough candidate."""
    exact = by_key.get(exact_key(record.description or "")) if record.description else None
    if exact is not None:
        decision = "override" if exact.is_override else "confirmed"
        return _use(
            record, match, exact.naics6, decision, exact.confirmed_by, exact.confirmed_unix_ms, now
        )
    best = match.best
    if best is None or best.score < AUTO_ACCEPT:
        return None
    if best.source == "confirmed":
        near = _confirmed_for(best, by_key)
        if near is not None:
            return _use(
                record,
                match,
                best.naics6,
                "near-duplicate",
                near.confirmed_by,
                near.confirmed_unix_ms,
                now,
            )
    return _use(record, match, best.naics6, Decision.AUTO.value, AUTO_MAPPED, now, now)


def _confirmed_for(
    candidate: Candidate, by_key: dict[str, ConfirmedMapping]
) -> ConfirmedMapping | None:
    # The reason of a history candidate quotes the confirmed text: find that mapping.
    for mapping in by_key.values():
        if mapping.naics6 == candidate.naics6 and repr(mapping.description) in candidate.reason:
            return mapping
    return None


def _use(
    record: ActivityRecord,
    match: Match,
    naics6: str,
    decision: str,
    by: str,
    when: int,
    now: int,
) -> MappingUse:
    return MappingUse(
        record_id=record.record_id,
        description=record.description or "",
        candidates_json=candidates_to_json(match.candidates),
        naics6=naics6,
        decision=decision,
        confirmed_by=by,
        confirmed_unix_ms=when,
        used_unix_ms=now,
        matcher_version=MATCHER_VERSION,
        reference_sha256="",
        factors_sha256="",
    )
