"""Default values of Implementing Regulation (EU) 2025/2621 (Annex I) and their mark-ups.

The Commission's table gives, per country of origin and good, default direct, indirect and
total embedded emissions in t CO2e per t, with a production-route code where a CN code covers
goods made on different routes; a row "Other countries and territories" is the fallback where
a country has no value of its own. A CN code alone is not a unique key: white clinker
(2523 10 00 10) and grey clinker (2523 10 00 90) share CN 2523 10 00, so a lookup that matches
more than one good asks for the production route or the 10-digit code.

Importers add a mark-up to default values (Implementing Regulation (EU) 2025/2621, Article 4):
10 % / 20 % / 30 % for 2026 / 2027 / 2028 on iron and steel, aluminium, cement and hydrogen,
1 % for fertilisers; the 2028 rate applies from then on.

The package ships only a sample of rows (``data/``, see ``data/NOTICE.md``); point the loader
at the Commission's full table, exported to CSV with the same columns.
"""

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fedcarbon.cbam.errors import CbamError, DefaultValueError
from fedcarbon.cbam.goods import Sector, normalise_cn, sector_of

FALLBACK_COUNTRY = "Other countries and territories"
COLUMNS = (
    "country_or_territory",
    "country_iso3",
    "good_key",
    "default_direct_t_co2e_per_t",
    "default_indirect_t_co2e_per_t",
    "default_total_t_co2e_per_t",
    "production_route_code",
)
MARKUP_COLUMNS = ("product_group", "year", "markup_pct")
SAMPLE_TABLE = "cbam_default_values_2025_2621_SAMPLE.csv"
SAMPLE_MARKUPS = "cbam_markup_schedule.csv"
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class DefaultValue:
    """One row of the table, with the values it has (None where the cell is empty)."""

    country: str
    country_iso3: str
    good_key: str
    cn_code: str
    direct: float | None
    indirect: float | None
    total: float | None
    route: str
    row: int

    @property
    def has_values(self) -> bool:
        return self.direct is not None or self.total is not None


@dataclass(frozen=True)
class DefaultLookup:
    """The value chosen for a (CN code, country, route) and how it was found."""

    value: DefaultValue
    fallback: bool

    @property
    def direct(self) -> float:
        if self.value.direct is not None:
            return self.value.direct
        return (self.value.total or 0.0) - (self.value.indirect or 0.0)

    @property
    def indirect(self) -> float:
        return self.value.indirect or 0.0


def _read_text(path: Path | None, packaged: str) -> tuple[str, str]:
    if path is None:
        return packaged, resources.files("fedcarbon.cbam.data").joinpath(packaged).read_text(
            encoding="utf-8"
        )
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DefaultValueError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        return str(path), path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise DefaultValueError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise DefaultValueError(f"{path}: not UTF-8 text") from None


