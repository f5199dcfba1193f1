"""Scope 2 contractual instruments: certificates, supplier-specific rates and PPAs on a record.

The GHG Protocol Scope 2 Guidance (WRI/WBCSD 2015) lets the market-based method use the
emission rate conveyed by a contractual instrument, in the order of its market-based data
hierarchy (ch. 6, Table 6.3): energy attribute certificates, then direct contracts (PPAs), then
supplier/utility-specific emission rates, then the residual mix, then other grid averages.
Instruments must meet the Scope 2 Quality Criteria (ch. 7, Table 7.1). Of those criteria the
engine checks what a record can show:

* that the instrument sits on a Scope 2 energy record;
* the market boundary (criterion 5, "sourced from the same market in which the reporting
  entity's electricity-consuming operations are located"): a REGO only in Great Britain, a GO
  only in the EU/EEA and Switzerland, a REC only in the US and Canada; an I-REC, issued per
  country under the I-REC Standard, and a generic EAC, whose market fedcarbon cannot know, only
  in the country written with it (``I-REC/BR``), which is then required;
* the vintage (criterion 4, "issued and redeemed as close as possible to the period of energy
  consumption"). The guidance sets no number; fedcarbon applies the window that the Green-e
  Energy National Standard uses and RE100's technical criteria refer to as "reasonably close
  to the reporting year": generation from **six months before the start of the consumption
  period to three months after its end**. A vintage month (``@2023-05``) is checked against
  that window; a vintage year alone (``@2023``) cannot show where in the year the generation
  lies, so it must be a calendar year of the consumption period itself. A certificate without
  a vintage is accepted but flagged ``instrument:no-vintage`` for the auditor.

Tracking, retirement and exclusivity are attested by the organisation when it writes the
record.

Syntax of the ``instrument`` column (case-insensitive scheme names):

* ``<scheme>[/<country>][@<vintage>][:<certificate ref>]`` - an energy attribute certificate for
  renewable generation, zero emissions, where scheme is ``REGO``, ``GO``, ``REC``, ``I-REC`` or
  ``EAC``, country the ISO 3166 code of the issuing market, vintage ``YYYY`` or ``YYYY-MM`` of
  generation, e.g. ``REGO@2023-04:R12345-0001``, ``I-REC/BR@2023``.
* ``supplier:<kgCO2e per kWh>`` - a supplier- or product-specific emission rate, e.g.
  ``supplier:0.123``.
* ``ppa:<kgCO2e per kWh>`` - a direct contract with a generator, e.g. ``ppa:0.0``.

An instrument covers the whole quantity of its record: split the record where a certificate
covers only part of the consumption.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

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

PER_COUNTRY_SCHEMES: tuple[str, ...] = ("I-REC", "EAC")
"""Schemes whose market is the issuing country, which the instrument must name."""

VINTAGE_MONTHS_BEFORE = 6
VINTAGE_MONTHS_AFTER = 3
"""The vintage window around the consumption period (Green-e / RE100, see module docstring)."""

_CERTIFICATE_RE = re.compile(
    r"^(?P<scheme>[A-Za-z-]+)(?:/(?P<country>[A-Za-z]{2}))?"
    r"(?:@(?P<year>\d{4})(?:-(?P<month>\d{2}))?)?(?::(?P<ref>.*))?$"
)


@dataclass(frozen=True)
class Instrument:
    """A parsed contractual instrument: its kind, scheme and emission rate in kgCO2e/kWh."""

    kind: str  # "certificate" | "supplier" | "ppa"
    scheme: str  # certificate scheme, or "supplier"/"ppa"
    kg_co2e_per_kwh: float
    reference: str | None = None
    country: str | None = None  # the issuing market, for I-REC and EAC
    vintage_year: int | None = None
    vintage_month: int | None = None  # 1..12 when the vintage names the month

    @property
    def basis(self) -> str:
        """Label of the market-based hierarchy level, e.g. ``certificate:REGO``."""
        return f"{self.kind}:{self.scheme}" if self.kind == "certificate" else self.kind


def parse_instrument(text: str) -> Instrument:
    """Parse the ``instrument`` column (syntax in the module docstring).

    Raises:
        InstrumentError: unknown scheme, missing or negative rate.
    """
    certificate = _CERTIFICATE_RE.match(text.strip())
    if certificate and certificate["scheme"].upper() in CERTIFICATE_SCHEMES:
        return _certificate(text, certificate)
    head, sep, tail = text.strip().partition(":")
    scheme = head.strip().upper()
    tail = tail.strip()
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


def _certificate(text: str, match: re.Match[str]) -> Instrument:
    scheme = match["scheme"].upper()
    year = int(match["year"]) if match["year"] else None
    month = int(match["month"]) if match["month"] else None
    if month is not None and not 1 <= month <= 12:
        raise InstrumentError(text, f"vintage month {month} is not 01..12")
    if year is not None and not 1990 <= year <= 2100:
        raise InstrumentError(text, f"vintage year {year} is not plausible")
    reference = (match["ref"] or "").strip() or None
    country = match["country"].upper() if match["country"] else None
    return Instrument("certificate", scheme, 0.0, reference, country, year, month)


def check_market_boundary(instrument: Instrument, region: str) -> None:
    """Refuse a certificate used outside its market (Scope 2 Quality Criteria, Table 7.1).

    Raises:
        InstrumentError: e.g. a REGO on a German record, an I-REC without its country or one
            issued in another country than the record's.
    """
    country = region.split("-", 1)[0]
    if instrument.scheme in PER_COUNTRY_SCHEMES:
        if instrument.country is None:
            raise InstrumentError(
                instrument.scheme,
                f"name the issuing country ({instrument.scheme}/<country>, e.g. "
                f"{instrument.scheme}/{country}): its market boundary is that country "
                "(Scope 2 Quality Criteria: same market boundary)",
            )
        if instrument.country != country:
            raise InstrumentError(
                instrument.scheme,
                f"a certificate issued in {instrument.country} cannot cover consumption in "
                f"{region} (Scope 2 Quality Criteria: same market boundary)",
            )
        return
    allowed = MARKET_BOUNDARIES.get(instrument.scheme)
    if allowed is not None and country not in allowed:
        raise InstrumentError(
            instrument.scheme,
            f"certificates of this scheme cannot cover consumption in {region} "
            "(Scope 2 Quality Criteria: same market boundary)",
        )


def _add_months(day: date, months: int) -> date:
    """First day of the month ``months`` after ``day``'s month (negative goes back)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def check_vintage(instrument: Instrument, period_start: date, period_end: date) -> bool:
    """Refuse a certificate generated too far from the consumption it covers (criterion 4).

    Returns False when the certificate has no vintage (nothing to check; the caller flags
    it), True when the vintage is inside the window in the module docstring.

    Raises:
        InstrumentError: e.g. a 2015 certificate on 2023 electricity.
    """
    if instrument.kind != "certificate" or instrument.vintage_year is None:
        return False
    year = instrument.vintage_year
    if instrument.vintage_month is None:
        if period_start.year <= year <= period_end.year:
            return True
        raise InstrumentError(
            instrument.scheme,
            f"vintage {year} is not a year of the consumption period {period_start} to "
            f"{period_end}; give the vintage month (@YYYY-MM) if it lies within "
            f"{VINTAGE_MONTHS_BEFORE} months before or {VINTAGE_MONTHS_AFTER} months after "
            "(Scope 2 Quality Criterion 4)",
        )
    generated = date(year, instrument.vintage_month, 1)
    earliest = _add_months(period_start, -VINTAGE_MONTHS_BEFORE)
    latest = _add_months(period_end, VINTAGE_MONTHS_AFTER)
    if earliest <= generated <= latest:
        return True
    raise InstrumentError(
        instrument.scheme,
        f"vintage {year}-{instrument.vintage_month:02d} is outside {earliest:%Y-%m} to "
        f"{latest:%Y-%m} ({VINTAGE_MONTHS_BEFORE} months before to {VINTAGE_MONTHS_AFTER} "
        f"months after the consumption period {period_start} to {period_end}; Scope 2 "
        "Quality Criterion 4)",
    )
