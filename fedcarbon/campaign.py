"""Campaigns as domain values: what an operator opens and an agent checks before contributing.

A campaign fixes everything that decides what leaves an agent: the metric schema (names,
units, fixed-point scale, bounds), the Paillier key and its holders, the packing layout, the
minimum cohort size k and the privacy parameters. Its digest is SHA-256 over a canonical JSON
form of all of that, and every submission signs the digest, so none of it can be changed
under an agent after it has looked.
"""

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import date
from enum import StrEnum

from fedcarbon.audit.errors import SignatureError
from fedcarbon.crypto.packing import MetricBounds, PackingLayout, plan_packing
from fedcarbon.crypto.shamir import field_prime
from fedcarbon.dp import NoisePlan, plan_noise
from fedcarbon.errors import CampaignError
from fedcarbon.trustee_keys import KeyStatement, statements_fingerprint

# Privacy model point 2: nothing is released below k contributors; 3 is the floor we allow.
DEFAULT_MIN_CONTRIBUTORS = 3
MIN_MIN_CONTRIBUTORS = 2
DEFAULT_MAX_CONTRIBUTORS = 10_000
# Metric bounds travel as int64 (campaign.proto, Metric.min/max).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class CampaignKind(StrEnum):
    SUPPLY_CHAIN = "supply_chain"
    BENCHMARK = "benchmark"


class CampaignState(StrEnum):
    OPEN = "open"
    AGGREGATED = "aggregated"
    RELEASED = "released"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One value each participant contributes, at ``scale`` decimal places, within bounds."""

    name: str
    unit: str
    scale: int
    min: int
    max: int
    description: str = ""

    @property
    def bounds(self) -> MetricBounds:
        return MetricBounds(self.name, self.min, self.max)


@dataclass(frozen=True, slots=True)
class CampaignKey:
    """Who can decrypt: one signed Paillier key per trustee, any ``threshold`` of them together.

    Dealer-free (docs/threshold.md): each trustee made its own key for this campaign and
    signed a statement of it; agents Shamir-share every packed slot over these keys. A single
    statement with threshold 1 is the single-holder mode kept for ``min_threshold = 1`` test
    setups.
    """

    statements: tuple[KeyStatement, ...]
    threshold: int

    @property
    def trustee_ids(self) -> tuple[str, ...]:
        return tuple(statement.trustee_id for statement in self.statements)

    @property
    def moduli(self) -> tuple[int, ...]:
        return tuple(statement.paillier_n for statement in self.statements)

    @property
    def bits(self) -> int:
        """The weakest trustee key's size: what policies compare against their minimum."""
        return min((statement.bits for statement in self.statements), default=0)

    @property
    def fingerprint(self) -> str:
        """What trustees and agents compare out of band: SHA-256 over the signed statements."""
        return statements_fingerprint(self.statements, self.threshold)

    def holders(self) -> list[tuple[str, bytes]]:
        """(trustee id, Ed25519 identity key) of every key holder, as signed in its statement."""
        return [(s.trustee_id, s.identity_key) for s in self.statements]


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: str
    kind: CampaignKind
    title: str
    period_start: date
    period_end: date
    metrics: tuple[MetricSpec, ...]
    key: CampaignKey
    packing: PackingLayout
    min_contributors: int = DEFAULT_MIN_CONTRIBUTORS
    max_contributors: int = DEFAULT_MAX_CONTRIBUTORS
    epsilon: float = 0.0
    delta: float = 0.0
    buyer_id: str = ""
    invited: tuple[str, ...] = ()
    cohort: str = ""
    state: CampaignState = CampaignState.OPEN
    created_unix_ms: int = 0

    @property
    def bounds(self) -> list[MetricBounds]:
        return [metric.bounds for metric in self.metrics]

    @property
    def digest(self) -> bytes:
        """SHA-256 over the canonical definition (state excluded: it changes, the terms do not)."""
        return campaign_digest(self)

    @property
    def noise(self) -> NoisePlan | None:
        """How trustees noise the release (None: exact release, epsilon 0)."""
        return plan_noise(
            [m.name for m in self.metrics],
            [(m.min, m.max) for m in self.metrics],
            self.epsilon,
            self.delta,
            len(self.key.trustee_ids),
            self.key.threshold,
        )

    @property
    def prime(self) -> int:
        """The field of this campaign's Shamir shares (fedcarbon.crypto.shamir)."""
        return share_prime(self.metrics, self.max_contributors, self.noise)

    @property
    def block(self) -> int:
        """Ciphertexts per trustee: the value plaintexts, then as many for non-zero indicators."""
        return 2 * self.packing.ciphertexts

    @property
    def moduli(self) -> list[int]:
        """The Paillier modulus of each position of a submitted vector (trustee blocks in order)."""
        return [n for n in self.key.moduli for _ in range(self.block)]

    def block_range(self, trustee_index: int, part: str) -> range:
        """Positions of one trustee's ``"values"`` or ``"indicators"`` in a submitted vector."""
        start = trustee_index * self.block + (0 if part == "values" else self.packing.ciphertexts)
        return range(start, start + self.packing.ciphertexts)

    def with_state(self, state: CampaignState) -> "Campaign":
        return replace(self, state=state)

    def accepts(self, participant_id: str) -> bool:
        """Supply-chain campaigns with an invitation list are open to the invited only."""
        return not self.invited or participant_id in self.invited