def _rows(name: str, text: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise DefaultValueError(f"{name}: missing column(s) {missing}")
    return [(i, row) for i, row in enumerate(reader, start=2)]


def _optional_number(text: str | None, where: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise DefaultValueError(f"{where}: {text!r} is not a number") from None
    if value != value or value < 0 or value == float("inf"):
        raise DefaultValueError(f"{where}: {text!r} must be a finite number >= 0")
    return value


class DefaultValueTable:
    """The default-value table, indexed for lookups by CN code, country and route."""

    def __init__(self, rows: list[DefaultValue], name: str) -> None:
        self.rows = rows
        self.name = name

    @classmethod
    def load(cls, path: Path | None = None) -> "DefaultValueTable":
        """Read the Commission's table exported as CSV (``None``: the packaged sample)."""
        name, text = _read_text(path, SAMPLE_TABLE)
        rows = []
        for number, raw in _rows(name, text, COLUMNS):
            where = f"{name}, row {number}"
            key = (raw["good_key"] or "").strip()
            code = key.split("-", 1)[0]
            try:
                cn = normalise_cn(code, where=f"{where}, good_key")
            except CbamError as error:
                raise DefaultValueError(str(error)) from None
            rows.append(
                DefaultValue(
                    country=(raw["country_or_territory"] or "").strip(),
                    country_iso3=(raw["country_iso3"] or "").strip().upper(),
                    good_key=key,
                    cn_code=cn,
                    direct=_optional_number(raw["default_direct_t_co2e_per_t"], f"{where}, direct"),
                    indirect=_optional_number(
                        raw["default_indirect_t_co2e_per_t"], f"{where}, indirect"
                    ),
                    total=_optional_number(raw["default_total_t_co2e_per_t"], f"{where}, total"),
                    route=(raw["production_route_code"] or "").strip(),
                    row=number,
                )
            )
        if not rows:
            raise DefaultValueError(f"{name}: no rows")
        return cls(rows, name)

    def _goods_for(self, cn: str, route: str | None) -> list[str]:
        """Distinct goods (good keys) a CN code designates, narrowed by route if given."""
        exact = {r.good_key for r in self.rows if r.cn_code.startswith(cn)}
        if not exact:
            broader = [r for r in self.rows if cn.startswith(r.cn_code)]
            if broader:
                longest = max(len(r.cn_code) for r in broader)
                exact = {r.good_key for r in broader if len(r.cn_code) == longest}
        if route is None:
            return sorted(exact)
        routed = {r.good_key for r in self.rows if r.good_key in exact and r.route == route}
        if exact and not routed:
            known = sorted({r.route for r in self.rows if r.good_key in exact and r.route})
            raise DefaultValueError(
                f"CN {cn}: no good on production route {route!r} in {self.name}; "
                f"routes listed for this code: {known or 'none'}"
            )
        return sorted(routed)

    def lookup(self, cn_code: str, country: str, route: str | None = None) -> DefaultLookup:
        """The default value for a good from a country, falling back to
        "Other countries and territories" where the country has no value."""
        try:
            cn = normalise_cn(cn_code)
        except CbamError as error:
            raise DefaultValueError(str(error)) from None
        goods = self._goods_for(cn, route or None)
        if not goods:
            raise DefaultValueError(f"CN {cn}: no default value for this code in {self.name}")
        if len(goods) > 1:
            options = "; ".join(
                f"{g} (route {', '.join(sorted({r.route for r in self.rows if r.good_key == g and r.route})) or 'none'})"  # noqa: E501
                for g in goods
            )
            raise DefaultValueError(
                f"CN {cn} is not a unique key in the default-value table: it matches {options}. "
                "Give the production route or the full 10-digit code."
            )
        good = goods[0]
        wanted = country.strip().upper()
        for fallback, match in (
            (False, lambda r: wanted in (r.country_iso3, r.country.upper())),
            (True, lambda r: r.country.upper() == FALLBACK_COUNTRY.upper()),
        ):
            for row in self.rows:
                if row.good_key == good and match(row) and row.has_values:
                    return DefaultLookup(row, fallback)
        raise DefaultValueError(
            f"no default value for {good} from {country!r} and no "
            f"{FALLBACK_COUNTRY!r} row in {self.name}"
        )


class MarkupSchedule:
    """Mark-up percentages by product group (sector) and year."""

    def __init__(self, rates: dict[tuple[str, int], float], name: str) -> None:
        self.rates = rates
        self.name = name

    @classmethod
    def load(cls, path: Path | None = None) -> "MarkupSchedule":
        name, text = _read_text(path, SAMPLE_MARKUPS)
        rates: dict[tuple[str, int], float] = {}
        for number, raw in _rows(name, text, MARKUP_COLUMNS):
            where = f"{name}, row {number}"
            try:
                year = int(raw["year"])
            except (TypeError, ValueError):
                raise DefaultValueError(f"{where}, year: {raw['year']!r} is not a year") from None
            pct = _optional_number(raw["markup_pct"], f"{where}, markup_pct")
            if pct is None:
                raise DefaultValueError(f"{where}, markup_pct: empty")
            rates[(raw["product_group"].strip().lower(), year)] = pct
        return cls(rates, name)

    def percent(self, sector: Sector, year: int) -> float:
        """The mark-up in percent; the last scheduled year's rate holds for later years."""
        years = sorted(y for (group, y) in self.rates if group == sector.value.lower())
        if not years:
            raise DefaultValueError(f"{self.name}: no mark-up for {sector.value}")
        if year < years[0]:
            raise DefaultValueError(
                f"{self.name}: no mark-up for {sector.value} in {year} (schedule starts {years[0]})"
            )
        applicable = max(y for y in years if y <= year)
        return self.rates[(sector.value.lower(), applicable)]


@dataclass(frozen=True)
class MarkedUpDefault:
    lookup: DefaultLookup
    markup_pct: float
    direct: float
    indirect: float


def marked_up(
    table: DefaultValueTable,
    schedule: MarkupSchedule,
    cn_code: str,
    country: str,
    year: int,
    route: str | None = None,
) -> MarkedUpDefault:
    """Default direct and indirect SEE with the year's mark-up: value x (1 + pct / 100)."""
    found = table.lookup(cn_code, country, route)
    pct = schedule.percent(sector_of(cn_code), year)
    factor = 1.0 + pct / 100.0
    return MarkedUpDefault(found, pct, found.direct * factor, found.indirect * factor)
