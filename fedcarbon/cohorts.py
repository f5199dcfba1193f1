"""Published cohorts and the differencing guard: no two exact releases may isolate a member.

Two exact (epsilon 0) sums of the same quantity over cohorts A and B reveal
``sum(B - A) - sum(A - B)``: when the two cohorts differ by a single member, that is the
member's figure (the "tracker" of Denning, Denning and Schwartz, ACM TODS 4(1), 1979;
THREAT_MODEL.md item 7). The guard therefore refuses a release whose cohort differs from an
earlier exact cohort on the same quantity by more than nothing but fewer than k members (the
symmetric difference ``|A xor B|``, counted in legal entities), and one that, combined with
any earlier exact releases, would reveal a single member's figure.

The coordinator appends a *cohort entry* to the transparency log when it closes a campaign;
agents and trustees read every cohort entry from the verified log, so both check the same
public facts. A cohort entry is the prefix ``fedcarbon.v1.cohort`` and a NUL byte followed
by canonical JSON (sorted keys, no whitespace). The prefix starts with byte 0x66, which is
not a valid protobuf tag (wire type 6), so no cohort entry parses as a submission and no
submission starts with the prefix.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from fedcarbon.campaign import Campaign, CampaignKind
from fedcarbon.dp import UNNOISED_METRICS
from fedcarbon.errors import WireError

COHORT_ENTRY_PREFIX = b"fedcarbon.v1.cohort\x00"
COHORT_FORMAT = "fedcarbon.cohort.v1"
# A cohort entry larger than this is refused before parsing (10,000 ids of 64 chars fit).
MAX_COHORT_ENTRY_BYTES = 1 << 20
# Metrics that depend on the campaign's buyer: the same name for two buyers is two quantities.
BUYER_SPECIFIC_METRICS = frozenset({"delivered_to_buyer_kgco2e"})
_FIELDS = (
    "format",
    "campaign_id",
    "campaign_digest",
    "contributors",
    "metrics",
    "period",
    "audience",
    "epsilon",
)


def period_of(campaign: Campaign) -> str:
    """The reporting period as ledgers compare it (the same label as privacy budgets)."""
    return f"{campaign.period_start.isoformat()}..{campaign.period_end.isoformat()}"


def audience_of(campaign: Campaign) -> str:
    """Who the release is for: the buyer of a supply-chain campaign, else the cohort label."""
    if campaign.kind is CampaignKind.SUPPLY_CHAIN:
        return campaign.buyer_id
    return campaign.cohort


@dataclass(frozen=True, slots=True)
class Cohort:
    """Who contributed to one campaign's release, and what was released about them."""

    campaign_id: str
    campaign_digest: bytes
    contributors: tuple[str, ...]
    metrics: tuple[str, ...]
    period: str
    audience: str
    epsilon: float

    @property
    def exact(self) -> bool:
        return self.epsilon == 0

    def quantities(self) -> set[tuple[str, str, str]]:
        """(metric, period, buyer) of every confidential figure summed by this release.

        The ``participants`` count is left out: each contributor adds a public 1, so its
        difference only repeats what the published cohorts already say.
        """
        return {
            (metric, self.period, self.audience if metric in BUYER_SPECIFIC_METRICS else "")
            for metric in self.metrics
            if metric not in UNNOISED_METRICS
        }


def cohort_of(campaign: Campaign, contributors: Iterable[str]) -> Cohort:
    """The cohort entry the coordinator publishes when it closes ``campaign``."""
    return Cohort(
        campaign_id=campaign.campaign_id,
        campaign_digest=campaign.digest,
        contributors=tuple(sorted(set(contributors))),
        metrics=tuple(m.name for m in campaign.metrics),
        period=period_of(campaign),
        audience=audience_of(campaign),
        epsilon=campaign.epsilon,
    )


def cohort_to_entry(cohort: Cohort) -> bytes:
    """The log entry: prefix, then canonical JSON."""
    document = {
        "format": COHORT_FORMAT,
        "campaign_id": cohort.campaign_id,
        "campaign_digest": cohort.campaign_digest.hex(),
        "contributors": sorted(cohort.contributors),
        "metrics": list(cohort.metrics),
        "period": cohort.period,
        "audience": cohort.audience,
        "epsilon": cohort.epsilon,
    }
    return COHORT_ENTRY_PREFIX + json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    ).encode("ascii")


def is_cohort_entry(entry: bytes) -> bool:
    return entry.startswith(COHORT_ENTRY_PREFIX)


