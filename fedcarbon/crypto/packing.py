"""Several fixed-point values packed into one Paillier plaintext, in slots that cannot overflow.

A plaintext of a k-bit modulus n holds ``(k - 1) // slot_bits`` slots; slot i carries
``value_i - min_i`` (an offset that makes every slot non-negative) at bit offset
``i * slot_bits``. Adding ciphertexts adds plaintexts, which adds every slot at once, so one
homomorphic multiplication sums a whole vector. Slots are wide enough that the sum over the
largest allowed cohort, plus the headroom reserved for noise, stays below ``2**slot_bits``:
no carry ever crosses into the next slot and the total stays below n.

This is the batching idea of Ge and Zdonik ("Answering aggregation queries in a secure
system model", VLDB 2007) and of the packing in Bonawitz et al. / PHE federated learning
systems, specialised to sums of bounded integers.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from fedcarbon.crypto.errors import EncodingError

# Bits kept free above the largest possible cohort sum: room for zero-mean noise shares
# added under encryption by trustees (differential privacy), offset to stay non-negative.
DEFAULT_HEADROOM_BITS = 16


@dataclass(frozen=True, slots=True)
class MetricBounds:
    """Inclusive fixed-point bounds of one metric; the name appears in errors."""

    name: str
    min: int
    max: int

    @property
    def span(self) -> int:
        return self.max - self.min


@dataclass(frozen=True, slots=True)
class PackingLayout:
    """How a metric vector maps onto plaintexts (the same on every agent of a campaign)."""

    slot_bits: int
    slots_per_ciphertext: int
    ciphertexts: int

    def position(self, metric_index: int) -> tuple[int, int]:
        """(ciphertext index, bit offset) of a metric's slot."""
        return (
            metric_index // self.slots_per_ciphertext,
            (metric_index % self.slots_per_ciphertext) * self.slot_bits,
        )


def plan_packing(
    bounds: Sequence[MetricBounds],
    max_contributors: int,
    key_bits: int,
    *,
    headroom_bits: int = DEFAULT_HEADROOM_BITS,
) -> PackingLayout:
    """Choose the narrowest slot that holds the cohort sum of every metric, then fill plaintexts."""
    if not bounds:
        raise EncodingError("a metric schema needs at least one metric")
    if max_contributors < 1:
        raise EncodingError(f"max_contributors must be >= 1, got {max_contributors}")
    for metric in bounds:
        if metric.max < metric.min:
            raise EncodingError(f"metric {metric.name!r}: max {metric.max} < min {metric.min}")
    widest = max(metric.span for metric in bounds)
    slot_bits = (widest * max_contributors).bit_length() + headroom_bits
    per_ciphertext = (key_bits - 1) // slot_bits
    if per_ciphertext < 1:
        raise EncodingError(
            f"a {slot_bits}-bit slot does not fit a {key_bits}-bit key; narrow the metric bounds"
        )
    ciphertexts = -(-len(bounds) // per_ciphertext)
    return PackingLayout(slot_bits, per_ciphertext, ciphertexts)


def pack(values: Sequence[int], bounds: Sequence[MetricBounds], layout: PackingLayout) -> list[int]:
    """Offset each value by its metric's minimum and place it in its slot."""
    if len(values) != len(bounds):
        raise EncodingError(f"expected {len(bounds)} values, got {len(values)}")
    plaintexts = [0] * layout.ciphertexts
    for index, (value, metric) in enumerate(zip(values, bounds, strict=True)):
        if not metric.min <= value <= metric.max:
            raise EncodingError(
                f"metric {metric.name!r}: {value} is outside its bounds "
                f"[{metric.min}, {metric.max}]"
            )
        ciphertext, shift = layout.position(index)
        plaintexts[ciphertext] |= (value - metric.min) << shift
    return plaintexts


def unpack(
    plaintexts: Sequence[int],
    bounds: Sequence[MetricBounds],
    layout: PackingLayout,
    contributors: int,
) -> list[int]:
    """Read each slot of a decrypted sum and undo the offsets of ``contributors`` values."""
    if len(plaintexts) != layout.ciphertexts:
        raise EncodingError(f"expected {layout.ciphertexts} plaintexts, got {len(plaintexts)}")
    mask = (1 << layout.slot_bits) - 1
    sums = []
    for index, metric in enumerate(bounds):
        ciphertext, shift = layout.position(index)
        sums.append(((plaintexts[ciphertext] >> shift) & mask) + contributors * metric.min)
    return sums


def pack_slots(slot_values: Sequence[int], layout: PackingLayout) -> list[int]:
    """Place already non-negative slot values (e.g. offset noise shares) into plaintexts."""
    plaintexts = [0] * layout.ciphertexts
    limit = 1 << layout.slot_bits
    for index, value in enumerate(slot_values):
        if not 0 <= value < limit:
            raise EncodingError(f"slot {index}: {value} does not fit {layout.slot_bits} bits")
        ciphertext, shift = layout.position(index)
        plaintexts[ciphertext] |= value << shift
    return plaintexts


def out_of_range(
    plaintexts: Sequence[int],
    bounds: Sequence[MetricBounds],
    layout: PackingLayout,
    contributors: int,
    extra: Sequence[int] = (),
) -> list[str]:
    """Names of metrics whose decrypted slot sum no honest cohort could produce.

    Ciphertexts hide their plaintexts, so a contributor could encrypt a value outside its
    metric's bounds; its carries would then spill into neighbouring slots. Every honest slot
    sum lies in [0, contributors * span + extra] (``extra``: what noise shares may add), and
    no bit is set above the last slot of a plaintext: anything else proves some contribution
    was out of range, and the aggregate must not be released.
    """
    problems = []
    mask = (1 << layout.slot_bits) - 1
    for index, metric in enumerate(bounds):
        ciphertext, shift = layout.position(index)
        raw = (plaintexts[ciphertext] >> shift) & mask
        limit = contributors * metric.span + (extra[index] if extra else 0)
        if raw > limit:
            problems.append(metric.name)
    for ciphertext, plaintext in enumerate(plaintexts):
        used = min(
            layout.slots_per_ciphertext, len(bounds) - ciphertext * layout.slots_per_ciphertext
        )
        if plaintext >> (used * layout.slot_bits):
            problems.append(f"bits above the last slot of plaintext {ciphertext}")
    return problems


def read_slots(plaintexts: Sequence[int], count: int, layout: PackingLayout) -> list[int]:
    """The raw content of the first ``count`` slots (no offsets undone)."""
    if len(plaintexts) != layout.ciphertexts:
        raise EncodingError(f"expected {layout.ciphertexts} plaintexts, got {len(plaintexts)}")
    mask = (1 << layout.slot_bits) - 1
    values = []
    for index in range(count):
        ciphertext, shift = layout.position(index)
        values.append((plaintexts[ciphertext] >> shift) & mask)
    return values


def overflowing_plaintexts(
    plaintexts: Sequence[int], count: int, layout: PackingLayout
) -> list[int]:
    """Indices of plaintexts with bits set above their last used slot (a carry or a forgery)."""
    bad = []
    for ciphertext, plaintext in enumerate(plaintexts):
        used = min(layout.slots_per_ciphertext, count - ciphertext * layout.slots_per_ciphertext)
        if plaintext >> (max(used, 0) * layout.slot_bits):
            bad.append(ciphertext)
    return bad