def key_problems(key: CampaignKey, campaign_id: str) -> list[str]:
    """Why a campaign key cannot be trusted as stated (empty when it can).

    Every statement must carry a valid signature by the identity key it names and be made for
    this very campaign (a key serves one campaign only: reusing one would let a coordinator
    re-present old ciphertexts in a rigged campaign); trustees, identity keys and moduli must
    all be distinct, or "t of n" would mean fewer than t parties.
    """
    problems = []
    for statement in key.statements:
        try:
            statement.verify()
        except SignatureError as error:
            problems.append(f"key statement of {statement.trustee_id!r}: {error}")
        if statement.campaign_id != campaign_id:
            problems.append(
                f"key statement of {statement.trustee_id!r} was made for campaign "
                f"{statement.campaign_id!r}"
            )
    for what, values in (
        ("trustee", key.trustee_ids),
        ("identity key", [s.identity_key for s in key.statements]),
        ("Paillier modulus", key.moduli),
    ):
        if len(set(values)) != len(values):
            problems.append(f"a {what} appears twice among the key holders")
    return problems


def canonical_definition(campaign: Campaign) -> bytes:
    """Deterministic JSON of every term of the campaign (sorted keys, no whitespace)."""
    terms = asdict(campaign)
    terms.pop("state")
    terms["key"] = {
        "threshold": campaign.key.threshold,
        "statements": [
            {
                "trustee_id": s.trustee_id,
                "identity_key": s.identity_key.hex(),
                "paillier_n": f"{s.paillier_n:x}",
                "hs": f"{s.hs:x}",
                "hs_proof": s.hs_proof.hex(),
                "signature": s.signature.hex(),
            }
            for s in campaign.key.statements
        ],
    }
    terms["period_start"] = campaign.period_start.isoformat()
    terms["period_end"] = campaign.period_end.isoformat()
    return json.dumps(terms, sort_keys=True, separators=(",", ":")).encode()


def campaign_digest(campaign: Campaign) -> bytes:
    return hashlib.sha256(b"fedcarbon.v1.campaign\x00" + canonical_definition(campaign)).digest()


def largest_total(
    metrics: tuple[MetricSpec, ...], max_contributors: int, noise: NoisePlan | None
) -> int:
    """The largest slot total an honest cohort can produce: offset values plus noise offsets.

    Indicator slots (one 0/1 per metric and contributor) total at most ``max_contributors``.
    """
    widest = max((m.max - m.min for m in metrics), default=0)
    headroom = 0 if noise is None else noise.headroom()
    return max(widest * max_contributors, max_contributors) + headroom


def share_prime(
    metrics: tuple[MetricSpec, ...], max_contributors: int, noise: NoisePlan | None
) -> int:
    """The prime field P of the campaign's Shamir shares: above every total, so totals are exact."""
    return field_prime(largest_total(metrics, max_contributors, noise) + 1)


def planned_packing(
    metrics: tuple[MetricSpec, ...],
    max_contributors: int,
    key: CampaignKey,
    epsilon: float,
    delta: float,
) -> PackingLayout:
    """The one packing layout the terms imply, for one trustee's block of shares.

    A slot carries a Shamir share in [0, P); the coordinator adds up to ``max_contributors``
    submissions and one noise vector per trustee, so a slot must hold that many values below P
    without carrying into its neighbour.
    """
    trustees = len(key.statements)
    noise = plan_noise(
        [m.name for m in metrics],
        [(m.min, m.max) for m in metrics],
        epsilon,
        delta,
        trustees,
        key.threshold,
    )
    prime = share_prime(metrics, max_contributors, noise)
    return plan_packing(
        [MetricBounds(m.name, 0, prime - 1) for m in metrics],
        max_contributors + trustees,
        key.bits,
        headroom_bits=0,
    )


