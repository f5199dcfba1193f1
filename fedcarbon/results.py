"""Released statistics as domain values: the trustees' signatures that vouch for them, and
what they say about a cohort's distribution."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.campaign import CampaignState
from fedcarbon.distribution import Derived, Histogram, parse

if TYPE_CHECKING:
    from fedcarbon.campaign import Campaign, MetricSpec

RESULT_CONTEXT = b"fedcarbon.v1.result"


@dataclass(frozen=True, slots=True)
class MetricResult:
    name: str
    unit: str
    scale: int
    sum_fixed: int

    @property
    def sum(self) -> Decimal:
        return Decimal(self.sum_fixed).scaleb(-self.scale)

    def mean(self, contributors: int) -> Decimal:
        return self.sum / contributors if contributors else Decimal(0)


@dataclass(frozen=True, slots=True)
class ResultSignature:
    """A trustee's Ed25519 signature over a released result (``result_message``)."""

    trustee_id: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class CampaignResult:
    campaign_id: str
    state: CampaignState
    contributors: int
    metrics: tuple[MetricResult, ...] = ()
    released_unix_ms: int = 0
    reason: str = ""
    aggregate_digest: bytes = b""
    epsilon: float = 0.0
    delta: float = 0.0
    nonzero: tuple[int, ...] = ()
    signatures: tuple[ResultSignature, ...] = ()

    def metric(self, name: str) -> MetricResult:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"campaign {self.campaign_id!r} released no metric {name!r}")


def result_message(result: CampaignResult, campaign_digest: bytes) -> bytes:
    """What trustees sign: the campaign's terms digest and every released figure.

    The coordinator's timestamps are left out (they are not the trustees' to vouch for);
    everything a reader acts on (contributors, per-metric sums and non-zero counts, the
    aggregate and the privacy parameters) is in.
    """
    lines = [
        result.campaign_id,
        campaign_digest.hex(),
        result.aggregate_digest.hex(),
        str(result.contributors),
        repr(result.epsilon),
        repr(result.delta),
        ",".join(str(count) for count in result.nonzero),
        *(f"{m.name}={m.sum_fixed}/{m.scale}" for m in result.metrics),
    ]
    return "\n".join(lines).encode()


def sign_result(
    identity: Ed25519PrivateKey, trustee_id: str, result: CampaignResult, campaign_digest: bytes
) -> ResultSignature:
    message = result_message(result, campaign_digest)
    return ResultSignature(trustee_id, signing.sign(identity, message, context=RESULT_CONTEXT))


def signing_trustees(result: CampaignResult, campaign: "Campaign") -> tuple[list[str], list[str]]:
    """(trustees whose signature verifies, problems) against the key holders' own identity keys.

    The identity keys come from the campaign's signed key statements, which the agent has
    checked against its pinned federation manifest: the coordinator cannot add a signer.
    """
    keys = dict(campaign.key.holders())
    message = result_message(result, campaign.digest)
    valid: list[str] = []
    problems: list[str] = []
    for entry in result.signatures:
        key = keys.get(entry.trustee_id)
        if key is None:
            problems.append(f"{entry.trustee_id!r} is not a key holder of the campaign")
            continue
        try:
            signing.verify(key, message, entry.signature, context=RESULT_CONTEXT)
        except SignatureError as error:
            problems.append(f"signature of {entry.trustee_id!r}: {error}")
            continue
        if entry.trustee_id not in valid:
            valid.append(entry.trustee_id)
    return valid, problems


def signatures_sufficient(result: CampaignResult, campaign: "Campaign") -> Sequence[str]:
    """Problems that stop a reader from trusting the result (empty: at least t trustees signed)."""
    valid, problems = signing_trustees(result, campaign)
    if len(valid) < campaign.key.threshold:
        problems.append(f"{len(valid)} valid trustee signature(s); {campaign.key.threshold} needed")
    return problems


# -- distributions: released sums -> statistics ----------------------------------------------

_QUANTILES = (0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9)
_CONFIDENCE = 0.95


@dataclass(frozen=True, slots=True)
class Figure:
    """A released figure, an interval that holds the true value, and why it is not exact."""

    value: float | None
    low: float | None
    high: float | None
    exactness: str


