"""Fixed-point encoding of metric values at the scale a campaign's schema fixes.

phe's ``EncodedNumber`` chooses a floating exponent per value, which leaks each value's
magnitude on the wire and forces exponent alignment before every addition. fedcarbon
instead encodes every value of a metric at one fixed decimal scale (``value * 10**scale``,
exponent 0 in phe's terms), so ciphertexts of a campaign add without alignment and carry
nothing but the ciphertext integer.
"""

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from fedcarbon.crypto.errors import EncodingError


def to_fixed(value: float | int | str | Decimal, scale: int, *, name: str = "value") -> int:
    """Encode ``value`` as round(value * 10**scale), rounding half to even.

    Goes through Decimal so that 0.1 kg at scale 3 is exactly 100 g, not 99.
    """
    if scale < 0:
        raise EncodingError(f"{name}: scale must be >= 0, got {scale}")
    try:
        exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise EncodingError(f"{name}: {value!r} is not a number") from None
    if not exact.is_finite():
        raise EncodingError(f"{name}: {value!r} is not a finite number")
    return int((exact.scaleb(scale)).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_fixed(fixed: int, scale: int) -> Decimal:
    """Decode a fixed-point integer back to an exact decimal."""
    return Decimal(fixed).scaleb(-scale)
