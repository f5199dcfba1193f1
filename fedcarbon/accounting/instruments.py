"""Scope 2 contractual instruments: certificates, supplier-specific rates and PPAs on a record.

The GHG Protocol Scope 2 Guidance (WRI/WBCSD 2015) lets the market-based method use the
emission rate conveyed by a contractual instrument, in the order of its market-based data
hierarchy (ch. 6, Table 6.3): energy attribute certificates, then direct contracts (PPAs), then
supplier/utility-specific emission rates, then the residual mix, then other grid averages.
Instruments must meet the Scope 2 Quality Criteria (ch. 7, Table 7.1). Of those criteria the
engine checks what a record can show: that the instrument sits on a Scope 2 energy record, and
the market boundary (criterion "sourced from the same market in which the reporting entity's
electricity-consuming operations are located": a REGO only in Great Britain, a GO only in the
EU/EEA and Switzerland, a REC only in the US and Canada). Tracking, retirement, exclusivity and
vintage are attested by the organisation when it writes the record.

Syntax of the ``instrument`` column (case-insensitive scheme names):

* ``REGO``, ``GO``, ``REC``, ``I-REC``, ``EAC`` - an energy attribute certificate for renewable
  generation, zero emissions; optionally ``REGO:<certificate ref>`` to keep the certificate id.
* ``supplier:<kgCO2e per kWh>`` - a supplier- or product-specific emission rate, e.g.
  ``supplier:0.123``.
* ``ppa:<kgCO2e per kWh>`` - a direct contract with a generator, e.g. ``ppa:0.0``.

An instrument covers the whole quantity of its record: split the record where a certificate
covers only part of the consumption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fedcarbon.accounting.errors import InstrumentError

CERTIFICATE_SCHEMES: tuple[str, ...] = ("REGO", "GO", "REC", "I-REC", "EAC")
"""Energy attribute certificate schemes understood as zero-emission renewable certificates."""

_EEA_AND_CH = frozenset(
    (
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("IS", "LI", "NO", "CH"),
    )
)

MARKET_BOUNDARIES: dict[str, frozenset[str]] = {
    "REGO": frozenset({"GB"}),  # Renewable Energy Guarantees of Origin (Ofgem), Great Britain
    "GO": _EEA_AND_CH,  # EU Guarantees of Origin (Directive (EU) 2018/2001 art. 19), AIB members
    "REC": frozenset({"US", "CA"}),  # North American renewable energy certificates
}
"""Countries whose consumption a certificate scheme may cover (Scope 2 Quality Criterion 5)."""


@dataclass(frozen=True)
class Instrument:
    """A parsed contractual instrument: its kind, scheme and emission rate in kgCO2e/kWh."""

    kind: str  # "certificate" | "supplier" | "ppa"
    scheme: str  # certificate scheme, or "supplier"/"ppa"
    kg_co2e_per_kwh: float
    reference: str | None = None

    @property
    def basis(self) -> str:
        """Label of the market-based hierarchy level, e.g. ``certificate:REGO``."""
        return f"{self.kind}:{self.scheme}" if self.kind == "certificate" else self.kind


def parse_instrument(text: str) -> Instrument:
    """Parse the ``instrument`` column (syntax in the module docstring).

    Raises:
        InstrumentError: unknown scheme, missing or negative rate.
    """
    head, sep, tail = text.strip().partition(":")
    scheme = head.strip().upper()
    tail = tail.strip()
    if scheme in CERTIFICATE_SCHEMES:
        return Instrument("certificate", scheme, 0.0, tail or None)
    if scheme in ("SUPPLIER", "PPA"):
        if not sep or not tail:
            raise InstrumentError(text, f"write {scheme.lower()}:<kgCO2e per kWh>")
        try:
            rate = float(tail)
        except ValueError:
            raise InstrumentError(text, f"{tail!r} is not a number of kgCO2e per kWh") from None
        if not math.isfinite(rate) or rate < 0:
            raise InstrumentError(text, "the emission rate must be a finite number >= 0")
        return Instrument(scheme.lower(), scheme.lower(), rate)
    known = ", ".join((*CERTIFICATE_SCHEMES, "supplier:<rate>", "ppa:<rate>"))
    raise InstrumentError(text, f"unknown instrument (known: {known})")


def check_market_boundary(instrument: Instrument, region: str) -> None:
    """Refuse a certificate used outside its market (Scope 2 Quality Criteria, Table 7.1).

    Raises:
        InstrumentError: e.g. a REGO on a German record.
    """
    allowed = MARKET_BOUNDARIES.get(instrument.scheme)
    country = region.split("-", 1)[0]
    if allowed is not None and country not in allowed:
        raise InstrumentError(
            instrument.scheme,
            f"certificates of this scheme cannot cover consumption in {region} "
            "(Scope 2 Quality Criteria: same market boundary)",
        )
