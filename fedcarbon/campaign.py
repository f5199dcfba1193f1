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

from fedcarbon.crypto.packing import (
    DEFAULT_HEADROOM_BITS,
    MetricBounds,
    PackingLayout,
    plan_packing,
)
from fedcarbon.dp import NoisePlan, plan_noise
from fedcarbon.errors import CampaignError

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


class KeyScheme(StrEnum):
    SINGLE_HOLDER = "single_holder"
    THRESHOLD = "threshold"


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
    """The campaign's Paillier public key and who holds the means to decrypt."""

    scheme: KeyScheme
    paillier_n: int
    trustee_ids: tuple[str, ...]
    threshold: int = 1
    threshold_public_key: bytes = b""

    @property
    def bits(self) -> int:
        return self.paillier_n.bit_length()

    @property
    def fingerprint(self) -> str:
        """What trustees and agents compare out of band to know they hold the same key.

        For threshold keys it is the threshold public key's own fingerprint (printed by the
        key ceremony); for a single holder, SHA-256 over n.
        """
        if self.threshold_public_key:
            from fedcarbon.crypto.threshold import ThresholdPublicKey

            return ThresholdPublicKey.from_bytes(self.threshold_public_key).fingerprint
        n_bytes = self.paillier_n.to_bytes((self.paillier_n.bit_length() + 7) // 8, "big")
        return hashlib.sha256(n_bytes).hexdigest()


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

    def with_state(self, state: CampaignState) -> "Campaign":
        return replace(self, state=state)

    def accepts(self, participant_id: str) -> bool:
        """Supply-chain campaigns with an invitation list are open to the invited only."""
        return not self.invited or participant_id in self.invited


def key_problems(key: CampaignKey) -> list[str]:
    """Why a campaign key's parts disagree (empty when consistent).

    Agents encrypt to ``paillier_n`` while the fingerprint they compare covers the threshold
    public key, so both must name the same modulus, threshold and number of trustees;
    otherwise an operator could show a genuine ceremony key and collect ciphertexts under
    a key of its own.
    """
    if key.scheme is KeyScheme.SINGLE_HOLDER:
        problems = []
        if key.threshold_public_key:
            problems.append("a single-holder key carries a threshold public key")
        if key.threshold != 1 or len(key.trustee_ids) != 1:
            problems.append("a single-holder key has exactly one trustee and threshold 1")
        return problems
    if not key.threshold_public_key:
        return ["a threshold key needs its threshold public key"]
    from fedcarbon.crypto.errors import CryptoError
    from fedcarbon.crypto.threshold import ThresholdPublicKey

    try:
        public = ThresholdPublicKey.from_bytes(key.threshold_public_key)
    except CryptoError as error:
        return [f"threshold public key: {error}"]
    problems = []
    if public.n != key.paillier_n:
        problems.append("paillier_n differs from the threshold public key's n")
    if public.threshold != key.threshold:
        problems.append(f"threshold {key.threshold} differs from the key's {public.threshold}")
    if public.n_parties != len(key.trustee_ids):
        problems.append(
            f"{len(key.trustee_ids)} trustees named for a key shared among {public.n_parties}"
        )
    return problems


def canonical_definition(campaign: Campaign) -> bytes:
    """Deterministic JSON of every term of the campaign (sorted keys, no whitespace)."""
    terms = asdict(campaign)
    terms.pop("state")
    terms["key"]["paillier_n"] = str(campaign.key.paillier_n)
    terms["key"]["threshold_public_key"] = campaign.key.threshold_public_key.hex()
    terms["period_start"] = campaign.period_start.isoformat()
    terms["period_end"] = campaign.period_end.isoformat()
    return json.dumps(terms, sort_keys=True, separators=(",", ":")).encode()


def campaign_digest(campaign: Campaign) -> bytes:
    return hashlib.sha256(b"fedcarbon.v1.campaign\x00" + canonical_definition(campaign)).digest()


def planned_packing(
    metrics: tuple[MetricSpec, ...],
    max_contributors: int,
    key: CampaignKey,
    epsilon: float,
    delta: float,
) -> PackingLayout:
    """The one packing layout the terms imply: slots for the largest cohort plus noise."""
    plan = plan_noise(
        [m.name for m in metrics],
        [(m.min, m.max) for m in metrics],
        epsilon,
        delta,
        len(key.trustee_ids),
        key.threshold,
    )
    headroom = (
        DEFAULT_HEADROOM_BITS
        if plan is None
        else max(DEFAULT_HEADROOM_BITS, plan.headroom().bit_length() + 1)
    )
    return plan_packing(
        [m.bounds for m in metrics], max_contributors, key.bits, headroom_bits=headroom
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
    if not key.trustee_ids:
        raise CampaignError(f"{where}: the key names no trustee")
    if not 1 <= key.threshold <= len(key.trustee_ids):
        raise CampaignError(
            f"{where}: threshold {key.threshold} must be between 1 and {len(key.trustee_ids)}"
        )
    if len(set(key.trustee_ids)) != len(key.trustee_ids):
        raise CampaignError(f"{where}: a trustee is named twice")
    problems = key_problems(key)
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


KEY_DOCUMENT_KIND = "fedcarbon.campaign-key.v1"


def key_to_document(key: CampaignKey) -> dict[str, object]:
    """The public key announcement a key ceremony hands to the operator (JSON-ready)."""
    return {
        "kind": KEY_DOCUMENT_KIND,
        "scheme": key.scheme.value,
        "paillier_n": str(key.paillier_n),
        "bits": key.bits,
        "trustee_ids": list(key.trustee_ids),
        "threshold": key.threshold,
        "threshold_public_key": key.threshold_public_key.decode()
        if key.threshold_public_key
        else "",
    }


def key_from_document(document: object, *, source: str = "key file") -> CampaignKey:
    if not isinstance(document, dict) or document.get("kind") != KEY_DOCUMENT_KIND:
        raise CampaignError(f"{source}: not a fedcarbon campaign key (kind {KEY_DOCUMENT_KIND})")
    try:
        return CampaignKey(
            scheme=KeyScheme(document["scheme"]),
            paillier_n=int(document["paillier_n"]),
            trustee_ids=tuple(str(t) for t in document["trustee_ids"]),
            threshold=int(document["threshold"]),
            threshold_public_key=str(document.get("threshold_public_key", "")).encode(),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise CampaignError(f"{source}: missing or malformed field ({error})") from None
