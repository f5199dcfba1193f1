"""What an auditor asks of an inventory beyond its numbers: boundary, base year, Scope 3 screening.

An organisation describes its inventory once, in a TOML file (``inventory.toml``), and the
footprint output and PACT exports carry it:

* **Organisational boundary** (GHG Protocol Corporate Standard ch. 3): the consolidation
  approach, ``equity-share``, ``financial-control`` or ``operational-control``, and a text
  saying which entities and sites are in and out.
* **Base year and recalculation** (ch. 5): the base year, its emissions, the recalculation
  policy and its significance threshold (a percentage of base-year emissions), and the
  structural or methodological changes recorded since, each with its effect on base-year
  emissions. When their cumulative effect reaches the threshold the base year must be
  recalculated; ``check_inventory`` says so and gives the recalculated figure.
* **Scope 3 screening and exclusions** (Scope 3 Standard ch. 6.3 and 11.1: report every
  category, and disclose and justify each exclusion): one entry per category 1..15, with
  status ``included``, ``excluded`` or ``not-relevant``, a reason for the last two and,
  optionally, an estimate of what an exclusion leaves out.

Per-record data quality ratings live on the records themselves (``quality.py``).

File layout::

    [organisation]
    name = "Acme Castings Ltd"
    consolidation = "operational-control"
    boundary = "Both UK foundries; the 30 % joint venture in Poland is outside (no control)."

    [base_year]
    year = 2019
    kgco2e = 1250000.0
    threshold_percent = 5.0
    policy = "Recalculate for acquisitions, divestments, outsourcing and method changes ..."

    [[base_year.changes]]
    date = 2023-04-01
    description = "Acquired the Sheffield machining site"
    kgco2e = 80000.0

    [[scope3]]
    category = 1
    status = "included"

    [[scope3]]
    category = 11
    status = "not-relevant"
    reason = "We sell castings, which use no energy"
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fedcarbon.accounting.errors import InventoryError

if TYPE_CHECKING:
    from fedcarbon.accounting.engine import Footprint
    from fedcarbon.accounting.pcf import Exemption

CONSOLIDATION_APPROACHES: tuple[str, ...] = (
    "equity-share",
    "financial-control",
    "operational-control",
)
"""GHG Protocol Corporate Standard ch. 3."""

SCREENING_STATUSES: tuple[str, ...] = ("included", "excluded", "not-relevant")


@dataclass(frozen=True)
class BaseYearChange:
    """A structural or methodological change and its effect on base-year emissions (kg)."""

    date: date
    description: str
    kgco2e: float


@dataclass(frozen=True)
class BaseYear:
    """The base year, its emissions, the recalculation policy and the changes since."""

    year: int
    kgco2e: float
    threshold_percent: float
    policy: str
    changes: tuple[BaseYearChange, ...] = ()

    @property
    def cumulative_change_percent(self) -> float:
        """Cumulative effect of the changes, as a percentage of base-year emissions."""
        return 100.0 * abs(sum(c.kgco2e for c in self.changes)) / self.kgco2e

    @property
    def recalculation_due(self) -> bool:
        """True when the changes together reach the significance threshold (ch. 5)."""
        return self.cumulative_change_percent >= self.threshold_percent

    @property
    def recalculated_kgco2e(self) -> float:
        """Base-year emissions with every recorded change applied."""
        return self.kgco2e + sum(c.kgco2e for c in self.changes)


@dataclass(frozen=True)
class Scope3Screening:
    """One Scope 3 category's screening result."""

    category: int
    status: str
    reason: str = ""
    estimated_kgco2e: float | None = None


@dataclass(frozen=True)
class Inventory:
    """An inventory's boundary, base year and Scope 3 screening (see the module docstring)."""

    organisation: str
    consolidation: str
    boundary: str
    base_year: BaseYear | None = None
    scope3: tuple[Scope3Screening, ...] = ()

    def screening(self, category: int) -> Scope3Screening | None:
        """The register's entry for a category, or None."""
        return next((s for s in self.scope3 if s.category == category), None)

    def to_dict(self) -> dict[str, Any]:
        base = self.base_year
        return {
            "organisation": self.organisation,
            "consolidation": self.consolidation,
            "boundary": self.boundary,
            "base_year": None
            if base is None
            else {
                "year": base.year,
                "kgco2e": base.kgco2e,
                "threshold_percent": base.threshold_percent,
                "policy": base.policy,
                "changes": [
                    {"date": c.date.isoformat(), "description": c.description, "kgco2e": c.kgco2e}
                    for c in base.changes
                ],
                "cumulative_change_percent": base.cumulative_change_percent,
                "recalculation_due": base.recalculation_due,
                "recalculated_kgco2e": base.recalculated_kgco2e,
            },
            "scope3_screening": [
                {
                    "category": s.category,
                    "status": s.status,
                    "reason": s.reason,
                    "estimated_kgco2e": s.estimated_kgco2e,
                }
                for s in self.scope3
            ],
        }


