"""Derived slots: what a campaign schema asks for so that sums describe a distribution.

Additive aggregation releases sums only. To release more than a total, each participant
contributes, beside its value x, slots derived from x locally and summed like any metric
(every slot is an ordinary :class:`~fedcarbon.campaign.MetricSpec`, so encryption, packing,
noise and release carry them unchanged). The derivation is spelled in the slot's name, which
the campaign digest covers, so every agent derives the same way:

``BASE:sq:K``
    x^2 / 10^K at the slot's scale: with the count and the sum of x it gives the standard
    deviation (s^2 = (sum x^2 - (sum x)^2 / N) / (N - 1)). Overflow is ruled out in two
    steps: the slot's bounds are [0, X^2 * 10^(scale - K)] with X the largest |x| the base
    metric's bounds admit, chosen to fit the wire's signed 64-bit integers (``scale`` as
    large as fits, up to twice the base scale; ``K`` > 0 only when X^2 alone exceeds 2^63),
    and the packing sizes every slot for max_contributors times its bound
    (fedcarbon.crypto.packing.plan_packing), so the cohort's sum cannot overflow either.
``BASE:bin:LO:HI:B:I``
    1 if x falls in bin I of B log-spaced bins between LO and HI, else 0; bin 0 holds
    x < LO and bin B + 1 holds x >= HI. Summed, the one-hot vectors are the cohort's
    histogram: quantiles are released as the bin that holds them (exact to a bin width).
``BASE:num`` / ``BASE:den``
    numerator and denominator of a ratio metric (e.g. emissions and output for an intensity):
    the pooled ratio is sum(num) / sum(den), a ratio of sums, never a sum of ratios.
``BASE:product:P:catN``
    the part of a supply-chain value carried by deliveries of product P, which the buyer
    counts in its Scope 3 category N: summed, the buyer's breakdown by product and category.
``BASE:primary``
    the part of the value from primary data (the emission-weighted primary data share, as
    PACT's ``primaryDataShare`` defines it): summed and divided by the sum of the base value,
    the cohort's primary data share.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from fedcarbon.errors import MetricError

INT64_MAX = 2**63 - 1
DEFAULT_BINS_PER_DECADE = 4
# Fixed-point rounding of x^2 costs at most 10^-scale per member; beyond 2 x the base scale the
# extra digits are noise anyway.
_MAX_SQ_SCALE = 18


@dataclass(frozen=True, slots=True)
class SlotSpec:
    """What a derived slot needs from its base metric's spec (name, unit, scale, bounds)."""

    name: str
    unit: str
    scale: int
    min: int
    max: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class Histogram:
    """B log-spaced bins between ``low`` and ``high`` (plus an under- and an overflow bin)."""

    low: float
    high: float
    bins: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low > 0):
            raise MetricError(f"histogram: bounds must be finite and > 0, got {self.low}")
        if not self.high > self.low:
            raise MetricError(f"histogram: upper bound {self.high} must exceed {self.low}")
        if not 1 <= self.bins <= 200:
            raise MetricError(f"histogram: 1..200 bins, got {self.bins}")

    @property
    def slots(self) -> int:
        return self.bins + 2

    def edge(self, index: int) -> float:
        """Lower edge of bin ``index`` (1..B+1); bin 0 starts at -infinity."""
        if index <= 0:
            return -math.inf
        if index > self.bins + 1:
            return math.inf
        return float(self.low * (self.high / self.low) ** ((index - 1) / self.bins))

    def interval(self, index: int) -> tuple[float, float]:
        return self.edge(index), self.edge(index + 1)

    def index(self, value: float) -> int:
        """The bin that holds ``value``; edges belong to the bin above them."""
        if value < self.low:
            return 0
        if value >= self.high:
            return self.bins + 1
        position = math.log(value / self.low) / math.log(self.high / self.low) * self.bins
        index = math.floor(position) + 1
        # Floating-point logs can put a value a hair's breadth off its edge: settle on edges.
        if index <= self.bins and value >= self.edge(index + 1):
            index += 1
        elif index > 1 and value < self.edge(index):
            index -= 1
        return min(max(index, 1), self.bins)

    def tag(self) -> str:
        return f"{self.low:g}:{self.high:g}:{self.bins}"


@dataclass(frozen=True, slots=True)
class Derived:
    """A parsed derived slot name: which base metric, which role, and its parameters."""

    base: str
    role: str  # "sq", "bin", "num", "den", "product", "primary"
    sq_shift: int = 0
    histogram: Histogram | None = None
    bin_index: int = 0
    product: str = ""
    category: int = 0


def parse(name: str) -> Derived | None:
    """The derivation a slot name spells, or None for a plain metric name."""
    base, sep, rest = name.partition(":")
    if not sep:
        return None
    parts = rest.split(":")
    role = parts[0]
    try:
        if role == "sq" and len(parts) == 2:
            shift = int(parts[1])
            if shift < 0:
                raise ValueError
            return Derived(base, "sq", sq_shift=shift)
        if role == "bin" and len(parts) == 5:
            histogram = Histogram(float(parts[1]), float(parts[2]), int(parts[3]))
            index = int(parts[4])
            if not 0 <= index < histogram.slots:
                raise ValueError
            return Derived(base, "bin", histogram=histogram, bin_index=index)
        if role in ("num", "den", "primary") and len(parts) == 1:
            return Derived(base, role)
        if role == "product" and len(parts) == 3 and parts[1] and parts[2].startswith("cat"):
            category = int(parts[2][3:])
            if not 1 <= category <= 15:
                raise ValueError
            return Derived(base, "product", product=parts[1], category=category)
    except (ValueError, MetricError):
        pass
    raise MetricError(
        f"metric {name!r}: not a derived slot this version understands "
        "(BASE:sq:K, BASE:bin:LO:HI:B:I, BASE:num, BASE:den, BASE:product:P:catN, BASE:primary)"
    )


