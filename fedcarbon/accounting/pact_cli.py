"""``fedcarbon pact``: validate, show, upgrade and export PACT v3 product footprint files.

PACT (WBCSD Partnership for Carbon Transparency) is how companies exchange product carbon
footprints; ``validate`` checks files against the spec's schema, ``export`` writes the
company's own cradle-to-gate PCFs computed from its activity data. Heavy imports happen inside
the commands so that ``fedcarbon --help`` stays fast.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from fedcarbon.accounting.pact import ProductFootprint
    from fedcarbon.accounting.pact_schema import Violation

app = typer.Typer(
    name="pact",
    help="Exchange product carbon footprints as PACT v3 files: validate, show, upgrade, export.",
    no_args_is_help=True,
)

_out = Console()
_err = Console(stderr=True)


@app.callback()
def _group() -> None:
    """Exchange product carbon footprints (PCFs) as PACT v3 ProductFootprint JSON files.

    PACT is the WBCSD Partnership for Carbon Transparency's format for sharing PCFs between
    suppliers and customers. A file holds one footprint, or an API response body
    {"data": ...} with one or a list of them. Suppliers' PACT files feed Scope 3 category 1
    (`fedcarbon pact export --supplier-pcf`).
    """


def _fail(message: str) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _read_json(path: Path) -> tuple[Any, str | None]:
    """(document, None) or (None, why it could not be read)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror or exc}"
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    except RecursionError:
        return None, "JSON nested too deeply to read"