def _text(table: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InventoryError(f"{where}.{key}: give a non-empty text")
    return value.strip()


def _number(table: Mapping[str, Any], key: str, where: str, *, positive: bool = False) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InventoryError(f"{where}.{key}: give a finite number, got {value!r}")
    if positive and value <= 0:
        raise InventoryError(f"{where}.{key}: must be > 0, got {value!r}")
    return float(value)


def _base_year(table: Any) -> BaseYear:
    if not isinstance(table, Mapping):
        raise InventoryError("[base_year] must be a table")
    year = table.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1990 <= year <= 2100:
        raise InventoryError(f"base_year.year: give a year such as 2019, got {year!r}")
    changes = []
    for i, change in enumerate(table.get("changes", [])):
        where = f"base_year.changes[{i}]"
        if not isinstance(change, Mapping) or not isinstance(change.get("date"), date):
            raise InventoryError(f"{where}.date: give a TOML date (YYYY-MM-DD)")
        changes.append(
            BaseYearChange(
                change["date"],
                _text(change, "description", where),
                _number(change, "kgco2e", where),
            )
        )
    threshold = _number(table, "threshold_percent", "base_year", positive=True)
    if threshold > 100:
        raise InventoryError(f"base_year.threshold_percent: {threshold} is above 100")
    return BaseYear(
        year=year,
        kgco2e=_number(table, "kgco2e", "base_year", positive=True),
        threshold_percent=threshold,
        policy=_text(table, "policy", "base_year"),
        changes=tuple(changes),
    )


def _screening(entries: Any) -> tuple[Scope3Screening, ...]:
    if not isinstance(entries, list):
        raise InventoryError("scope3 must be an array of tables ([[scope3]])")
    seen: set[int] = set()
    out = []
    for i, entry in enumerate(entries):
        where = f"scope3[{i}]"
        if not isinstance(entry, Mapping):
            raise InventoryError(f"{where}: must be a table")
        category = entry.get("category")
        if not isinstance(category, int) or isinstance(category, bool) or not 1 <= category <= 15:
            raise InventoryError(f"{where}.category: give 1..15, got {category!r}")
        if category in seen:
            raise InventoryError(f"{where}.category: category {category} is listed twice")
        seen.add(category)
        status = entry.get("status")
        if status not in SCREENING_STATUSES:
            raise InventoryError(f"{where}.status: one of {', '.join(SCREENING_STATUSES)}")
        reason = _text(entry, "reason", where, required=status != "included")
        estimate = None
        if "estimated_kgco2e" in entry:
            estimate = _number(entry, "estimated_kgco2e", where)
            if estimate < 0:
                raise InventoryError(f"{where}.estimated_kgco2e: must be >= 0")
        out.append(Scope3Screening(category, str(status), reason, estimate))
    return tuple(sorted(out, key=lambda s: s.category))


def parse_inventory(document: Mapping[str, Any]) -> Inventory:
    """An ``Inventory`` from a parsed TOML document.

    Raises:
        InventoryError: naming the key that is missing or wrong.
    """
    organisation = document.get("organisation")
    if not isinstance(organisation, Mapping):
        raise InventoryError("[organisation] with name, consolidation and boundary is required")
    consolidation = organisation.get("consolidation")
    if consolidation not in CONSOLIDATION_APPROACHES:
        raise InventoryError(
            f"organisation.consolidation: one of {', '.join(CONSOLIDATION_APPROACHES)} "
            f"(GHG Protocol Corporate Standard ch. 3), got {consolidation!r}"
        )
    unknown = set(document) - {"organisation", "base_year", "scope3"}
    if unknown:
        raise InventoryError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    return Inventory(
        organisation=_text(organisation, "name", "organisation"),
        consolidation=str(consolidation),
        boundary=_text(organisation, "boundary", "organisation"),
        base_year=_base_year(document["base_year"]) if "base_year" in document else None,
        scope3=_screening(document.get("scope3", [])),
    )


def read_inventory(path: str | Path) -> Inventory:
    """Read ``inventory.toml``; errors name the file and the key."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"{path}: not valid TOML ({exc})") from None
    try:
        return parse_inventory(document)
    except InventoryError as exc:
        raise InventoryError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class InventoryCheck:
    """What the register says against what the footprint holds."""

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    excluded_kgco2e: float = 0.0  # sum of the estimates of excluded categories
    unscreened: tuple[int, ...] = field(default=())


def check_inventory(inventory: Inventory, footprint: Footprint) -> InventoryCheck:
    """Compare the Scope 3 register with the footprint's categories, and the base year.

    Errors: a category with emissions marked excluded or not relevant (the register and the
    numbers disagree). Warnings: categories the register does not cover (the Scope 3 Standard
    asks for all 15), a category marked included without emissions, a due base-year
    recalculation, an exclusion without an estimate.
    """
    errors: list[str] = []
    warnings: list[str] = []
    unscreened = tuple(n for n in range(1, 16) if inventory.screening(n) is None)
    if unscreened:
        warnings.append(
            "Scope 3 categories without a screening result: "
            + ", ".join(str(n) for n in unscreened)
        )
    for entry in inventory.scope3:
        kg = footprint.by_category.get(f"scope3.cat{entry.category}", 0.0)
        if entry.status != "included" and kg != 0.0:
            errors.append(
                f"Scope 3 category {entry.category} is marked {entry.status} but the footprint "
                f"has {kg:,.1f} kg CO2e in it"
            )
        if entry.status == "included" and kg == 0.0:
            warnings.append(f"Scope 3 category {entry.category} is marked included but is empty")
        if entry.status == "excluded" and entry.estimated_kgco2e is None:
            warnings.append(f"Scope 3 category {entry.category} is excluded without an estimate")
    base = inventory.base_year
    if base is not None and base.recalculation_due:
        warnings.append(
            f"base year {base.year} must be recalculated: recorded changes amount to "
            f"{base.cumulative_change_percent:.1f} % of its emissions (threshold "
            f"{base.threshold_percent:g} %); recalculated: {base.recalculated_kgco2e:,.0f} kg CO2e"
        )
    excluded = sum(s.estimated_kgco2e or 0.0 for s in inventory.scope3 if s.status == "excluded")
    return InventoryCheck(tuple(errors), tuple(warnings), excluded, unscreened)


def excluded_in_boundary(inventory: Inventory, categories: Sequence[int]) -> list[Scope3Screening]:
    """The register's exclusions among ``categories`` (e.g. a PCF's cradle-to-gate ones)."""
    return [s for s in inventory.scope3 if s.status == "excluded" and s.category in categories]


__all__ = [
    "CONSOLIDATION_APPROACHES",
    "BaseYear",
    "BaseYearChange",
    "Inventory",
    "InventoryCheck",
    "Scope3Screening",
    "check_inventory",
    "describe",
    "excluded_in_boundary",
    "parse_inventory",
    "read_inventory",
    "with_register",
]


def with_register(
    exemption: Exemption, inventory: Inventory, footprint: Footprint, categories: Sequence[int]
) -> Exemption:
    """A PCF's exemption with the register's exclusions inside its boundary added.

    Each excluded category among ``categories`` adds its estimate (one excluded without an
    estimate is named, and the share becomes a lower bound); a category 3 exclusion with an
    estimate replaces the engine's own category 3 estimate rather than adding to it.
    """
    from fedcarbon.accounting.pcf import Exemption, cradle_to_gate_kgco2e

    excluded = excluded_in_boundary(inventory, categories)
    if not excluded:
        return exemption
    extra = sum(s.estimated_kgco2e or 0.0 for s in excluded)
    own = exemption.estimated_kgco2e
    texts = [exemption.description] if exemption.description else []
    if any(s.category == 3 and s.estimated_kgco2e is not None for s in excluded):
        own, texts = 0.0, []
    texts += [
        f"Scope 3 category {s.category} excluded ({s.reason})"
        + ("" if s.estimated_kgco2e is not None else ", not estimated: the share is a lower bound")
        for s in excluded
    ]
    pool = cradle_to_gate_kgco2e(footprint, categories)
    left_out = own + extra
    percent = 100.0 * left_out / (pool + left_out) if pool + left_out > 0 else 0.0
    return Exemption(round(percent, 2), "; ".join(texts), left_out, exemption.not_estimated)


def describe(inventory: Inventory) -> str:
    """One paragraph for a PACT comment: boundary, consolidation approach, base year."""
    text = (
        f"Organisational boundary ({inventory.consolidation.replace('-', ' ')} approach, GHG "
        f"Protocol Corporate Standard ch. 3): {inventory.boundary}"
    )
    base = inventory.base_year
    if base is not None:
        text += (
            f" Base year {base.year}: {base.kgco2e:,.0f} kg CO2e; recalculation policy: "
            f"{base.policy} (threshold {base.threshold_percent:g} %)."
        )
        if base.recalculation_due:
            text += f" Recalculated base year: {base.recalculated_kgco2e:,.0f} kg CO2e."
    return text