def new_campaign(
    *,
    campaign_id: str,
    kind: CampaignKind,
    title: str,
    period_start: date,
    period_end: date,
    metrics: tuple[MetricSpec, ...],
    key: CampaignKey,
    min_contributors: int = DEFAULT_MIN_CONTRIBUTORS,
    max_contributors: int = DEFAULT_MAX_CONTRIBUTORS,
    epsilon: float = 0.0,
    delta: float = 0.0,
    buyer_id: str = "",
    invited: tuple[str, ...] = (),
    cohort: str = "",
    created_unix_ms: int = 0,
) -> Campaign:
    """Validate the terms and derive the packing layout from bounds, cohort size and key."""
    where = f"campaign {campaign_id!r}"
    if not _ID_RE.match(campaign_id):
        raise CampaignError(
            f"{where}: id must be 1-63 characters of a-z, 0-9, '.', '_', '-' starting alphanumeric"
        )
    if period_end < period_start:
        raise CampaignError(f"{where}: period_end {period_end} is before period_start")
    if min_contributors < MIN_MIN_CONTRIBUTORS:
        raise CampaignError(
            f"{where}: min_contributors must be at least {MIN_MIN_CONTRIBUTORS}, "
            f"got {min_contributors}"
        )
    if max_contributors < min_contributors:
        raise CampaignError(f"{where}: max_contributors {max_contributors} < min_contributors")
    if not metrics:
        raise CampaignError(f"{where}: the metric schema is empty")
    for metric in metrics:
        if not INT64_MIN <= metric.min <= metric.max <= INT64_MAX:
            raise CampaignError(
                f"{where}: metric {metric.name!r} bounds [{metric.min}, {metric.max}] must satisfy "
                f"min <= max and fit the wire's 64-bit integers (scale {metric.scale})"
            )
        if metric.scale < 0 or metric.scale > 18:
            raise CampaignError(f"{where}: metric {metric.name!r} scale must be 0..18")
    names = [metric.name for metric in metrics]
    if len(set(names)) != len(names):
        raise CampaignError(f"{where}: metric names repeat: {names}")
    if epsilon < 0 or delta < 0 or delta >= 1:
        raise CampaignError(f"{where}: epsilon must be >= 0 and 0 <= delta < 1")
    if epsilon == 0 and delta > 0:
        raise CampaignError(
            f"{where}: delta {delta} without epsilon means nothing; set both or neither"
        )
    if kind is CampaignKind.SUPPLY_CHAIN and not buyer_id:
        raise CampaignError(f"{where}: a supply_chain campaign needs a buyer")
    if not key.statements:
        raise CampaignError(f"{where}: the key names no trustee")
    if not 1 <= key.threshold <= len(key.trustee_ids):
        raise CampaignError(
            f"{where}: threshold {key.threshold} must be between 1 and {len(key.trustee_ids)}"
        )
    problems = key_problems(key, campaign_id)
    if problems:
        raise CampaignError(f"{where}: inconsistent key: {'; '.join(problems)}")
    _check_noise_can_be_drawn(where, metrics, key, epsilon, delta)
    packing = planned_packing(metrics, max_contributors, key, epsilon, delta)
    return Campaign(
        campaign_id=campaign_id,
        kind=kind,
        title=title,
        period_start=period_start,
        period_end=period_end,
        metrics=metrics,
        key=key,
        packing=packing,
        min_contributors=min_contributors,
        max_contributors=max_contributors,
        epsilon=epsilon,
        delta=delta,
        buyer_id=buyer_id,
        invited=invited,
        cohort=cohort,
        created_unix_ms=created_unix_ms,
    )


def _check_noise_can_be_drawn(
    where: str, metrics: tuple[MetricSpec, ...], key: CampaignKey, epsilon: float, delta: float
) -> None:
    """Refuse at creation a noise plan trustees could not sample, rather than after closing.

    Colluder-tolerant shares are drawn in floating point up to MAX_SHARE_SCALE
    (fedcarbon.privacy.calibration); the scale is bound / epsilon per metric, so a wide bound
    (the default 10^12 kg) with a small epsilon share exceeds it.
    """
    from fedcarbon.privacy.calibration import MAX_SHARE_SCALE

    plan = plan_noise(
        [m.name for m in metrics],
        [(m.min, m.max) for m in metrics],
        epsilon,
        delta,
        len(key.trustee_ids),
        key.threshold,
    )
    if plan is None:
        return
    for metric, spec in zip(metrics, plan.specs, strict=True):
        if spec is not None and spec.honest_parties > 1 and spec.scale > MAX_SHARE_SCALE:
            raise CampaignError(
                f"{where}: metric {metric.name!r}: with bounds [{metric.min}, {metric.max}] "
                f"(scale {metric.scale}) and epsilon {float(spec.epsilon):.3g} for it, the noise "
                f"scale {float(spec.scale):.3g} exceeds what trustees can draw "
                f"({float(MAX_SHARE_SCALE):.3g}); set tighter bounds or a larger epsilon"
            )