@dataclass(frozen=True, slots=True)
class Quantile:
    """The bin that holds the q-quantile (the ceil(qN)-th smallest value), and an estimate.

    The estimate interpolates geometrically inside a log-spaced bin, assuming the bin's
    members spread evenly on a log scale; only the bin is certain (without noise).
    """

    q: float
    low: float
    high: float
    estimate: float


@dataclass(frozen=True, slots=True)
class Bin:
    low: float
    high: float
    count: int


@dataclass(frozen=True, slots=True)
class Position:
    """Where one member's own value stands (computed by the member, from the release)."""

    value: float
    percentile_low: float
    percentile_high: float
    best_quartile_edge: float | None
    distance_to_best_quartile: float | None
    in_best_quartile: bool | None


@dataclass(frozen=True, slots=True)
class Distribution:
    """A benchmark of one metric over the cohort, from additive sums only."""

    metric: str
    unit: str
    count: int
    mean: Figure
    sd: Figure | None
    quantiles: tuple[Quantile, ...]
    bins: tuple[Bin, ...]
    pooled: Figure | None
    notes: tuple[str, ...]
    histogram: "Histogram | None" = None
    noised: bool = False

    def quantile(self, q: float) -> Quantile | None:
        return next((x for x in self.quantiles if abs(x.q - q) < 1e-9), None)

    def position(self, own: float, *, lower_is_better: bool = True) -> Position:
        """This member's percentile (as the interval its bin spans) and its distance to the best
        quartile's edge; computed where the own value lives, never sent anywhere."""
        if self.histogram is None:
            raise ValueError(f"{self.metric}: no histogram was released, so no position")
        total = sum(b.count for b in self.bins)
        index = self.histogram.index(own)
        below = sum(b.count for b in self.bins[:index])
        within = self.bins[index].count
        low = below / total if total else 0.0
        high = (below + within) / total if total else 0.0
        edge_q = self.quantile(0.25 if lower_is_better else 0.75)
        if edge_q is None:
            return Position(own, low, high, None, None, None)
        edge = edge_q.estimate
        distance = own - edge
        better = distance <= 0 if lower_is_better else distance >= 0
        return Position(own, low, high, edge, distance, better)


def _slot_noise(campaign: "Campaign", name: str) -> float:
    """95 % half-width of the DP noise on one slot's released sum, in the slot's unit (0: none)."""
    plan = campaign.noise
    if plan is None:
        return 0.0
    index = [m.name for m in campaign.metrics].index(name)
    spec = plan.specs[index]
    if spec is None:
        return 0.0
    from fedcarbon.privacy.noise import confidence_half_width

    return float(confidence_half_width(spec, _CONFIDENCE)) / 10.0 ** campaign.metrics[index].scale


def describe(campaign: "Campaign", result: CampaignResult) -> list[Distribution]:
    """Every distribution the campaign's schema asked for (fedcarbon.distribution), from the
    released sums: count, mean, standard deviation, quantiles within a bin, pooled ratio."""
    if result.state is not CampaignState.RELEASED or not result.metrics:
        return []
    sums = {m.name: m for m in result.metrics}
    specs = {m.name: m for m in campaign.metrics}
    derived = {name: parse(name) for name in specs}
    bases = [
        name
        for name, d in derived.items()
        if d is None and any(x is not None and x.base == name for x in derived.values())
    ]
    out = []
    for base in bases:
        slots = {n: d for n, d in derived.items() if d is not None and d.base == base}
        out.append(_describe_one(campaign, result, base, slots, sums, specs))
    return out