@app.command("validate")
def validate_files(
    files: list[Path] = typer.Argument(
        ..., help="PACT JSON files: a footprint, or a get/list response body {'data': ...}."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Also fail on warnings (properties the spec does not define)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print violations as JSON."),
) -> None:
    """Check FILES against the PACT v3 schema; list each violation with file and JSON path.

    Exit code 1 when any file has an error (or, with --strict, a warning). Properties the
    spec does not define are warnings: the spec's schema allows them.
    """
    from fedcarbon.accounting.pact_schema import Violation, validate
    from fedcarbon.accounting.pact_schema.v2 import is_v2

    found: list[tuple[str, Violation]] = []
    for path in files:
        document, problem = _read_json(path)
        if problem is not None:
            found.append((str(path), Violation("$", problem)))
            continue
        violations = validate(document)
        if isinstance(document, dict) and is_v2(document):
            violations.insert(
                0,
                Violation(
                    "$.specVersion",
                    "a PACT 2.x footprint, checked against v3; `fedcarbon pact upgrade` "
                    "converts it",
                    "warning",
                    "version",
                ),
            )
        found.extend((str(path), v) for v in violations)
    failing = [v for _, v in found if v.severity == "error" or strict]
    if as_json:
        rows = [
            {
                "file": f,
                "json_path": v.json_path,
                "severity": v.severity,
                "kind": v.kind,
                "message": v.message,
            }
            for f, v in found
        ]
        print(json.dumps({"valid": not failing, "violations": rows}, indent=2))
    else:
        per_file = Counter(f for f, v in found if v.severity == "error" or strict)
        for path in files:
            if per_file[str(path)] == 0:
                _out.print(f"[green]valid[/]   {path}", highlight=False)
        if found:
            table = Table(title="PACT v3 violations")
            for column in ("file", "severity", "JSON path", "message"):
                table.add_column(column, overflow="fold")
            for f, v in found:
                colour = "red" if v.severity == "error" else "yellow"
                table.add_row(f, f"[{colour}]{v.severity}[/]", v.json_path, v.message)
            _out.print(table)
    if failing:
        raise typer.Exit(1)


def _load(path: Path) -> list[ProductFootprint]:
    from fedcarbon.accounting.pact import load_footprints
    from fedcarbon.accounting.pact_schema.errors import PactError

    if not path.is_file():
        raise _fail(f"PACT file {str(path)!r} does not exist")
    try:
        return load_footprints(path)
    except PactError as exc:
        raise _fail(str(exc)) from None


@app.command("show")
def show(
    file: Path = typer.Argument(..., help="A PACT JSON file (v3, or v2.x which is upgraded)."),
    as_json: bool = typer.Option(False, "--json", help="Print the footprints as v3 JSON."),
) -> None:
    """Show the footprints in FILE as a table: product, declared unit, PCF, period, geography."""
    from fedcarbon.accounting.pact import dump_footprint

    footprints = _load(file)
    if as_json:
        print(json.dumps({"data": [dump_footprint(fp) for fp in footprints]}, indent=2))
        return
    table = Table(title=f"PACT footprints in {file} (kgCO2e per declared unit)")
    for column in (
        "product",
        "declared unit",
        "excl. uptake",
        "incl. uptake",
        "geography",
        "period",
        "status",
    ):
        table.add_column(column, overflow="fold")
    for fp in footprints:
        pcf = fp.pcf
        including = pcf.pcf_including_biogenic_uptake
        table.add_row(
            "\n".join([f"{fp.product_name_company} ({fp.company_name})", *fp.product_ids]),
            f"{pcf.declared_unit_amount} {pcf.declared_unit_of_measurement}",
            str(pcf.pcf_excluding_biogenic_uptake),
            "-" if including is None else str(including),
            pcf.geography,
            f"{pcf.reference_period_start:%Y-%m-%d}\n{pcf.reference_period_end:%Y-%m-%d}",
            fp.status,
        )
    _out.print(table)


@app.command("upgrade")
def upgrade(
    file: Path = typer.Argument(..., help="A PACT 2.x (or 3.x) JSON file."),
    out: str = typer.Option("-", "--out", help="Output file, or - for standard output."),
) -> None:
    """Rewrite FILE as PACT v3 (v2.x properties mapped, unmappable ones noted in comment)."""
    from fedcarbon.accounting.pact import dumps

    footprints = _load(file)
    text = dumps(footprints[0] if len(footprints) == 1 else footprints)
    if out == "-":
        print(text, end="")
    else:
        Path(out).write_text(text, encoding="utf-8")
        _err.print(f"wrote {out}", highlight=False)


def parse_pairs(values: list[str], option: str) -> dict[str, float]:
    """``PRODUCT=NUMBER`` options -> mapping, failing with the option's name on bad input."""
    result: dict[str, float] = {}
    for value in values:
        product, sep, number = value.rpartition("=")
        try:
            result[product] = float(number)
        except ValueError:
            product = ""
        if not sep or not product:
            raise _fail(f"{option} {value!r}: expected PRODUCT=NUMBER")
    return result


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "product"


@app.command("export")
def export(
    activities: Path = typer.Argument(
        ..., help="Activity CSV with the site's activities and its output.<product> rows."
    ),
    company_id: list[str] = typer.Option(
        ..., "--company-id", help="URN identifying your company (repeatable), e.g. urn:lei:..."
    ),
    company_name: str = typer.Option(..., "--company-name", help="Your company's name."),
    domain: str | None = typer.Option(
        None,
        "--domain",
        help="Your domain name; product ids become urn:pact:<domain>:supplier-id:<product>.",
    ),
    allocation: str = typer.Option(
        "mass", "--allocation", help="How to share the site's emissions: mass, physical, economic."
    ),
    price: list[str] = typer.Option(
        [], "--price", help="PRODUCT=PRICE per declared unit (economic allocation; repeatable)."
    ),
    physical: list[str] = typer.Option(
        [],
        "--physical",
        help="PRODUCT=AMOUNT of the physical quantity per declared unit (physical allocation).",
    ),
    physical_quantity: str | None = typer.Option(
        None, "--physical-quantity", help="Name of that quantity, e.g. 'MJ lower heating value'."
    ),
    mass: list[str] = typer.Option(
        [], "--mass", help="PRODUCT=KG per declared unit, for products counted in pieces, litres."
    ),
    supplier_pcf: list[Path] = typer.Option(
        [],
        "--supplier-pcf",
        help="Suppliers' PACT files: their PCFs price activity pcf.<productId> (Scope 3 cat. 1).",
    ),
    factors: list[Path] = typer.Option(
        [], "--factors", help="Your own factor dataset CSV (repeatable); wins over built-ins."
    ),
    gwp: str = typer.Option("AR6", "--gwp", help="GWP100 set for CO2e: AR6 (default), AR5 or AR4."),
    inventory: Path | None = typer.Option(
        None,
        "--inventory",
        help="inventory.toml: boundary, base year and Scope 3 register, carried into the files.",
    ),
    out: str = typer.Option(
        "-",
        "--out",
        help="Directory for one <product>.json per product, or - to print one list response.",
    ),
) -> None:
    """Compute your products' cradle-to-gate PCFs from ACTIVITIES and write PACT v3 files.

    The site's Scope 1, Scope 2 (market-based) and upstream Scope 3 categories 1, 3, 4 and 5
    are shared among the output.<product> rows by the chosen allocation (docs/pact.md).
    """
    from fedcarbon.accounting.engine import compute_footprint
    from fedcarbon.accounting.errors import AccountingError
    from fedcarbon.accounting.factors import FactorCatalog
    from fedcarbon.accounting.gwp import GWP_SETS
    from fedcarbon.accounting.inventory import read_inventory
    from fedcarbon.accounting.pact import (
        Company,
        export_products,
        factors_from_pact,
    )
    from fedcarbon.accounting.pact_schema import is_urn
    from fedcarbon.accounting.pcf import ALLOCATION_METHODS
    from fedcarbon.accounting.records import read_activity_csv

    basis = gwp.upper()
    if basis not in GWP_SETS:
        raise _fail(f"--gwp {gwp!r} is not one of {', '.join(GWP_SETS)}")
    if allocation not in ALLOCATION_METHODS:
        raise _fail(f"--allocation {allocation!r} is not one of {', '.join(ALLOCATION_METHODS)}")
    for company in company_id:
        if not is_urn(company):
            raise _fail(f"--company-id {company!r} is not a URN (urn:<namespace>:<id>, RFC 8141)")
    if not activities.is_file():
        raise _fail(f"activity file {str(activities)!r} does not exist")
    prices = parse_pairs(price, "--price") or None
    quantities = parse_pairs(physical, "--physical") or None
    masses = parse_pairs(mass, "--mass") or None
    records, row_errors = read_activity_csv(activities)
    if row_errors:
        for error in row_errors:
            where = f"row {error.row}" + (f" ({error.field})" if error.field else "")
            _err.print(f"[red]{activities}:{where}[/]: {error.message}", highlight=False)
        raise _fail(f"{len(row_errors)} bad row(s) in {activities}; nothing exported")
    try:
        catalog = FactorCatalog.default()
        if factors:
            catalog = catalog.overlay(FactorCatalog.from_files(*factors))
        supplied = [fp for path in supplier_pcf for fp in _load(path)]
        if supplied:
            catalog = catalog.overlay(factors_from_pact(supplied))
        footprint = compute_footprint(records, catalog, gwp=basis)
        described = None if inventory is None else read_inventory(inventory)
        owner = Company(name=company_name, ids=tuple(company_id), domain=domain)
        pairs = export_products(
            footprint,
            records,
            catalog,
            owner,
            allocation=allocation,
            prices=prices,
            physical=quantities,
            physical_quantity=physical_quantity,
            masses=masses,
            inventory=described,
        )
    except AccountingError as exc:
        raise _fail(str(exc)) from None
    write_products(pairs, out, f"Cradle-to-gate PCFs ({allocation} allocation, {basis})")


def write_products(pairs: list[Any], out: str, title: str) -> None:
    """Print one list response (``out`` is -) or write ``<product>.json`` files, then a table."""
    from fedcarbon.accounting.pact import dump_footprint

    pcfs = [pcf for pcf, _ in pairs]
    footprints = [fp for _, fp in pairs]
    if out == "-":
        print(json.dumps({"data": [dump_footprint(fp) for fp in footprints]}, indent=2))
    else:
        directory = Path(out)
        directory.mkdir(parents=True, exist_ok=True)
        used: set[str] = set()
        for pcf, fp in zip(pcfs, footprints, strict=True):
            name = _slug(pcf.product_id)
            while name in used:  # "a/b" and "a_b" must not overwrite each other
                name += "_"
            used.add(name)
            target = directory / f"{name}.json"
            target.write_text(json.dumps(dump_footprint(fp), indent=2) + "\n", encoding="utf-8")
    table = Table(title=title)
    for column in ("product", "declared unit", "amount made", "kgCO2e per unit", "share"):
        table.add_column(column)
    for pcf in pcfs:
        table.add_row(
            pcf.product_id,
            pcf.declared_unit,
            f"{pcf.product_amount:,.6g}",
            f"{pcf.pcf_excluding_biogenic:.6g}",
            f"{pcf.allocation_share:.1%}",
        )
    _err.print(table)
    for pcf in pcfs[:1]:
        _err.print(
            f"primary data share {pcf.primary_data_share:.1%}; exempted emissions "
            f"{pcf.exempted_percent:g}%"
            + (f": {pcf.exempted_description}" if pcf.exempted_percent else ""),
            highlight=False,
        )
