"""``fedcarbon adapter``: list installed adapters, show their options, check one against its source.

Everything heavy (adapter modules, pint, drivers) is imported inside the commands so that
``fedcarbon --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    name="adapter",
    help="Connectors that read activity data from ERP, MES, meters and files.",
    no_args_is_help=True,
)

_out = Console()
_err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(1)


def _summary(cls: type[Any]) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


@app.command("list")
def list_adapters(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show every installed adapter: built-ins and third-party packages alike."""
    from fedcarbon.adapters.errors import AdapterError
    from fedcarbon.adapters.registry import available_adapters

    rows: list[dict[str, Any]] = []
    for name, info in available_adapters().items():
        try:
            summary = _summary(info.load())
            status = "ok"
        except AdapterError as exc:
            summary, status = str(exc), "broken"
        rows.append(
            {
                "name": name,
                "package": info.package,
                "version": info.version,
                "builtin": info.builtin,
                "target": info.target,
                "status": status,
                "summary": summary,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Installed adapters (entry-point group fedcarbon.adapters)")
    table.add_column("name", no_wrap=True)
    table.add_column("provided by")
    table.add_column("summary")
    for row in rows:
        package = "built-in" if row["builtin"] else f"{row['package']} {row['version']}"
        summary = escape(row["summary"])
        table.add_row(
            row["name"], package, summary if row["status"] == "ok" else f"[red]{summary}[/]"
        )
    _out.print(table)


@app.command("show")
def show_adapter(
    name: str = typer.Argument(..., help="Adapter name, as `fedcarbon adapter list` shows it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show one adapter's configuration keys, their types and defaults."""
    from fedcarbon.adapters.errors import AdapterError
    from fedcarbon.adapters.options import describe_options
    from fedcarbon.adapters.registry import adapter_class

    try:
        cls = adapter_class(name)
    except AdapterError as exc:
        raise _fail(str(exc)) from None
    options = describe_options(cls.config_type)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "name": name,
                    "summary": _summary(cls),
                    "incremental": cls.incremental,
                    "options": [dataclasses.asdict(o) for o in options],
                },
                indent=2,
            )
        )
        return
    _out.print(f"[bold]{name}[/]: {_summary(cls)}", highlight=False)
    table = Table(title=escape(f"Options of [[adapters]] name = {name!r}"))
    for column in ("key", "type", "default", "meaning"):
        table.add_column(column)
    for o in options:
        table.add_row(o.key, escape(o.type), escape(o.default), escape(o.help))
    _out.print(table)


def _adapter_options(name: str, config: Path, index: int | None) -> dict[str, Any]:
    try:
        with config.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise _fail(f"cannot read {config}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(f"{config} is not valid TOML: {exc}") from None
    tables = document.get("adapters")
    if tables is None:
        return document  # a file holding one adapter's options at top level
    if not isinstance(tables, list):
        raise _fail(f"{config}: 'adapters' must be an array of tables ([[adapters]])")
    matching = [t for t in tables if isinstance(t, Mapping) and t.get("name") == name]
    if not matching:
        raise _fail(f"{config} has no [[adapters]] table with name = {name!r}")
    if index is None:
        if len(matching) > 1:
            raise _fail(f"{config} has {len(matching)} {name!r} adapters; pick one with --index")
        index = 0
    if not 0 <= index < len(matching):
        raise _fail(f"--index {index} is out of range (0..{len(matching) - 1})")
    # "label" names the table for the agent's reports; it is not an adapter option.
    return {k: v for k, v in matching[index].items() if k != "label"}


@app.command("check")
def check_adapter(
    name: str = typer.Argument(..., help="Adapter name, as `fedcarbon adapter list` shows it."),
    config: Path = typer.Option(
        ...,
        "--config",
        "-c",
        help="The agent's TOML (its adapters table with name = NAME is used) or a TOML file "
        "holding just this adapter's options.",
    ),
    period: str = typer.Option(
        ..., "--period", "-p", help="2024, 2024-Q1, 2024-03 or 2024-01-01..2024-06-30."
    ),
    index: int | None = typer.Option(
        None, "--index", help="Which table to use when the config has several for NAME (0-based)."
    ),
    conformance: bool = typer.Option(
        True,
        "--conformance/--no-conformance",
        help="Also run the conformance rules that need no planted data (fetches several times).",
    ),
    accounting: bool = typer.Option(
        True,
        "--accounting/--no-accounting",
        help="Also compute the footprint of what was read, to find records no factor prices.",
    ),
    show: int = typer.Option(20, "--show", help="How many records and rejections to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Run one adapter for a period and report what it produced and what it rejected.

    Exits with 1 when the configuration is wrong, the source cannot be read, a conformance
    rule fails, or records cannot be accounted for (no factor, a unit that does not convert,
    an unknown region: the same engine and factors the agent uses, from the config's
    ``[agent]`` ``factors`` and ``gwp``). Rejected rows alone do not fail the check: they are
    listed so you can fix the export or the mapping.
    """
    from fedcarbon.adapters.conformance import CHECKS, ConformanceCase, run_checks
    from fedcarbon.adapters.contract import Adapter, Period
    from fedcarbon.adapters.errors import AdapterError
    from fedcarbon.adapters.registry import create_adapter

    try:
        wanted = Period.parse(period)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    options = _adapter_options(name, config, index)
    base_dir = config.resolve().parent

    def make() -> Adapter:
        return create_adapter(name, options, base_dir=base_dir)

    try:
        adapter = make()
        result = adapter.fetch(wanted)
    except AdapterError as exc:
        raise _fail(str(exc)) from None
    findings = []
    if conformance:
        case = ConformanceCase(make_adapter=make, period=wanted)
        findings = run_checks(case, [c for c in CHECKS if not c.needs_planted_data])
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for record in result.records:
        totals[(record.activity, record.unit)] += record.quantity
    failed = [f for f in findings if f.status == "fail"]
    checked = _account(result.records, config) if accounting else None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "adapter": name,
                    "source": adapter.describe(),
                    "period": {"start": str(wanted.start), "end": str(wanted.end)},
                    "records": len(result.records),
                    "rejected": [
                        {"source_ref": r.source_ref, "record_id": r.record_id, "reason": r.reason}
                        for r in result.rejected
                    ],
                    "ignored": result.ignored,
                    "watermark": result.watermark,
                    "totals": [
                        {"activity": a, "unit": u, "quantity": q}
                        for (a, u), q in sorted(totals.items())
                    ],
                    "conformance": [
                        {"id": f.check_id, "title": f.title, "status": f.status, "detail": f.detail}
                        for f in findings
                    ],
                    "accounting": None if checked is None else checked.to_dict(),
                },
                indent=2,
            )
        )
    else:
        _print_report(adapter.describe(), wanted, result, totals, findings, show)
        if checked is not None:
            _print_accounting(checked, show)
    if failed or (checked is not None and checked.errors):
        raise typer.Exit(1)


def _print_report(
    source: str,
    period: Any,
    result: Any,
    totals: Mapping[tuple[str, str], float],
    findings: list[Any],
    show: int,
) -> None:
    _out.print(
        f"[bold]{source}[/] for {period}: [green]{len(result.records)} records[/], "
        f"[{'red' if result.rejected else 'green'}]{len(result.rejected)} rejected[/], "
        f"{result.ignored} ignored by configuration",
        highlight=False,
    )
    if totals:
        table = Table(title="Produced, by activity")
        table.add_column("activity")
        table.add_column("quantity", justify="right")
        table.add_column("unit")
        for (activity, unit), quantity in sorted(totals.items()):
            table.add_row(activity, f"{quantity:,.3f}", unit)
        _out.print(table)
    if result.rejected:
        table = Table(title=f"Rejected ({len(result.rejected)}; first {show} shown)")
        table.add_column("where")
        table.add_column("record")
        table.add_column("reason")
        for item in result.rejected[:show]:
            table.add_row(item.source_ref, item.record_id or "", item.reason)
        _out.print(table)
    if findings:
        table = Table(title="Conformance (rules that need no planted data)")
        table.add_column("id")
        table.add_column("rule")
        table.add_column("result")
        colour = {"pass": "green", "fail": "red", "skip": "yellow"}
        for f in findings:
            detail = f" ({f.detail})" if f.detail else ""
            table.add_row(f.check_id, f.title, f"[{colour[f.status]}]{f.status}[/]{detail}")
        _out.print(table)


@dataclass
class _Accounted:
    """What the accounting step made of an adapter's records."""

    gwp: str
    errors: list[tuple[str, int, str]] = field(default_factory=list)  # record, how many, why
    flags: dict[str, int] = field(default_factory=dict)
    total_kgco2e: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "gwp": self.gwp,
            "ok": not self.errors,
            "errors": [
                {"record_id": r, "records_alike": n, "error": why} for r, n, why in self.errors
            ],
            "flags": self.flags,
            "total_kgco2e": self.total_kgco2e,
        }


def _accounting_settings(config: Path) -> tuple[list[Path], str]:
    """The ``[agent]`` ``factors`` files (relative to the config) and ``gwp`` of an agent.toml."""
    try:
        with config.open("rb") as handle:
            section = tomllib.load(handle).get("agent", {})
    except (OSError, tomllib.TOMLDecodeError):
        return [], "AR6"
    if not isinstance(section, Mapping):
        return [], "AR6"
    files = section.get("factors", [])
    paths = [config.resolve().parent / str(f) for f in files] if isinstance(files, list) else []
    return paths, str(section.get("gwp", "AR6")).upper()


def _account(records: Sequence[Any], config: Path) -> _Accounted:
    """Price every distinct kind of record once; list each kind that fails, not only the first.

    Records that the engine groups together (same activity, region, unit, year, category and
    instrument) share a factor, so one of each is enough to find every failure; the whole set
    is then computed once for what only a total shows (overflow, flags).
    """
    from fedcarbon.accounting.engine import compute_footprint
    from fedcarbon.accounting.errors import AccountingError
    from fedcarbon.accounting.factors import FactorCatalog

    files, gwp = _accounting_settings(config)
    checked = _Accounted(gwp=gwp)
    try:
        catalog = FactorCatalog.default()
        if files:
            catalog = catalog.overlay(FactorCatalog.from_files(*files))
    except AccountingError as exc:
        checked.errors.append(("", 0, f"factor files of {config}: {exc}"))
        return checked
    kinds: dict[tuple[object, ...], list[Any]] = {}
    for r in records:
        key = (r.activity, r.region, r.unit, r.period_start.year, r.scope3_category, r.instrument)
        kinds.setdefault(key, []).append(r)
    for alike in kinds.values():
        try:
            compute_footprint(alike[:1], catalog, gwp=gwp)
        except AccountingError as exc:
            checked.errors.append((alike[0].record_id, len(alike), str(exc)))
    if checked.errors:
        return checked
    try:
        footprint = compute_footprint(records, catalog, gwp=gwp)
    except AccountingError as exc:
        checked.errors.append((exc.record_id or "", len(records), str(exc)))
        return checked
    results = footprint.records
    counts = getattr(results, "flag_counts", None)
    checked.flags = dict(counts()) if callable(counts) else {}
    checked.total_kgco2e = footprint.total_kgco2e
    return checked


def _print_accounting(checked: _Accounted, show: int) -> None:
    if not checked.errors:
        _out.print(
            f"[green]Accounting: every record is priced[/] (GWP100 {checked.gwp}, total "
            f"{checked.total_kgco2e or 0.0:,.2f} kg CO2e)",
            highlight=False,
        )
        for flag, count in sorted(checked.flags.items()):
            _out.print(f"note: {count} record(s) flagged {escape(flag)}", highlight=False)
        return
    table = Table(title=f"Cannot be accounted for ({len(checked.errors)} kind(s) of record)")
    table.add_column("record")
    table.add_column("alike", justify="right")
    table.add_column("why")
    for record_id, count, why in checked.errors[:show]:
        table.add_row(escape(record_id), str(count), escape(why))
    _out.print(table)