def _describe_one(
    campaign: "Campaign",
    result: CampaignResult,
    base: str,
    slots: "Mapping[str, Derived | None]",
    sums: dict[str, MetricResult],
    specs: "dict[str, MetricSpec]",
) -> Distribution:
    n = result.contributors
    spec = specs[base]
    notes: list[str] = []
    noise_x = _slot_noise(campaign, base)
    noised = campaign.noise is not None
    total = float(sums[base].sum)
    step = 10.0**-spec.scale
    if noise_x:
        mean = Figure(
            total / n,
            (total - noise_x) / n,
            (total + noise_x) / n,
            f"differentially private: the sum carries noise of +/-{noise_x:.4g} {spec.unit} "
            f"(95 %), the mean +/-{noise_x / n:.4g}",
        )
    else:
        mean = Figure(
            total / n,
            total / n - step / 2,
            total / n + step / 2,
            f"exact sum of values rounded to {step:g} {spec.unit}",
        )
    sd = _sd(campaign, base, slots, sums, n, total, noise_x, notes)
    histogram, bins = _bins(spec, slots, sums)
    quantiles: tuple[Quantile, ...] = ()
    if histogram is not None:
        counted = sum(b.count for b in bins)
        noise_bin = max(
            (_slot_noise(campaign, name) for name, d in slots.items() if d and d.role == "bin"),
            default=0.0,
        )
        if noise_bin:
            notes.append(
                f"histogram counts carry noise of +/-{noise_bin:.3g} members each (95 %), "
                "negative counts shown as 0: a quantile's bin may be off by the bins the noise "
                "moves it across"
            )
        elif counted != n:
            notes.append(f"histogram counts {counted} members but {n} contributed")
        quantiles = _quantiles(bins, counted, notes)
        if any(b.count in (1, 2) for b in bins) and not noised:
            notes.append(
                "bins with 1 or 2 members show that some member lies in that range (not which): "
                "ask for epsilon > 0 to blur the histogram"
            )
    pooled = _pooled(campaign, base, slots, sums)
    return Distribution(
        base,
        spec.unit,
        n,
        mean,
        sd,
        quantiles,
        bins,
        pooled,
        tuple(notes),
        histogram,
        noised,
    )


def _sd(
    campaign: "Campaign",
    base: str,
    slots: "Mapping[str, Derived | None]",
    sums: dict[str, MetricResult],
    n: int,
    total: float,
    noise_x: float,
    notes: list[str],
) -> Figure | None:
    square = next((name for name, d in slots.items() if d and d.role == "sq"), None)
    if square is None:
        return None
    if n < 2:
        notes.append("one contributor: no standard deviation")
        return None
    derived = slots[square]
    assert derived is not None
    factor = 10.0**derived.sq_shift
    q = float(sums[square].sum) * factor
    noise_q = _slot_noise(campaign, square) * factor

    def sd_of(q_: float, s_: float) -> float:
        return math.sqrt(max(0.0, (q_ - s_ * s_ / n) / (n - 1)))

    value = sd_of(q, total)
    if noise_x or noise_q:
        corners = [
            sd_of(q + dq, total + ds) for dq in (-noise_q, noise_q) for ds in (-noise_x, noise_x)
        ]
        if (q - total * total / n) < 0:
            notes.append("noise made the variance negative; the standard deviation shows as 0")
        return Figure(
            value,
            min(corners),
            max(corners),
            "differentially private: from noised sums of x and x^2 (95 % box)",
        )
    rounding = 10.0 ** (derived.sq_shift - sums[square].scale)
    return Figure(
        value,
        value,
        value,
        f"exact up to rounding x^2 to {rounding:g} per member",
    )


def _bins(
    spec: "MetricSpec", slots: "Mapping[str, Derived | None]", sums: dict[str, MetricResult]
) -> "tuple[Histogram | None, tuple[Bin, ...]]":
    found = sorted(
        ((d.bin_index, name, d) for name, d in slots.items() if d and d.role == "bin"),
        key=lambda item: item[0],
    )
    if not found:
        return None, ()
    histogram = found[0][2].histogram
    assert histogram is not None
    floor = spec.min / 10**spec.scale
    ceiling = spec.max / 10**spec.scale
    bins = []
    for index, name, _ in found:
        low, high = histogram.interval(index)
        count = max(0, int(sums[name].sum.to_integral_value()))
        bins.append(Bin(max(low, floor), min(high, max(ceiling, low)), count))
    return histogram, tuple(bins)


