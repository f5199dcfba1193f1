"""Traceable figures: every intermediate number of a CBAM calculation with how it was made."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One intermediate figure: what it is, its value and unit, the formula with the numbers
    that entered it, and the legal source of the formula."""

    label: str
    value: float
    unit: str
    formula: str
    source: str

    def to_dict(self) -> dict[str, str | float]:
        return {
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "formula": self.formula,
            "source": self.source,
        }


def fmt(value: float) -> str:
    """A number as it appears in a formula: enough digits to recompute, no float noise."""
    return f"{value:.10g}"