def _str_list(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise WireError(f"cohort entry: {field} must be a list of non-empty strings")
    return tuple(value)


def cohort_from_entry(entry: bytes) -> Cohort:
    """Parse a cohort entry; every malformed field is named in the error."""
    if not is_cohort_entry(entry):
        raise WireError("log entry: not a cohort entry (missing the fedcarbon.v1.cohort prefix)")
    if len(entry) > MAX_COHORT_ENTRY_BYTES:
        raise WireError(f"cohort entry: larger than {MAX_COHORT_ENTRY_BYTES} bytes")
    try:
        document = json.loads(entry[len(COHORT_ENTRY_PREFIX) :].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"cohort entry: not JSON ({error})") from None
    if not isinstance(document, dict):
        raise WireError("cohort entry: not a JSON object")
    missing = [f for f in _FIELDS if f not in document]
    unknown = sorted(set(document) - set(_FIELDS))
    if missing or unknown:
        raise WireError(f"cohort entry: missing fields {missing}, unknown fields {unknown}")
    if document["format"] != COHORT_FORMAT:
        raise WireError(f"cohort entry: format {document['format']!r} is not {COHORT_FORMAT}")
    for field in ("campaign_id", "period", "audience", "campaign_digest"):
        if not isinstance(document[field], str):
            raise WireError(f"cohort entry: {field} must be a string")
    try:
        digest = bytes.fromhex(document["campaign_digest"])
    except ValueError:
        raise WireError("cohort entry: campaign_digest is not hex") from None
    epsilon = document["epsilon"]
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon < 0:
        raise WireError("cohort entry: epsilon must be a number >= 0")
    contributors = _str_list(document["contributors"], "contributors")
    if list(contributors) != sorted(set(contributors)):
        raise WireError("cohort entry: contributors must be sorted and distinct")
    return Cohort(
        campaign_id=document["campaign_id"],
        campaign_digest=digest,
        contributors=contributors,
        metrics=_str_list(document["metrics"], "metrics"),
        period=document["period"],
        audience=document["audience"],
        epsilon=float(epsilon),
    )


def logged_cohorts(entries: Sequence[bytes]) -> list[Cohort]:
    """Every cohort entry of a log, in log order (submissions are skipped)."""
    return [cohort_from_entry(e) for e in entries if is_cohort_entry(e)]


def _identity(participant_id: str) -> str:
    return participant_id


def determined_members(cohorts: Iterable[frozenset[str]]) -> set[str]:
    """Members whose own figure is a linear combination of the cohorts' exact sums.

    Auditing of SUM queries (F. Chin, "Security problems on inference control for SUM, MAX,
    and MIN queries", J. ACM 33(3), 1986): with each release a 0/1 row over the members,
    member v's figure can be derived iff the unit vector e_v lies in the row space. In the
    reduced row echelon form that holds iff some row is e_v itself (each pivot column is
    zero in every other row, so the only combination that can equal e_v is v's pivot row).
    Rows are kept sparse and exact (``Fraction``).
    """
    basis: dict[str, dict[str, Fraction]] = {}  # pivot member -> fully reduced row
    for members in cohorts:
        row = {m: Fraction(1) for m in members}
        for pivot, reduced in basis.items():
            factor = row.get(pivot)
            if factor:
                for member, value in reduced.items():
                    row[member] = row.get(member, Fraction(0)) - factor * value
        row = {m: v for m, v in row.items() if v}
        if not row:
            continue
        pivot = min(row)
        lead = row[pivot]
        row = {m: v / lead for m, v in row.items()}
        for other in basis.values():
            factor = other.get(pivot)
            if factor:
                for member, value in row.items():
                    other[member] = other.get(member, Fraction(0)) - factor * value
                for member in [m for m, v in other.items() if not v]:
                    del other[member]
        basis[pivot] = row
    return {pivot for pivot, row in basis.items() if len(row) == 1}


def _isolation_conflicts(
    candidate: Cohort, earlier: Sequence[Cohort], entity_of: Callable[[str], str]
) -> list[str]:
    """Members that the candidate, combined with any earlier exact releases, would isolate."""
    reasons = []
    for quantity in sorted(candidate.quantities()):
        others = [c for c in earlier if quantity in c.quantities()]
        rows = [frozenset(entity_of(p) for p in c.contributors) for c in others]
        before = determined_members(rows)
        mine = frozenset(entity_of(p) for p in candidate.contributors)
        newly = determined_members([*rows, mine]) - before
        if newly:
            names = ", ".join(repr(c.campaign_id) for c in others)
            reasons.append(
                f"combined with exact campaigns {names} ({quantity[0]}, {candidate.period}), "
                f"its release would reveal the figure of {len(newly)} member(s) on their own"
            )
    return reasons


def differencing_conflicts(
    candidate: Cohort,
    earlier: Iterable[Cohort],
    k: int,
    entity_of: Callable[[str], str] = _identity,
) -> list[str]:
    """Why releasing ``candidate`` exactly would isolate fewer than k members; empty if safe.

    For every earlier exact cohort that sums one of the same quantities (metric, period,
    and buyer for buyer-specific metrics), the symmetric difference of the two cohorts,
    counted in legal entities (``entity_of`` maps a participant id to its entity), must be
    empty (the same members) or at least k. Beyond pairs, no combination of the earlier
    releases and this one may reveal a single member's figure (``determined_members``). A
    noised candidate is not checked: its leak is bounded by the epsilon each agent spends
    (docs/privacy-accounting.md).
    """
    if not candidate.exact:
        return []
    previous = [c for c in earlier if c.exact and c.campaign_id != candidate.campaign_id]
    mine = {entity_of(p) for p in candidate.contributors}
    reasons = []
    for other in previous:
        shared = candidate.quantities() & other.quantities()
        if not shared:
            continue
        differ = len(mine ^ {entity_of(p) for p in other.contributors})
        if 0 < differ < k:
            names = ", ".join(sorted({metric for metric, _, _ in shared}))
            reasons.append(
                f"its cohort differs from that of exact campaign {other.campaign_id!r} "
                f"({names}, {candidate.period}) by {differ} member(s), fewer than k = {k}: "
                "the difference of the two releases would isolate them"
            )
    # Pairs first (they name the campaign); then any longer combination of releases.
    return reasons or _isolation_conflicts(candidate, previous, entity_of)
