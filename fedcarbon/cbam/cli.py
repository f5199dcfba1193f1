"""``fedcarbon cbam``: embedded emissions for installation operators, declarations for importers.

- ``compute``: an installation's goods, SEE direct / indirect / total, every figure traceable;
  exports the operator-to-importer communication (template xlsx / JSON, and the importer-facing
  figures alone).
- ``default``: one default value with its mark-up (Implementing Regulation (EU) 2025/2621).
- ``declaration``: an importer's yearly embedded emissions and certificates due.

Sending communications to importers through a coordinator, sealed, is ``fedcarbon agent cbam``.
"""

import json
from pathlib import Path
from typing import Any

import typer

from fedcarbon.cbam.communication import (
    Communication,
    communication_of,
    template_json,
    write_template_xlsx,
)
from fedcarbon.cbam.declaration import declare, read_customs_lines, read_free_allocation
from fedcarbon.cbam.defaults import DefaultValueTable, MarkupSchedule, marked_up
from fedcarbon.cbam.embedded import InstallationResult, compute
from fedcarbon.cbam.errors import CbamError
from fedcarbon.cbam.installation import load_installation
from fedcarbon.console import fail, out, print_json, table

app = typer.Typer(
    name="cbam",
    help="EU CBAM: embedded emissions of goods (operators) and yearly declarations (importers).",
    no_args_is_help=True,
)

JSON = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")
TABLE = typer.Option(
    None, "--defaults", help="The Commission's default-value table as CSV (default: the sample)."
)
MARKUPS = typer.Option(None, "--markups", help="Mark-up schedule CSV (default: the packaged one).")


def _result_json(result: InstallationResult) -> dict[str, Any]:
    inst = result.installation
    return {
        "installation": {
            "id": inst.identifier or inst.name,
            "name": inst.name,
            "country": inst.country,
            "period": inst.period,
        },
        "total_direct_t_co2e": result.total_direct_t_co2e,
        "installation_figures": [f.to_dict() for f in result.figures],
        "goods": [
            {
                "name": g.name,
                "process": g.process,
                "cn_code": g.cn_code,
                "production_route": g.production_route,
                "activity_level_t": g.activity_level_t,
                "see_direct": g.see_direct,
                "see_indirect": g.see_indirect,
                "see_total": g.see_total,
                "indirect_counted": g.indirect_counted,
                "see_chargeable": g.see_chargeable,
                "figures": [f.to_dict() for f in g.figures],
            }
            for g in result.goods
        ],
    }


@app.command("compute")
def compute_command(
    installation: Path = typer.Argument(..., help="The installation described in TOML."),
    as_json: bool = JSON,
    trace: bool = typer.Option(False, "--trace", help="Print every intermediate figure."),
    xlsx: Path | None = typer.Option(
        None, "--xlsx", help="Write the communication template data as xlsx."
    ),
    template: Path | None = typer.Option(
        None, "--template-json", help="Write the communication template data as JSON."
    ),
    communication: Path | None = typer.Option(
        None,
        "--communication",
        help="Write only the figures importers must declare (what `agent cbam send` sends).",
    ),
) -> None:
    """SEE direct, indirect and total per good, in t CO2e per t."""
    try:
        result = compute(load_installation(installation))
        if xlsx is not None:
            write_template_xlsx(result, xlsx)
        if template is not None:
            template.write_text(json.dumps(template_json(result), indent=2, sort_keys=True))
        if communication is not None:
            communication.write_bytes(communication_of(result).to_json())
    except CbamError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write: {error}")
    if as_json:
        print_json(_result_json(result))
        return
    table(
        f"{result.installation.name}: specific embedded emissions (t CO2e/t)",
        ["good", "CN", "route", "direct", "indirect", "total", "counts"],
        [
            [
                g.name,
                g.cn_code,
                g.production_route,
                f"{g.see_direct:.4f}",
                f"{g.see_indirect:.4f}",
                f"{g.see_total:.4f}",
                "direct+indirect" if g.indirect_counted else "direct (Annex II)",
            ]
            for g in result.goods
        ],
    )
    if trace:
        rows = [[f.label, f"{f.value:.6g}", f.unit, f.formula] for f in result.figures]
        rows += [
            [f.label, f"{f.value:.6g}", f.unit, f.formula] for g in result.goods for f in g.figures
        ]
        table("How each figure was made", ["figure", "value", "unit", "formula"], rows)
    else:
        out.print("add --trace to see every intermediate figure, --json for machines")


