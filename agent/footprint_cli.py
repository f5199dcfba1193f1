"""``fedcarbon agent footprint`` and ``fedcarbon agent pact export``: from the agent's own data.

A supplier's footprint and the PACT file it sends its customer must come from the data it
submits, so both commands read the configured ``[[adapters]]`` through ``agent.collect`` (the
path ``preview`` and ``submit`` use), price them with the same catalog (built-ins, the
organisation's ``factors``, suppliers' PCFs read by a PACT adapter) and the configured GWP
set. Nothing leaves the machine.

Incomplete data (rows an adapter rejected, an adapter that could not be read) stops both
commands unless ``--allow-partial`` is given, as for ``submit``: a footprint or PCF without
those rows would understate, and the warnings name them.
"""

from pathlib import Path
from typing import Any

import typer

from agent.collect import Collection, catalog_for, collect, footprint_for
from agent.config import AgentConfig, load_config
from agent.errors import AgentError
from agent.mappings_cli import audit_entry, mapped_rows
from agent.options import HOME
from fedcarbon.accounting.errors import AccountingError
from fedcarbon.accounting.inventory import Inventory
from fedcarbon.adapters.contract import Period
from fedcarbon.console import fail, table
from fedcarbon.errors import FedcarbonError

_USER_ERRORS = (AgentError, FedcarbonError, AccountingError, OSError, ValueError)

PERIOD = typer.Option(
    ...,
    "--period",
    "-p",
    help="Reporting period: 2024, 2024-Q1, 2024-03 or 2024-01-01..2024-06-30.",
)
PARTIAL = typer.Option(
    False, "--allow-partial", help="Go on even if some rows or adapters could not be read."
)

INVENTORY = typer.Option(
    None,
    "--inventory",
    help="inventory.toml (boundary, base year, Scope 3 register); default: the home's own.",
)

pact_app = typer.Typer(help="PACT v3 product footprints from the agent's own data.")


def _inventory(home: Path, path: Path | None) -> Inventory | None:
    """The inventory description: ``--inventory``, else ``<home>/inventory.toml`` if present."""
    from fedcarbon.accounting.inventory import read_inventory

    chosen = path or (home / "inventory.toml")
    if path is None and not chosen.is_file():
        return None
    try:
        return read_inventory(chosen)
    except AccountingError as error:
        fail(str(error))


def _collected(home: Path, period: str, allow_partial: bool) -> tuple[AgentConfig, Collection]:
    """The agent's configuration and every record of the period, or a clear refusal."""
    try:
        config = load_config(home)
        wanted = Period.parse(period)
        collection = collect(config, wanted.start, wanted.end)
    except _USER_ERRORS as error:
        fail(str(error))
    for name, why in collection.failures.items():
        typer.secho(f"warning: adapter {name} could not be read: {why}", fg="yellow", err=True)
    for rejected in collection.rejected[:20]:
        typer.secho(f"rejected: {rejected}", fg="yellow", err=True)
    if len(collection.rejected) > 20:
        more = len(collection.rejected) - 20
        typer.secho(f"... and {more} more rejected rows", fg="yellow", err=True)
    if not collection.records:
        fail(f"no activity records for {period} from the configured adapters")
    if (collection.rejected or collection.failures) and not allow_partial:
        fail(
            f"the activity data for {period} is incomplete ({len(collection.rejected)} rejected "
            f"row(s), {len(collection.failures)} adapter(s) unreadable): fix the source data, "
            "or pass --allow-partial"
        )
    return config, collection


