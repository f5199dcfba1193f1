"""Generated but realistic activity data for the demo's small multi-tier supply chain.

A steel mill and a polymer maker (tier 3) supply a foundry, a fastener maker and an
electronics maker (tier 2), who supply an assembler (tier 1), who supplies the buyer, an
OEM. Annual quantities are of the order such mid-sized European plants report (electric-arc
steel at ~0.5 MWh/t of electricity, foundries at ~0.3-0.5 MWh/t, etc.); monthly values vary
by a seeded +/-8%, so every run produces the same data. Quantities are in the units their
source systems use (kWh on energy bills, kg of refrigerant from service logs, USD of spend
from purchasing), spanning Scope 1 (stationary combustion, fugitive releases), Scope 2 (grid
electricity, certificates, supplier-specific rates) and Scope 3 (purchased goods, freight,
business travel; spend-based with US EPA factors).
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from fedcarbon.accounting.records import ActivityRecord, write_activity_csv

YEAR = 2024
BUYER = "Helix Motors AG"


@dataclass(frozen=True)
class Line:
    """One recurring activity: an annual quantity spread over the months."""

    activity: str
    annual: float
    unit: str
    scope3_category: int | None = None
    instrument: str | None = None
    customer: str | None = None
    product: str | None = None
    months: tuple[int, ...] = tuple(range(1, 13))
    data_quality: str = "primary"


@dataclass(frozen=True)
class Company:
    key: str
    organisation: str
    role: str
    region: str
    sector: str
    size_band: str
    site: str
    lines: tuple[Line, ...] = field(default_factory=tuple)
    # Tier-1 suppliers the buyer invites to its supply-chain campaign.
    direct_supplier: bool = False


def _out(product: str, tonnes: float, customer: str | None) -> Line:
    return Line(f"output.{product}", tonnes, "t", customer=customer, product=product)


COMPANIES: tuple[Company, ...] = (
    Company(
        "nordstahl",
        "Nordstahl Werke GmbH",
        "supplier",
        "DE",
        "metals",
        "large",
        "Duisburg",
        (
            Line("electricity.grid", 82_000_000, "kWh"),
            Line("fuel.natural_gas", 58_000_000, "kWh"),
            Line("fuel.diesel", 110_000, "kg"),
            Line("spend.naics.423930", 31_000_000, "USD", 1, data_quality="secondary"),
            Line("spend.naics.335991", 4_200_000, "USD", 1, data_quality="secondary"),
            Line("spend.naics.482111", 1_900_000, "USD", 4, data_quality="secondary"),
            _out("steel_billet", 40_000, "Precision Castings GmbH"),
            _out("steel_billet", 25_000, "Alpine Fasteners GmbH"),
            _out("steel_billet", 95_000, None),
        ),
    ),
    Company(
        "baltic",
        "Baltic Polymers Sp. z o.o.",
        "supplier",
        "PL",
        "metals",
        "sme",
        "Gdansk",
        (
            Line("electricity.grid", 14_500_000, "kWh"),
            Line("fuel.natural_gas", 24_000_000, "kWh"),
            Line("spend.naics.325211", 38_000_000, "USD", 1, data_quality="secondary"),
            Line("spend.naics.484121", 1_200_000, "USD", 4, data_quality="secondary"),
            _out("polymer_parts", 2_000, "Rhein Electronics GmbH"),
            _out("polymer_parts", 5_000, "Danube Assembly Kft."),
            _out("polymer_parts", 23_000, None),
        ),
    ),
    Company(
        "castings",
        "Precision Castings GmbH",
        "supplier",
        "DE",
        "metals",
        "sme",
        "Chemnitz",
        (
            Line("electricity.grid", 8_000_000, "kWh"),
            Line("electricity.grid", 4_000_000, "kWh", instrument="GO"),
            Line("fuel.natural_gas", 17_500_000, "kWh"),
            Line("fuel.diesel", 28_000, "kg"),
            Line("release.R-410A", 12, "kg", months=(3, 9)),
            Line("spend.naics.331110", 27_500_000, "USD", 1, data_quality="secondary"),
            Line("spend.naics.484121", 900_000, "USD", 4, data_quality="secondary"),
            Line("spend.naics.481111", 150_000, "USD", 6, data_quality="secondary"),
            _out("castings", 30_000, "Danube Assembly Kft."),
            _out("castings", 6_000, None),
        ),
        direct_supplier=False,
    ),
    Company(
        "alpine",
        "Alpine Fasteners GmbH",
        "supplier",
        "AT",
        "metals",
        "sme",
        "Linz",
        (
            Line("electricity.grid", 6_500_000, "kWh"),
            Line("fuel.natural_gas", 7_000_000, "kWh"),
            Line("release.HFC-134a", 5, "kg", months=(6,)),
            Line("spend.naics.331222", 19_800_000, "USD", 1, data_quality="secondary"),
            Line("spend.naics.484121", 600_000, "USD", 4, data_quality="secondary"),
            _out("fasteners", 8_000, "Danube Assembly Kft."),
            _out("fasteners", 10_000, BUYER),
            _out("fasteners", 4_000, None),
        ),
        direct_supplier=True,
    ),
    Company(
        "rhein",
        "Rhein Electronics GmbH",
        "supplier",
        "DE",
        "metals",
        "sme",
        "Koblenz",
        (
            Line("electricity.grid", 9_000_000, "kWh", instrument="supplier:0.120"),
            Line("fuel.natural_gas", 2_500_000, "kWh"),
            Line("release.SF6", 0.8, "kg", months=(11,)),
            Line("spend.naics.334413", 35_000_000, "USD", 1, data_quality="secondary"),
            Line("spend.naics.326199", 5_000_000, "USD", 1, data_quality="secondary"),
            Line("spend.naics.481111", 220_000, "USD", 6, data_quality="secondary"),
            _out("control_units", 1_500, BUYER),
            _out("control_units", 300, None),
        ),
        direct_supplier=True,
    ),
    Company(
        "danube",
        "Danube Assembly Kft.",
        "supplier",
        "HU",
        "metals",
        "sme",
        "Gyor",
        (
            Line("electricity.grid", 8_000_000, "kWh"),
            Line("fuel.natural_gas", 5_000_000, "kWh"),
            Line("fuel.diesel", 18_000, "kg"),
            Line("spend.naics.336390", 60_000_000, "USD", 1, data_quality="secondary"),
            Line("spend.naics.484121", 2_500_000, "USD", 4, data_quality="secondary"),
            Line("spend.naics.481111", 180_000, "USD", 6, data_quality="secondary"),
            _out("drive_modules", 34_000, BUYER),
            _out("drive_modules", 6_000, None),
        ),
        direct_supplier=True,
    ),
    Company(
        "helix",
        BUYER,
        "buyer",
        "DE",
        "automotive",
        "large",
        "Stuttgart",
        (
            Line("electricity.grid", 40_000_000, "kWh"),
            Line("fuel.natural_gas", 30_000_000, "kWh"),
            _out("vehicles", 60_000, None),
        ),
    ),
)


def _month(month: int) -> tuple[date, date]:
    start = date(YEAR, month, 1)
    end = date(YEAR + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return start, end


def records_for(company: Company, seed: int = 2024) -> list[ActivityRecord]:
    """Monthly records for one company; the same seed gives the same data."""
    rng = random.Random(f"{seed}:{company.key}")
    records = []
    for index, line in enumerate(company.lines):
        weights = [rng.uniform(0.92, 1.08) for _ in line.months]
        total = sum(weights)
        for month, weight in zip(line.months, weights, strict=True):
            start, end = _month(month)
            quantity = round(line.annual * weight / total, 3)
            records.append(
                ActivityRecord(
                    record_id=f"{company.key}-{YEAR}{month:02d}-{index:02d}",
                    period_start=start,
                    period_end=end,
                    site=company.site,
                    activity=line.activity,
                    quantity=quantity,
                    unit=line.unit,
                    region=company.region,
                    scope3_category=line.scope3_category,
                    customer=line.customer,
                    product=line.product,
                    instrument=line.instrument,
                    data_quality=line.data_quality,
                    source="demo-erp",
                )
            )
    return records


def write_company_data(company: Company, path: Path, seed: int = 2024) -> list[ActivityRecord]:
    records = records_for(company, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_activity_csv(records, path)
    return records


def generated_cohort(count: int, seed: int = 15) -> tuple[Company, ...]:
    """``count`` generated metal-working suppliers for benchmark tests and demos.

    Output is log-uniform between 500 t and 50 kt; energy per tonne is log-normal around
    0.4 MWh/t of electricity and 0.6 MWh/t of gas (sigma 0.5), so carbon intensities spread
    over about a decade as they do across real plants of one sector.
    """
    rng = random.Random(f"cohort:{seed}")
    regions = ("DE", "AT", "PL", "HU", "FR", "IT", "CZ")
    companies = []
    for index in range(count):
        tonnes = round(10 ** rng.uniform(math.log10(500), math.log10(50_000)))
        electricity = tonnes * 400 * rng.lognormvariate(0, 0.5)
        gas = tonnes * 600 * rng.lognormvariate(0, 0.5)
        lines = [
            Line("electricity.grid", round(electricity), "kWh"),
            Line("fuel.natural_gas", round(gas), "kWh"),
            _out("parts", tonnes, None),
        ]
        companies.append(
            Company(
                f"member{index:03d}",
                f"Member {index:03d} Metalworks",
                "supplier",
                regions[index % len(regions)],
                "metals",
                "sme",
                f"Site {index:03d}",
                tuple(lines),
            )
        )
    return tuple(companies)


def demo_legal_id(name: str) -> str:
    """A well-formed, made-up LEI for a demo or test organisation (ISO 17442 check digits).

    The prefix "FCDEMO" is no real LOU's; the rest is a hash of the name, so distinct names
    give distinct LEIs.
    """
    import hashlib

    from fedcarbon.federation.legal_id import lei_with_check_digits

    body = hashlib.sha256(name.encode()).hexdigest().upper()[:12]
    return "LEI:" + lei_with_check_digits("FCDEMO" + body)
