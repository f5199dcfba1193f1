"""``fedcarbon factors``: see every emission factor, its gases and where the number came from.

Each command reads the built-in datasets plus any organisation files given with ``--factors``
(same CSV format, see ``fedcarbon.accounting.factors``); those win on lookup, exactly as in
``fedcarbon footprint compute --factors``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from fedcarbon.accounting.errors import AccountingError
from fedcarbon.accounting.factors import DatasetInfo, EmissionFactor, FactorCatalog
from fedcarbon.accounting.gwp import BLENDS, GWP_SETS, co2e_kg, gwp100, known_gases

app = typer.Typer(
    name="factors",
    help="Browse the emission factor datasets: every number, its gases, source and licence. "
    "Activity codes are dotted names such as fuel.natural_gas, electricity.grid, "
    "freight.hgv_diesel_average or spend.naics.331110 (see docs/activity-codes.md).",
    no_args_is_help=True,
)

_out = Console()
_err = Console(stderr=True)

_FACTORS_OPTION = typer.Option(
    [],
    "--factors",
    help="Your own factor dataset CSV or datasets.json manifest (repeatable); it wins over "
    "the built-in datasets.",
)


@app.callback()
def _group() -> None:
    """Browse the emission factor datasets: every number, its gases, source and licence.

    Activity codes are dotted names such as fuel.natural_gas, electricity.grid,
    freight.hgv_diesel_average or spend.naics.331110 (see docs/activity-codes.md).
    """


def _fail(message: str) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _catalog(files: list[Path]) -> FactorCatalog:
    catalog = FactorCatalog.default()
    if not files:
        return catalog
    try:
        return catalog.overlay(FactorCatalog.from_files(*files))
    except AccountingError as exc:
        raise _fail(str(exc)) from None


def factor_to_dict(factor: EmissionFactor) -> dict[str, Any]:
    """JSON-ready view of a factor, with its CO2e per unit under each GWP set."""
    co2e: dict[str, float | None] = {}
    for basis in GWP_SETS:
        try:
            co2e[basis] = co2e_kg(factor.gases, basis)
        except AccountingError:
            co2e[basis] = None
    return {
        "ref": factor.ref,
        "dataset": factor.dataset,
        "dataset_version": factor.dataset_version,
        "activity": factor.activity,
        "region": factor.region,
        "unit": factor.unit,
        "gases_kg_per_unit": dict(factor.gases),
        "co2e_gwp_basis": factor.co2e_gwp_basis,
        "co2e_kg_per_unit": co2e,
        "published_co2e_kg_per_unit": factor.published_co2e,
        "published_gwp_basis": factor.published_gwp_basis,
        "biogenic_co2_kg_per_unit": factor.biogenic_co2,
        "scope": factor.scope,
        "category": factor.category,
        "source": factor.source,
        "source_ref": factor.source_ref,
        "year": factor.year,
        "licence": factor.licence,
        "description": factor.description,
    }


def _dataset_to_dict(info: DatasetInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "version": info.version,
        "title": info.title,
        "publisher": info.publisher,
        "year": info.year,
        "licence": info.licence,
        "attribution": info.attribution,
        "url": info.url,
        "notes": info.notes,
    }


def _co2e_text(factor: EmissionFactor) -> str:
    try:
        value = co2e_kg(factor.gases, "AR6")
    except AccountingError:
        return "?"
    return f"{value:.6g}"


def _factor_table(factors: list[EmissionFactor], title: str) -> Table:
    table = Table(title=title)
    for name in ("activity", "region", "unit", "kg CO2e/unit (AR6)", "scope", "dataset", "year"):
        table.add_column(
            name, justify="right" if name.startswith("kg") else "left", overflow="fold"
        )
    for f in factors:
        table.add_row(f.activity, f.region, f.unit, _co2e_text(f), f.scope, f.dataset, str(f.year))
    return table


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


@app.command("list")
def list_factors(
    dataset: str | None = typer.Option(
        None, "--dataset", help="Only this dataset id (see `fedcarbon factors datasets`)."
    ),
    prefix: str | None = typer.Option(
        None, "--prefix", help="Only activity codes starting with this, e.g. fuel. or travel.air."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    files: list[Path] = _FACTORS_OPTION,
) -> None:
    """List factors: activity code, region, unit, CO2e per unit (AR6), dataset and year."""
    catalog = _catalog(files)
    if dataset is not None and dataset not in catalog.datasets:
        known = ", ".join(catalog.datasets)
        raise _fail(f"unknown dataset {dataset!r} (known: {known})")
    factors = [
        f
        for f in catalog
        if (dataset is None or f.dataset == dataset)
        and (prefix is None or f.activity.startswith(prefix))
    ]
    if as_json:
        _print_json([factor_to_dict(f) for f in factors])
        return
    _out.print(_factor_table(factors, f"{len(factors)} emission factors"))


@app.command("show")
def show(
    activity: str = typer.Argument(..., help="Activity code, e.g. fuel.natural_gas."),
    region: str | None = typer.Option(
        None,
        "--region",
        help="ISO 3166 region (e.g. DE, GB-SCT): show the one factor a calculation would use, "
        "after falling back to the country and then GLOBAL. Without it: every region.",
    ),
    year: int | None = typer.Option(None, "--year", help="Reporting year (with --region)."),
    unit: str | None = typer.Option(
        None, "--unit", help="Your activity's unit, e.g. L or kWh (with --region)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    files: list[Path] = _FACTORS_OPTION,
) -> None:
    """Show a factor in full: every gas, unit, source document, row reference, year, licence."""
    catalog = _catalog(files)
    if region is not None:
        try:
            factors = [catalog.lookup(activity, region, year, unit=unit)]
        except AccountingError as exc:
            raise _fail(str(exc)) from None
    else:
        factors = [f for f in catalog if f.activity == activity]
        if not factors:
            raise _fail(
                f"unknown activity {activity!r}: no loaded dataset has it "
                "(try `fedcarbon factors search`)"
            )
    if as_json:
        _print_json([factor_to_dict(f) for f in factors])
        return
    for f in factors:
        _out.print(_detail_table(f))


def _detail_table(factor: EmissionFactor) -> Table:
    data = factor_to_dict(factor)
    table = Table(title=factor.ref, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("activity", factor.activity)
    table.add_row("region", factor.region)
    table.add_row("per unit", factor.unit)
    for gas, kg in factor.gases.items():
        label = f"CO2e part ({factor.co2e_gwp_basis})" if gas == "CO2e" else f"kg {gas}"
        table.add_row(label, f"{kg:.6g}")
    for basis, value in data["co2e_kg_per_unit"].items():
        table.add_row(f"kg CO2e ({basis})", "n/a" if value is None else f"{value:.6g}")
    if factor.published_co2e is not None:
        table.add_row(
            f"published kg CO2e ({factor.published_gwp_basis})", f"{factor.published_co2e:.6g}"
        )
    if factor.biogenic_co2:
        table.add_row("biogenic CO2 (outside scopes)", f"{factor.biogenic_co2:.6g}")
    table.add_row("scope / category", f"{factor.scope} / {factor.category}")
    table.add_row("source", factor.source)
    table.add_row("source row", factor.source_ref)
    table.add_row("year", str(factor.year))
    table.add_row("licence", factor.licence)
    table.add_row("dataset", f"{factor.dataset} {factor.dataset_version}")
    if factor.description:
        table.add_row("description", factor.description)
    return table


@app.command("search")
def search(
    words: list[str] = typer.Argument(..., help="Words to find, e.g. diesel or steel mills."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    files: list[Path] = _FACTORS_OPTION,
) -> None:
    """Find factors whose code, region, category, source or description contain every word."""
    text = " ".join(words)
    factors = _catalog(files).search(text)
    if as_json:
        _print_json([factor_to_dict(f) for f in factors])
        return
    if not factors:
        _out.print(f"no factor matches {text!r}")
        return
    _out.print(_factor_table(factors, f"{len(factors)} factors matching {text!r}"))


@app.command("datasets")
def datasets(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    files: list[Path] = _FACTORS_OPTION,
) -> None:
    """List the datasets in precedence order (first wins) with version, licence, attribution."""
    catalog = _catalog(files)
    infos = list(catalog.datasets.values())
    counts: dict[str, int] = {}
    for f in catalog:
        counts[f.dataset] = counts.get(f.dataset, 0) + 1
    if as_json:
        _print_json([{**_dataset_to_dict(i), "factors": counts.get(i.id, 0)} for i in infos])
        return
    table = Table(title="factor datasets (first wins on lookup)")
    for name in ("id", "version", "factors", "licence", "title"):
        table.add_column(name, overflow="fold")
    for i in infos:
        table.add_row(i.id, i.version, str(counts.get(i.id, 0)), i.licence, i.title)
    _out.print(table)
    for i in infos:
        _out.print(f"[bold]{i.id}[/]: {i.attribution} <{i.url}>", highlight=False, soft_wrap=True)


@app.command("gwp")
def gwp_table(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the GWP100 values (IPCC AR5 and AR6, as the GHG Protocol tabulates them) and blends."""
    rows: list[tuple[str, dict[str, float | None], dict[str, float]]] = []
    for gas in known_gases():
        values: dict[str, float | None] = {}
        for basis in GWP_SETS:
            try:
                values[basis] = gwp100(gas, basis)
            except AccountingError:
                values[basis] = None
        rows.append((gas, values, dict(BLENDS.get(gas, {}))))
    if as_json:
        _print_json([{"gas": g, "gwp100": v, "components": c} for g, v, c in rows])
        return
    table = Table(title="GWP100 (kg CO2e per kg of gas)")
    table.add_column("gas")
    for basis in GWP_SETS:
        table.add_column(basis, justify="right")
    table.add_column("blend of (mass fraction)", overflow="fold")
    for gas, values, components in rows:
        cells = ["n/a" if v is None else f"{v:g}" for v in values.values()]
        parts = ", ".join(f"{g} {w:g}" for g, w in components.items())
        table.add_row(gas, *cells, parts)
    _out.print(table)
    _out.print(
        "Sources: IPCC AR5 WGI Table 8.A.1 and AR6 WGI Tables 7.15/7.SM.7, as in the GHG "
        "Protocol 'Global Warming Potential Values' table; blends from ASHRAE Standard 34 "
        "compositions. CH4 = non-fossil methane; CH4_fossil for fugitive fossil methane.",
        soft_wrap=True,
    )


