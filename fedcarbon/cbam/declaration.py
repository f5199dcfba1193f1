"""The importer's yearly CBAM declaration: embedded emissions and certificates due.

Per customs line (CN code, country of origin, installation, net mass in t), the embedded
emissions are net mass x SEE, with the SEE the installation's operator communicated or, where
none was received, the default value with the year's mark-up (Implementing Regulation (EU)
2025/2621). Only direct emissions count for Annex II goods (iron and steel, aluminium,
hydrogen); cement and fertilisers count direct plus indirect (Regulation (EU) 2023/956,
Article 7 and Annexes II and IV).

De minimis (Regulation (EU) 2025/2083, new Article 2a of 2023/956): an importer whose
cumulative net mass of iron and steel, aluminium, fertiliser and cement goods imported in a
calendar year does not exceed 50 t is exempt for those goods; electricity and hydrogen are
never exempted by the threshold.

Certificates due (Articles 9, 22 and 31 of 2023/956), in t CO2e, one certificate per t:
    embedded - free-allocation adjustment - carbon price paid x embedded / certificate price
The free-allocation adjustment and the certificate price are inputs (the Commission publishes
both); without them the declaration says it assumes none, so it states the upper bound.
"""

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fedcarbon.cbam.communication import CommunicatedGood, Communication
from fedcarbon.cbam.defaults import DefaultValueTable, MarkupSchedule, marked_up
from fedcarbon.cbam.errors import CbamError, DeclarationError
from fedcarbon.cbam.goods import DE_MINIMIS_SECTORS, counts_indirect, normalise_cn, sector_of

DE_MINIMIS_T = 50.0
"""t of net mass per calendar year (Regulation (EU) 2025/2083, Article 2a(1) of 2023/956)."""

CUSTOMS_COLUMNS = ("year", "cn_code", "country", "installation", "net_mass_t")
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CustomsLine:
    row: int
    year: int
    cn_code: str
    country: str
    installation: str
    net_mass_t: float
    route: str = ""


@dataclass(frozen=True)
class DeclaredLine:
    line: CustomsLine
    source: str
    see_direct: float
    see_indirect: float
    indirect_counted: bool
    embedded_t_co2e: float
    exempt: bool
    carbon_price_paid_eur_per_t: float
    markup_pct: float | None = None


@dataclass(frozen=True)
class YearDeclaration:
    year: int
    lines: tuple[DeclaredLine, ...]
    de_minimis_mass_t: float
    de_minimis_applies: bool
    embedded_t_co2e: float
    chargeable_t_co2e: float
    free_allocation_t_co2e: float
    carbon_price_deduction_t_co2e: float
    certificates_due_t_co2e: float
    assumptions: tuple[str, ...] = field(default=())

    @property
    def certificates_due(self) -> int:
        """Whole certificates (one per t CO2e), rounded up: a part tonne needs a certificate."""
        return math.ceil(self.certificates_due_t_co2e - 1e-9)