def derived_value(derived: Derived, value: Decimal) -> Decimal:
    """The slot's value from the base metric's value (``sq`` and ``bin`` roles)."""
    if derived.role == "sq":
        return (value * value).scaleb(-derived.sq_shift)
    if derived.role == "bin":
        assert derived.histogram is not None
        return Decimal(int(derived.histogram.index(float(value)) == derived.bin_index))
    raise MetricError(f"{derived.base}:{derived.role} is not derived from the base value")


def square_slot(base: SlotSpec) -> SlotSpec:
    """The x^2 slot for ``base``, sized so one member's value fits a signed 64-bit integer."""
    largest = max(abs(base.min), abs(base.max))  # in fixed point at base.scale
    if largest == 0:
        raise MetricError(f"metric {base.name!r}: bounds [0, 0] leave no distribution")
    square = largest * largest  # x^2 at scale 2 * base.scale
    scale, shift = 2 * base.scale, 0
    # Reduce the scale until X^2 * 10^scale fits; below scale 0, divide x^2 by 10^shift.
    while scale > 0 and _ceil_shift(square, scale - 2 * base.scale) > INT64_MAX:
        scale -= 1
    while _ceil_shift(square, scale - 2 * base.scale - shift) > INT64_MAX:
        shift += 1
    scale = min(scale, _MAX_SQ_SCALE)
    bound = _ceil_shift(square, scale - 2 * base.scale - shift)
    unit = f"({base.unit})^2" + (f" / 1e{shift}" if shift else "")
    return SlotSpec(
        f"{base.name}:sq:{shift}",
        unit,
        scale,
        0,
        bound,
        f"square of {base.name}, for the standard deviation",
    )


def _ceil_shift(value: int, exponent: int) -> int:
    """ceil(value * 10^exponent) for integers."""
    power: int = 10 ** abs(exponent)
    if exponent >= 0:
        return value * power
    return -((-value) // power)


def histogram_slots(base: SlotSpec, histogram: Histogram) -> list[SlotSpec]:
    return [
        SlotSpec(
            f"{base.name}:bin:{histogram.tag()}:{index}",
            "1",
            0,
            0,
            1,
            f"1 if {base.name} lies in "
            + _interval_text(histogram.interval(index), base.unit)
            + ", else 0",
        )
        for index in range(histogram.slots)
    ]


def _interval_text(interval: tuple[float, float], unit: str) -> str:
    low, high = interval
    if math.isinf(low):
        return f"(-inf, {high:.4g}) {unit}"
    if math.isinf(high):
        return f"[{low:.4g}, inf) {unit}"
    return f"[{low:.4g}, {high:.4g}) {unit}"


def default_histogram(
    base: SlotSpec, *, bins_per_decade: int = DEFAULT_BINS_PER_DECADE
) -> Histogram:
    """Log-spaced bins over the positive part of the base metric's bounds.

    The top edge is the upper bound; the bottom edge 10^-6 of it (smaller values share the
    underflow bin), rounded out to whole decades so edges are readable.
    """
    high = base.max / 10**base.scale
    if high <= 0:
        raise MetricError(
            f"metric {base.name!r}: log-spaced bins need a positive upper bound, got {high}"
        )
    top = 10 ** math.ceil(math.log10(high))
    bottom = top / 10**6
    return Histogram(bottom, top, 6 * bins_per_decade)


def distribution_slots(
    base: SlotSpec,
    *,
    histogram: Histogram | None = None,
    ratio: tuple[SlotSpec, SlotSpec] | None = None,
) -> list[SlotSpec]:
    """Everything a distribution of ``base`` needs beyond the base slot itself.

    ``ratio`` gives the numerator and denominator specs of a ratio metric (their names are
    replaced by ``BASE:num`` and ``BASE:den``).
    """
    slots = [square_slot(base)]
    slots += histogram_slots(base, histogram or default_histogram(base))
    if ratio is not None:
        numerator, denominator = ratio
        slots.append(_renamed(numerator, f"{base.name}:num"))
        slots.append(_renamed(denominator, f"{base.name}:den"))
    return slots


def _renamed(spec: SlotSpec, name: str) -> SlotSpec:
    return SlotSpec(name, spec.unit, spec.scale, spec.min, spec.max, spec.description)


def product_slot(base: SlotSpec, product: str, category: int) -> SlotSpec:
    """The slot for one product (group) the buyer counts in Scope 3 category ``category``."""
    if not product or ":" in product or product != product.strip():
        raise MetricError(f"product {product!r}: must be non-empty, without ':' or edge spaces")
    if not 1 <= category <= 15:
        raise MetricError(f"product {product!r}: Scope 3 category must be 1..15, got {category}")
    return SlotSpec(
        f"{base.name}:product:{product}:cat{category}",
        base.unit,
        base.scale,
        base.min,
        base.max,
        f"{base.name} carried by deliveries of {product} (buyer's Scope 3 category {category})",
    )


def primary_slot(base: SlotSpec) -> SlotSpec:
    return SlotSpec(
        f"{base.name}:primary",
        base.unit,
        base.scale,
        base.min,
        base.max,
        f"the part of {base.name} from primary data",
    )