@app.command("match")
def match(
    file: Path = typer.Argument(..., help="CSV file of purchase lines (UTF-8, header row)."),
    column: str = typer.Option(
        "description", "--column", help="Column holding the free-text description."
    ),
    top: int = typer.Option(5, "--top", min=1, max=50, help="Candidates per line."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Suggest NAICS-6 codes (EPA spend-based factors) for free-text purchase lines, offline.

    Each line gets its best candidates with a calibrated confidence and the NAICS index phrase
    that matched; the best one's confidence decides auto-accept, review or unknown. Nothing
    leaves the machine. See docs/factor-matching.md.
    """
    from fedcarbon.matching.errors import MatchingError
    from fedcarbon.matching.lines import read_descriptions
    from fedcarbon.matching.matcher import Matcher

    try:
        descriptions = read_descriptions(file, column)
    except MatchingError as exc:
        raise _fail(str(exc)) from None
    matches = Matcher().match(descriptions, top=top)
    if as_json:
        _print_json(
            {
                "matches": [
                    {
                        "row": i,
                        "description": m.description,
                        "candidates": [
                            {
                                "naics6": c.naics6,
                                "title": c.title,
                                "score": c.score,
                                "reason": c.reason,
                            }
                            for c in m.candidates
                        ],
                    }
                    for i, m in enumerate(matches, start=1)
                ]
            }
        )
        return
    table = Table(title=f"{len(matches)} purchase lines matched")
    for name in ("row", "description", "decision", "naics6", "confidence", "title", "reason"):
        table.add_column(name, overflow="fold")
    for i, m in enumerate(matches, start=1):
        for rank, c in enumerate(m.candidates):
            first = rank == 0
            table.add_row(
                str(i) if first else "",
                m.description if first else "",
                m.decision.value if first else "",
                c.naics6,
                f"{c.score:.2f}",
                c.title,
                c.reason,
            )
        if not m.candidates:
            table.add_row(str(i), m.description, m.decision.value, "", "", "", "")
    _out.print(table)