def footprint(
    period: str = PERIOD,
    home: Path = HOME,
    allow_partial: bool = PARTIAL,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    records: bool = typer.Option(
        False, "--records/--no-records", help="Include per-record results in --json output."
    ),
    inventory: Path | None = INVENTORY,
) -> None:
    """Your footprint for a period, computed from the configured adapters (nothing is sent)."""
    from fedcarbon.accounting.cli import emit_footprint

    described = _inventory(home, inventory)
    config, collection = _collected(home, period, allow_partial)
    try:
        result = footprint_for(config, collection)
    except _USER_ERRORS as error:
        fail(str(error))
    extra: dict[str, Any] = {
        "records_read": len(collection.records),
        "rows_rejected": len(collection.rejected),
        "adapters_unreadable": dict(collection.failures),
        # Spend lines given a NAICS code from their description, with their audit trail
        # (issue 17): which were auto-mapped, confirmed or overridden, and by whom.
        "mapped_lines": [audit_entry(use) for use in collection.mapped],
    }
    name = f"{config.organisation} ({period})"
    emit_footprint(result, name, described, as_json=as_json, records=records, extra=extra)
    if collection.mapped and not as_json:
        table(
            "Spend lines mapped to a factor from their description",
            ["record", "description", "NAICS", "decided by", "who"],
            mapped_rows(collection.mapped),
        )


@pact_app.command("export")
def pact_export(
    period: str = PERIOD,
    company_id: list[str] = typer.Option(
        ..., "--company-id", help="URN identifying your company (repeatable), e.g. urn:lei:..."
    ),
    company_name: str | None = typer.Option(
        None, "--company-name", help="Your company's name (default: [agent] organisation)."
    ),
    domain: str | None = typer.Option(
        None, "--domain", help="Your domain; product ids become urn:pact:<domain>:supplier-id:..."
    ),
    allocation: str = typer.Option(
        "mass", "--allocation", help="How to share the site's emissions: mass, physical, economic."
    ),
    price: list[str] = typer.Option(
        [], "--price", help="PRODUCT=PRICE per declared unit (economic allocation; repeatable)."
    ),
    physical: list[str] = typer.Option(
        [], "--physical", help="PRODUCT=AMOUNT of the physical quantity per declared unit."
    ),
    physical_quantity: str | None = typer.Option(
        None, "--physical-quantity", help="Name of that quantity, e.g. 'MJ lower heating value'."
    ),
    mass: list[str] = typer.Option(
        [], "--mass", help="PRODUCT=KG per declared unit, for products counted in pieces, litres."
    ),
    out: str = typer.Option(
        "-", "--out", help="Directory for one <product>.json per product, or - to print them."
    ),
    home: Path = HOME,
    allow_partial: bool = PARTIAL,
    inventory: Path | None = INVENTORY,
) -> None:
    """Your products' cradle-to-gate PCFs as PACT v3 files, from the configured adapters.

    The output.<product> records your adapters read are the products; the site's Scope 1,
    Scope 2 (market-based) and upstream Scope 3 categories 1, 3, 4 and 5 are shared among
    them (docs/pact.md).
    """
    from fedcarbon.accounting.pact import Company, export_products
    from fedcarbon.accounting.pact_cli import parse_pairs, write_products
    from fedcarbon.accounting.pact_schema import is_urn
    from fedcarbon.accounting.pcf import ALLOCATION_METHODS

    if allocation not in ALLOCATION_METHODS:
        fail(f"--allocation {allocation!r} is not one of {', '.join(ALLOCATION_METHODS)}")
    for company in company_id:
        if not is_urn(company):
            fail(f"--company-id {company!r} is not a URN (urn:<namespace>:<id>, RFC 8141)")
    described = _inventory(home, inventory)
    config, collection = _collected(home, period, allow_partial)
    try:
        catalog = catalog_for(config, collection.supplier_footprints)
        result = footprint_for(config, collection)
        owner = Company(
            name=company_name or config.organisation, ids=tuple(company_id), domain=domain
        )
        pairs = export_products(
            result,
            collection.records,
            catalog,
            owner,
            allocation=allocation,
            prices=parse_pairs(price, "--price") or None,
            physical=parse_pairs(physical, "--physical") or None,
            physical_quantity=physical_quantity,
            masses=parse_pairs(mass, "--mass") or None,
            inventory=described,
        )
    except _USER_ERRORS as error:
        fail(str(error))
    write_products(pairs, out, f"Cradle-to-gate PCFs of {owner.name} ({period}, {allocation})")


def register(app: typer.Typer) -> None:
    """Add ``footprint`` and ``pact export`` to the ``fedcarbon agent`` command group."""
    app.command("footprint")(footprint)
    app.add_typer(pact_app, name="pact")