def read_customs_lines(path: Path) -> list[CustomsLine]:
    """Customs lines CSV: year, cn_code, country, installation, net_mass_t[, route]."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DeclarationError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise DeclarationError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise DeclarationError(f"{path}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CUSTOMS_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DeclarationError(f"{path}: missing column(s) {missing}")
    lines = []
    for number, raw in enumerate(reader, start=2):
        where = f"{path}, row {number}"
        try:
            year = int((raw["year"] or "").strip())
        except ValueError:
            raise DeclarationError(f"{where}, year: {raw['year']!r} is not a year") from None
        try:
            mass = float(raw["net_mass_t"] or "")
        except ValueError:
            raise DeclarationError(
                f"{where}, net_mass_t: {raw['net_mass_t']!r} is not a number"
            ) from None
        if mass != mass or mass < 0 or mass == float("inf"):
            raise DeclarationError(f"{where}, net_mass_t: must be a finite number >= 0")
        try:
            cn = normalise_cn(raw["cn_code"] or "", where=f"{where}, cn_code")
            sector_of(cn)
        except CbamError as error:
            raise DeclarationError(str(error)) from None
        country = (raw["country"] or "").strip()
        if not country:
            raise DeclarationError(f"{where}, country: empty")
        lines.append(
            CustomsLine(
                row=number,
                year=year,
                cn_code=cn,
                country=country,
                installation=(raw["installation"] or "").strip(),
                net_mass_t=mass,
                route=(raw.get("route") or "").strip(),
            )
        )
    return lines


def _received_good(
    line: CustomsLine, received: Mapping[str, Communication]
) -> CommunicatedGood | None:
    communication = received.get(line.installation) if line.installation else None
    if communication is None:
        return None
    matches = [
        g
        for g in communication.goods
        if (line.cn_code.startswith(g.cn_code) or g.cn_code.startswith(line.cn_code))
        and (not line.route or g.production_route == line.route)
    ]
    if len(matches) > 1:
        raise DeclarationError(
            f"customs row {line.row}: CN {line.cn_code} matches {len(matches)} goods of "
            f"installation {line.installation!r}; give the route column"
        )
    return matches[0] if matches else None


def declare(
    lines: list[CustomsLine],
    received: Mapping[str, Communication],
    table: DefaultValueTable,
    schedule: MarkupSchedule,
    *,
    free_allocation: Mapping[str, float] | None = None,
    certificate_price_eur: float | None = None,
) -> list[YearDeclaration]:
    """One declaration per year of the customs lines.

    Args:
        received: communications by installation id (what operators sent).
        free_allocation: t CO2e per t of good by CN code (longest prefix wins), already
            including the CBAM factor of the year; missing means none assumed.
        certificate_price_eur: needed where a carbon price was paid in the country of origin.
    """
    free_allocation = free_allocation or {}
    declarations = []
    for year in sorted({line.year for line in lines}):
        year_lines = [line for line in lines if line.year == year]
        mass = sum(
            line.net_mass_t for line in year_lines if sector_of(line.cn_code) in DE_MINIMIS_SECTORS
        )
        exempt_applies = mass <= DE_MINIMIS_T
        declared: list[DeclaredLine] = []
        free = deduction = 0.0
        for line in year_lines:
            good = _received_good(line, received)
            markup: float | None = None
            if good is not None:
                sd, si, counted = good.see_direct, good.see_indirect, good.indirect_counted
                price = good.carbon_price_paid_eur_per_t
                source = f"communicated by {line.installation}"
            else:
                try:
                    default = marked_up(
                        table, schedule, line.cn_code, line.country, year, line.route or None
                    )
                except CbamError as error:
                    raise DeclarationError(f"customs row {line.row}: {error}") from None
                sd, si, counted = default.direct, default.indirect, counts_indirect(line.cn_code)
                price, markup = 0.0, default.markup_pct
                fallback = " (Other countries and territories)" if default.lookup.fallback else ""
                source = f"default value {default.lookup.value.good_key}{fallback} +{markup:g} %"
                if line.installation in received:
                    source += f" ({line.installation} sent no figure for CN {line.cn_code})"
            embedded = line.net_mass_t * (sd + (si if counted else 0.0))
            exempt = exempt_applies and sector_of(line.cn_code) in DE_MINIMIS_SECTORS
            declared.append(
                DeclaredLine(line, source, sd, si, counted, embedded, exempt, price, markup)
            )
            if exempt:
                continue
            free += line.net_mass_t * _longest(free_allocation, line.cn_code)
            if price > 0:
                if not certificate_price_eur:
                    raise DeclarationError(
                        f"customs row {line.row}: a carbon price was paid for this good; "
                        "give --certificate-price to deduct it"
                    )
                deduction += min(embedded, embedded * price / certificate_price_eur)
        embedded_total = sum(d.embedded_t_co2e for d in declared)
        chargeable = sum(d.embedded_t_co2e for d in declared if not d.exempt)
        due = max(0.0, chargeable - free - deduction)
        assumptions = [
            "indirect emissions counted for cement and fertilisers only (Annex II of 2023/956)",
            f"de minimis: {mass:g} t of iron and steel, aluminium, fertilisers and cement in "
            f"{year} {'<=' if exempt_applies else '>'} {DE_MINIMIS_T:g} t"
            + (": those lines are exempt" if exempt_applies else ": every line counts"),
        ]
        if free_allocation:
            assumptions.append("free-allocation adjustment from the given per-CN t CO2e/t")
        else:
            assumptions.append("no free-allocation adjustment assumed (upper bound)")
        if certificate_price_eur:
            assumptions.append(f"certificate price {certificate_price_eur:g} EUR/t CO2e")
        else:
            assumptions.append("no carbon price paid in the country of origin is deducted")
        declarations.append(
            YearDeclaration(
                year,
                tuple(declared),
                mass,
                exempt_applies,
                embedded_total,
                chargeable,
                free,
                deduction,
                due,
                tuple(assumptions),
            )
        )
    return declarations


def _longest(values: Mapping[str, float], cn_code: str) -> float:
    best = ""
    for code in values:
        if cn_code.startswith(code) and len(code) > len(best):
            best = code
    return values[best] if best else 0.0


def read_free_allocation(path: Path) -> dict[str, float]:
    """CSV with cn_code, t_co2e_per_t: the free-allocation adjustment per t of good."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise DeclarationError(f"{path}: cannot read ({error.strerror})") from None
    reader = csv.DictReader(io.StringIO(text))
    if not {"cn_code", "t_co2e_per_t"} <= set(reader.fieldnames or []):
        raise DeclarationError(f"{path}: needs columns cn_code, t_co2e_per_t")
    values = {}
    for number, raw in enumerate(reader, start=2):
        where = f"{path}, row {number}"
        try:
            cn = normalise_cn(raw["cn_code"] or "", where=f"{where}, cn_code")
            value = float(raw["t_co2e_per_t"] or "")
        except CbamError as error:
            raise DeclarationError(str(error)) from None
        except ValueError:
            raise DeclarationError(f"{where}, t_co2e_per_t: not a number") from None
        if value != value or value < 0 or value == float("inf"):
            raise DeclarationError(f"{where}, t_co2e_per_t: must be a finite number >= 0")
        values[cn] = value
    return values
