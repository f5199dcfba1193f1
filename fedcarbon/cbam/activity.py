"""Activity data of an installation read through adapters (the same ``[[adapters]]`` tables
as an agent's configuration), so meters, ERP exports and MES counters feed the CBAM figures.

In the installation TOML a number may be replaced by an activity code:

- a source stream's ``activity`` (with ``unit``) sums the records of that activity code,
  converted to ``unit``, as its activity data AD;
- a process's ``activity_level_activity`` (e.g. ``output.clinker``, in t) sets AL;
- a process's ``electricity_activity`` (e.g. ``electricity.grid``, in MWh) sets E_el,cons;

each optionally narrowed to one ``site``. Only records inside the installation's period
(``period_start``, ``period_end``) count, and every resolved number becomes a traced figure
naming how many records it summed and which adapters they came from. An adapter that fails
makes the whole calculation fail: an embedded-emissions figure must not silently miss data.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fedcarbon.accounting.errors import AccountingError
from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.accounting.units import conversion_factor
from fedcarbon.adapters.collection import collect, load_adapters
from fedcarbon.adapters.contract import Period
from fedcarbon.adapters.errors import AdapterError
from fedcarbon.cbam.errors import InstallationFileError
from fedcarbon.cbam.trace import Figure

SOURCE = "activity data through fedcarbon adapters (Implementing Regulation (EU) 2025/2547, Art. 5)"


@dataclass(frozen=True)
class _Wanted:
    activity: str
    unit: str
    site: str | None
    where: str
    label: str


def _period(head: dict[str, Any], where: str) -> Period:
    try:
        start, end = head["period_start"], head["period_end"]
    except KeyError as missing:
        raise InstallationFileError(
            f"{where}.{missing.args[0]}: required when activity data come through adapters"
        ) from None
    for name, value in (("period_start", start), ("period_end", end)):
        if not isinstance(value, date):
            raise InstallationFileError(f"{where}.{name}: expected a date (2026-01-01)")
    if end < start:
        raise InstallationFileError(f"{where}: period_end is before period_start")
    return Period(start, end)


def _sum(records: list[ActivityRecord], wanted: _Wanted, period: Period) -> Figure:
    chosen = [
        r
        for r in records
        if r.activity == wanted.activity
        and (wanted.site is None or r.site == wanted.site)
        and period.overlaps(r.period_start, r.period_end)
    ]
    if not chosen:
        raise InstallationFileError(
            f"{wanted.where}: no activity record {wanted.activity!r}"
            + (f" at site {wanted.site!r}" if wanted.site else "")
            + f" in {period.start}..{period.end}"
        )
    total = 0.0
    for record in chosen:
        try:
            total += record.quantity * conversion_factor(record.unit, wanted.unit)
        except AccountingError as error:
            raise InstallationFileError(
                f"{wanted.where}: record {record.record_id!r} ({record.source or 'adapter'}): "
                f"{error}"
            ) from None
    sources = sorted({r.source or "adapter" for r in chosen})
    return Figure(
        wanted.label,
        total,
        wanted.unit,
        f"sum of {len(chosen)} record(s) {wanted.activity!r} converted to {wanted.unit} "
        f"from {', '.join(sources)}",
        SOURCE,
    )


def resolve_activity(
    data: dict[str, Any], base_dir: Path, where: str
) -> tuple[dict[str, Any], tuple[Figure, ...]]:
    """Replace activity codes by summed adapter records; return the data and their figures."""
    tables = data.get("adapters")
    if tables is None:
        return data, ()
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise InstallationFileError(f"{where}: adapters must be an array of tables")
    head = data.get("installation")
    if not isinstance(head, dict):
        raise InstallationFileError(f"{where}: [installation] is required")
    period = _period(head, f"{where}: installation")
    try:
        adapters = load_adapters(tables, base_dir=base_dir)
    except AdapterError as error:
        raise InstallationFileError(f"{where}: {error}") from None
    gathered = collect(adapters, period)
    if gathered.failures:
        failure = gathered.failures[0]
        raise InstallationFileError(f"{where}: adapter {failure.label}: {failure.error}")
    if gathered.rejected:
        label, rejected = gathered.rejected[0]
        raise InstallationFileError(
            f"{where}: adapter {label} rejected {len(gathered.rejected)} row(s), first: {rejected}"
        )
    records = gathered.records
    resolved = {k: v for k, v in data.items() if k != "adapters"}
    figures: list[Figure] = []

    def take(
        table: dict[str, Any], code_key: str, target: str, unit: str, w: str, label: str
    ) -> None:
        code = table.pop(code_key, None)
        if code is None:
            return
        if target in table:
            raise InstallationFileError(f"{w}: give either {target} or {code_key}, not both")
        site = table.pop("site", None) if code_key == "activity" else table.get("site")
        if not isinstance(code, str) or (site is not None and not isinstance(site, str)):
            raise InstallationFileError(f"{w}.{code_key}: expected text")
        figure = _sum(records, _Wanted(code, unit, site, f"{w}.{target}", label), period)
        table[target] = figure.value
        figures.append(figure)

    streams = []
    for i, raw in enumerate(resolved.get("source_streams", [])):
        table = dict(raw)
        w = f"{where}: source_streams[{i}]"
        unit = table.pop("unit", None)
        if "activity" in table and not isinstance(unit, str):
            raise InstallationFileError(f'{w}.unit: required with activity (e.g. "t")')
        take(table, "activity", "activity_data", str(unit), w, f"AD({table.get('name')})")
        streams.append(table)
    processes = []
    for i, raw in enumerate(resolved.get("processes", [])):
        table = dict(raw)
        w = f"{where}: processes[{i}]"
        name = table.get("name")
        take(table, "activity_level_activity", "activity_level", "t", w, f"AL({name})")
        take(
            table,
            "electricity_activity",
            "electricity_consumed_mwh",
            "MWh",
            w,
            f"E_el,cons({name})",
        )
        table.pop("site", None)
        processes.append(table)
    resolved["source_streams"] = streams
    resolved["processes"] = processes
    resolved["installation"] = {
        k: v for k, v in head.items() if k not in ("period_start", "period_end")
    }
    return resolved, tuple(figures)