def _quantiles(bins: tuple[Bin, ...], total: int, notes: list[str]) -> tuple[Quantile, ...]:
    out = []
    skipped = []
    for q in _QUANTILES:
        rank = max(1, math.ceil(q * total - 1e-9))
        if rank <= 1 or rank >= total:
            # The smallest or largest member alone: its bin is one member's range.
            skipped.append(f"{q:g}")
            continue
        seen = 0
        for item in bins:
            if seen + item.count >= rank:
                inside = (rank - seen - 0.5) / item.count
                if item.low > 0 and math.isfinite(item.high):
                    estimate = item.low * (item.high / item.low) ** inside
                else:
                    estimate = item.low if math.isfinite(item.low) else item.high
                out.append(Quantile(q, item.low, item.high, estimate))
                break
            seen += item.count
    if skipped:
        notes.append(
            f"quantiles {', '.join(skipped)} not released: with {total} members each would be "
            "the smallest or largest member's own bin"
        )
    return tuple(out)


def _pooled(
    campaign: "Campaign",
    base: str,
    slots: "Mapping[str, Derived | None]",
    sums: dict[str, MetricResult],
) -> Figure | None:
    numerator = f"{base}:num"
    denominator = f"{base}:den"
    if numerator not in slots or denominator not in slots:
        return None
    top = float(sums[numerator].sum)
    bottom = float(sums[denominator].sum)
    if bottom <= 0:
        return Figure(None, None, None, "the denominator's sum is not positive: no pooled ratio")
    noise_top = _slot_noise(campaign, numerator)
    noise_bottom = _slot_noise(campaign, denominator)
    if noise_top or noise_bottom:
        low = (top - noise_top) / (bottom + noise_bottom)
        high = (top + noise_top) / (bottom - noise_bottom) if bottom > noise_bottom else None
        return Figure(
            top / bottom, low, high, "differentially private: ratio of two noised sums (95 %)"
        )
    return Figure(top / bottom, top / bottom, top / bottom, "exact ratio of the released sums")


# -- supply chain: the buyer's breakdown -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductShare:
    product: str
    category: int
    kgco2e: float


@dataclass(frozen=True, slots=True)
class SupplyChainAnswer:
    """A buyer's released supply-chain figures: total, by product and by its Scope 3
    category, the primary-data share and how many invited suppliers answered."""

    total_kgco2e: float
    answered: int
    invited: int
    products: tuple[ProductShare, ...]
    other_kgco2e: float  # deliveries of products the request did not name
    primary_share: float | None
    exactness: str

    @property
    def by_category(self) -> dict[int, float]:
        """kg CO2e per buyer's Scope 3 category; products not named count as category 1."""
        out: dict[int, float] = {}
        for item in self.products:
            out[item.category] = out.get(item.category, 0.0) + item.kgco2e
        if self.other_kgco2e:
            out[1] = out.get(1, 0.0) + self.other_kgco2e
        return dict(sorted(out.items()))

    @property
    def coverage(self) -> float | None:
        return self.answered / self.invited if self.invited else None


def supply_chain(campaign: "Campaign", result: CampaignResult) -> SupplyChainAnswer | None:
    """The buyer's breakdown from a released supply-chain campaign (None if not released)."""
    base = "delivered_to_buyer_kgco2e"
    if result.state is not CampaignState.RELEASED or not any(
        m.name == base for m in result.metrics
    ):
        return None
    sums = {m.name: float(m.sum) for m in result.metrics}
    total = sums[base]
    products = []
    for name in sums:
        derived = parse(name)
        if derived is not None and derived.base == base and derived.role == "product":
            products.append(ProductShare(derived.product, derived.category, sums[name]))
    primary = sums.get(f"{base}:primary")
    noise = _slot_noise(campaign, base)
    return SupplyChainAnswer(
        total_kgco2e=total,
        answered=result.contributors,
        invited=len(campaign.invited),
        products=tuple(products),
        other_kgco2e=total - sum(p.kgco2e for p in products),
        primary_share=primary / total if primary is not None and total > 0 else None,
        exactness=(
            f"differentially private: +/-{noise:.4g} kg CO2e (95 %)"
            if noise
            else "exact sum of the answered suppliers' values, each rounded to 1 g"
        ),
    )