@app.command("default")
def default_command(
    cn_code: str = typer.Argument(..., help="CN code (8 or 10 digits)."),
    country: str = typer.Argument(..., help="Country of origin: ISO alpha-3 or the table's name."),
    year: int = typer.Option(2026, help="Year of import (sets the mark-up)."),
    route: str | None = typer.Option(None, help="Production route code (e.g. clinker A or B)."),
    defaults: Path | None = TABLE,
    markups: Path | None = MARKUPS,
    as_json: bool = JSON,
) -> None:
    """One default value and its mark-up."""
    try:
        found = marked_up(
            DefaultValueTable.load(defaults),
            MarkupSchedule.load(markups),
            cn_code,
            country,
            year,
            route,
        )
    except CbamError as error:
        fail(str(error))
    document = {
        "good_key": found.lookup.value.good_key,
        "country": found.lookup.value.country,
        "fallback": found.lookup.fallback,
        "route": found.lookup.value.route,
        "direct": found.lookup.direct,
        "indirect": found.lookup.indirect,
        "markup_pct": found.markup_pct,
        "direct_marked_up": found.direct,
        "indirect_marked_up": found.indirect,
        "year": year,
    }
    if as_json:
        print_json(document)
        return
    table("default value (t CO2e/t)", ["field", "value"], [[k, v] for k, v in document.items()])


def _received(paths: list[Path]) -> dict[str, Communication]:
    received: dict[str, Communication] = {}
    files = [f for p in paths for f in (sorted(p.glob("*.json")) if p.is_dir() else [p])]
    for path in files:
        try:
            communication = Communication.from_json(path.read_bytes(), str(path))
        except OSError as error:
            raise CbamError(f"{path}: cannot read ({error.strerror})") from None
        if communication.installation_id in received:
            raise CbamError(
                f"{path}: a second communication for installation {communication.installation_id!r}"
            )
        received[communication.installation_id] = communication
    return received


@app.command("declaration")
def declaration_command(
    customs: Path = typer.Argument(
        ..., help="Customs lines CSV: year, cn_code, country, installation, net_mass_t[, route]."
    ),
    received: list[Path] = typer.Option(
        [],
        "--received",
        help="A communication JSON received from an operator, or a directory of them (repeatable).",
    ),
    defaults: Path | None = TABLE,
    markups: Path | None = MARKUPS,
    free_allocation: Path | None = typer.Option(
        None, "--free-allocation", help="CSV cn_code, t_co2e_per_t: free-allocation adjustment."
    ),
    certificate_price: float | None = typer.Option(
        None, "--certificate-price", help="CBAM certificate price, EUR per t CO2e."
    ),
    as_json: bool = JSON,
) -> None:
    """Embedded emissions and certificates due, per year of import."""
    try:
        years = declare(
            read_customs_lines(customs),
            _received(received),
            DefaultValueTable.load(defaults),
            MarkupSchedule.load(markups),
            free_allocation=read_free_allocation(free_allocation) if free_allocation else None,
            certificate_price_eur=certificate_price,
        )
    except CbamError as error:
        fail(str(error))
    documents = [
        {
            "year": y.year,
            "de_minimis_mass_t": y.de_minimis_mass_t,
            "de_minimis_applies": y.de_minimis_applies,
            "embedded_t_co2e": y.embedded_t_co2e,
            "chargeable_t_co2e": y.chargeable_t_co2e,
            "free_allocation_t_co2e": y.free_allocation_t_co2e,
            "carbon_price_deduction_t_co2e": y.carbon_price_deduction_t_co2e,
            "certificates_due_t_co2e": y.certificates_due_t_co2e,
            "certificates_due": y.certificates_due,
            "assumptions": list(y.assumptions),
            "lines": [
                {
                    "row": d.line.row,
                    "cn_code": d.line.cn_code,
                    "country": d.line.country,
                    "installation": d.line.installation,
                    "net_mass_t": d.line.net_mass_t,
                    "source": d.source,
                    "see_direct": d.see_direct,
                    "see_indirect": d.see_indirect,
                    "indirect_counted": d.indirect_counted,
                    "embedded_t_co2e": d.embedded_t_co2e,
                    "exempt": d.exempt,
                }
                for d in y.lines
            ],
        }
        for y in years
    ]
    if as_json:
        print_json({"years": documents})
        return
    for year in years:
        table(
            f"CBAM declaration {year.year}",
            ["row", "CN", "country", "installation", "t", "SEE used", "t CO2e", "source"],
            [
                [
                    d.line.row,
                    d.line.cn_code,
                    d.line.country,
                    d.line.installation,
                    f"{d.line.net_mass_t:g}",
                    f"{d.see_direct + (d.see_indirect if d.indirect_counted else 0.0):.4f}",
                    f"{d.embedded_t_co2e:.3f}" + (" (exempt)" if d.exempt else ""),
                    d.source,
                ]
                for d in year.lines
            ],
        )
        out.print(
            f"embedded {year.embedded_t_co2e:.3f} t CO2e, chargeable "
            f"{year.chargeable_t_co2e:.3f}, free allocation {year.free_allocation_t_co2e:.3f}, "
            f"carbon price deduction {year.carbon_price_deduction_t_co2e:.3f}: certificates due "
            f"{year.certificates_due_t_co2e:.3f} t CO2e = {year.certificates_due} certificates"
        )
        for assumption in year.assumptions:
            out.print(f"  assumption: {assumption}")
