"""``fedcarbon footprint``: compute a GHG inventory from an activity CSV, as a table or JSON.

Heavy imports (numpy, pint, the factor datasets) happen inside the command so that
``fedcarbon --help`` stays fast.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from fedcarbon.accounting.engine import Footprint
    from fedcarbon.accounting.inventory import Inventory

app = typer.Typer(
    name="footprint",
    help="Compute a greenhouse-gas footprint (Scope 1, 2 and 3) from activity data.",
    no_args_is_help=True,
)

_out = Console()
_err = Console(stderr=True)


@app.callback()
def _group() -> None:
    """Compute a greenhouse-gas footprint (Scope 1, 2 and 3) from activity data.

    Activity data is a CSV with one row per quantity of fuel, electricity, refrigerant,
    spend or product (columns in docs/activity-data.md).
    """


def _fail(message: str) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


@app.command("compute")
def compute(
    activities: Path = typer.Argument(
        ...,
        help="Activity CSV (columns: record_id, period_start, period_end, site, activity, "
        "quantity, unit, region, and optional scope3_category, instrument, data_quality ...).",
    ),
    factors: list[Path] = typer.Option(
        [],
        "--factors",
        help="Your own factor dataset CSV (repeatable); its factors win over the built-in ones.",
    ),
    gwp: str = typer.Option("AR6", "--gwp", help="GWP100 set for CO2e: AR6 (default), AR5 or AR4."),
    strict_gwp: bool = typer.Option(
        False,
        "--strict-gwp",
        help="Refuse a total that adds CO2e-only factors published with another GWP set.",
    ),
    inventory: Path | None = typer.Option(
        None,
        "--inventory",
        help="inventory.toml: organisational boundary, base year, Scope 3 screening register.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    records: bool = typer.Option(
        True, "--records/--no-records", help="Include per-record results in --json output."
    ),
) -> None:
    """Compute Scope 1, Scope 2 (location- and market-based) and Scope 3 from ACTIVITIES.

    Bad rows are all reported with their row numbers and then nothing is computed (exit 1):
    no activity is ever dropped silently.
    """
    from fedcarbon.accounting.activity_table import read_activity_table
    from fedcarbon.accounting.engine import compute_footprint
    from fedcarbon.accounting.errors import AccountingError
    from fedcarbon.accounting.factors import FactorCatalog
    from fedcarbon.accounting.gwp import GWP_SETS
    from fedcarbon.accounting.inventory import read_inventory

    basis = gwp.upper()
    if basis not in GWP_SETS:
        raise _fail(f"--gwp {gwp!r} is not one of {', '.join(GWP_SETS)}")
    if not activities.is_file():
        raise _fail(f"activity file {str(activities)!r} does not exist")
    for path in factors:
        if not path.is_file():
            raise _fail(f"factor file {str(path)!r} does not exist")
    try:
        parsed, row_errors = read_activity_table(activities)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _fail(f"cannot read {str(activities)!r}: {exc}") from None
    if row_errors:
        _err.print(
            f"[bold red]error:[/] {activities}: {len(row_errors)} bad row(s); nothing computed:",
            highlight=False,
        )
        for row_error in row_errors:
            _err.print(f"  {row_error}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1)
    try:
        catalog = FactorCatalog.default()
        if factors:
            catalog = catalog.overlay(FactorCatalog.from_files(*factors))
        footprint = compute_footprint(parsed, catalog, gwp=basis, strict_gwp=strict_gwp)
        described = None if inventory is None else read_inventory(inventory)
    except AccountingError as exc:
        raise _fail(f"{activities}: {exc}") from None
    emit_footprint(footprint, str(activities), described, as_json=as_json, records=records)


def emit_footprint(
    footprint: Footprint,
    name: str,
    inventory: Inventory | None,
    *,
    as_json: bool,
    records: bool,
    extra: dict[str, object] | None = None,
) -> None:
    """Print a footprint (JSON or tables) with its inventory description and register check.

    Exits 1 after printing when the Scope 3 register contradicts the footprint.
    """
    from fedcarbon.accounting.inventory import check_inventory, describe

    checked = None if inventory is None else check_inventory(inventory, footprint)
    if as_json:
        document = footprint.to_dict(include_records=records)
        if inventory is not None and checked is not None:
            document["inventory"] = inventory.to_dict()
            document["inventory_check"] = {
                "errors": list(checked.errors),
                "warnings": list(checked.warnings),
                "excluded_estimate_kgco2e": checked.excluded_kgco2e,
            }
        document.update(extra or {})
        typer.echo(json.dumps(document, indent=2, allow_nan=False))
    else:
        print_footprint(footprint, name)
        if inventory is not None and checked is not None:
            _out.print(describe(inventory), highlight=False, markup=False)
            for warning in checked.warnings:
                _out.print(f"note: {warning}", highlight=False, markup=False)
            for error in checked.errors:
                _err.print(f"error: {error}", highlight=False, markup=False)
    if checked is not None and checked.errors:
        raise typer.Exit(1)


def _kg(value: float) -> str:
    return f"{value:,.2f}"


def print_footprint(footprint: Footprint, name: str) -> None:
    """The footprint as tables: scopes and categories, gases, biogenic CO2, flags."""
    from fedcarbon.accounting.engine import RecordResults

    sets = " + ".join(footprint.gwp_sets or (footprint.gwp,))
    title = f"GHG footprint of {name} (kg CO2e, GWP100 {sets})"
    if footprint.period_start and footprint.period_end:
        title += f", {footprint.period_start} to {footprint.period_end}"
    table = Table(title=title)
    table.add_column("scope")
    table.add_column("category")
    table.add_column("kg CO2e", justify="right")
    by_category = footprint.by_category
    for prefix, label, total in (
        ("scope1.", "Scope 1", footprint.scope1_kgco2e),
        ("scope2.", "Scope 2 (market-based)", footprint.scope2_market_kgco2e),
        ("scope3.", "Scope 3", footprint.scope3_kgco2e),
    ):
        names = sorted(
            (c for c in by_category if c.startswith(prefix)),
            key=lambda c: (len(c), c),  # scope3.cat2 before scope3.cat10
        )
        for category in names:
            table.add_row(label, category.removeprefix(prefix), _kg(by_category[category]))
        table.add_row(label, "[bold]total[/]", f"[bold]{_kg(total)}[/]", end_section=True)
    table.add_row("Scope 2 (location-based)", "total", _kg(footprint.scope2_location_kgco2e))
    table.add_row(
        "[bold]Total[/]", "scope 1 + 2 (market) + 3", f"[bold]{_kg(footprint.total_kgco2e)}[/]"
    )
    _out.print(table)

    gases = Table(title="By gas (kg)", caption="Scope 2 gases: location-based")
    gases.add_column("gas")
    gases.add_column("kg", justify="right")
    for gas, kg in sorted(footprint.by_gas.items(), key=lambda item: -abs(item[1])):
        gases.add_row(gas, f"{kg:,.6g}")
    _out.print(gases)

    _out.print(f"Biogenic CO2 (outside the scopes): {_kg(footprint.biogenic_co2_kg)} kg")
    _out.print(f"Primary data share: {footprint.primary_data_share:.1%}")
    _out.print(
        f"{len(footprint.records)} activity record(s), {len(footprint.outputs)} output record(s)"
    )
    flags: Counter[str] = Counter()
    if isinstance(footprint.records, RecordResults):
        flags.update(footprint.records.flag_counts())
    else:
        for result in footprint.records:
            flags.update(result.flags)
    for flag, count in sorted(flags.items()):
        _out.print(f"note: {count} record(s) flagged {flag}", highlight=False)
