"""Reading activity data through the configured adapters and computing the footprint.

An adapter that is down or returns garbage does not stop the others: its failure is
reported and the rest is used (issue 6, robustness). Rejected rows are reported, never
silently dropped.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from agent import mappings, store, upstream
from agent.config import AgentConfig
from agent.errors import ConfigError
from agent.store import open_store
from fedcarbon.accounting.engine import Footprint, compute_footprint
from fedcarbon.accounting.factors import EmissionFactor, FactorCatalog
from fedcarbon.accounting.pact import factors_from_pact
from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.adapters.collection import collect as collect_from
from fedcarbon.adapters.collection import load_adapters
from fedcarbon.adapters.contract import Period, Rejected
from fedcarbon.adapters.errors import AdapterError
from fedcarbon.matching import UNMATCHED_ACTIVITY


@dataclass
class Collection:
    records: list[ActivityRecord] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    # adapter name -> why it could not be read at all
    failures: dict[str, str] = field(default_factory=dict)
    # Suppliers' product footprints (PACT) read by adapters: factors for Scope 3 category 1.
    supplier_footprints: list[Any] = field(default_factory=list)
    # Spend lines given a NAICS code from their description (audit trail, agent/mappings.py).
    mapped: list[mappings.MappingUse] = field(default_factory=list)
    # Factors for released upstream totals this agent includes (agent.upstream).
    upstream_factors: list[EmissionFactor] = field(default_factory=list)


def collect(config: AgentConfig, start: date, end: date, *, resolve: bool = True) -> Collection:
    """Every record in the period from every configured adapter.

    A bad ``[[adapters]]`` table is fatal (the user must fix it); a source that is down or
    an adapter that crashes is reported and the others carry on. With ``resolve``, spend lines
    without a code get one from confirmed mappings or a confident match; the others are
    reported as rejected until reviewed (``fedcarbon agent mappings review``).
    """
    period = Period(start, end)
    try:
        adapters = load_adapters(config.adapters, base_dir=config.home)
    except AdapterError as error:
        raise ConfigError(f"{config.home / 'agent.toml'}: {error}") from None
    gathered = collect_from(adapters, period)
    collection = Collection(
        records=[r for r in gathered.records if period.overlaps(r.period_start, r.period_end)],
        rejected=[rejected for _, rejected in gathered.rejected],
        failures={
            f.label: f.error + (" (source unreachable; try again later)" if f.unavailable else "")
            for f in gathered.failures
        },
    )
    for item in adapters:
        footprints = getattr(item.adapter, "footprints", None)
        if callable(footprints) and item.label in gathered.results:
            collection.supplier_footprints.extend(footprints())
    if resolve and any(r.activity == UNMATCHED_ACTIVITY for r in collection.records):
        resolution = mappings.resolve(store.open_store(config.database_url), collection.records)
        collection.records = resolution.records
        collection.rejected.extend(resolution.rejected)
        collection.mapped = resolution.used
    if (config.home / "agent.sqlite").exists():
        records, factors = upstream.records_and_factors(
            open_store(config.database_url),
            start,
            end,
            site=config.organisation,
            region=config.region,
            gwp=config.gwp,
        )
        collection.records += records
        collection.upstream_factors += factors
    return collection


def catalog_for(config: AgentConfig, supplier_footprints: Sequence[Any] = ()) -> FactorCatalog:
    """Built-in datasets, overlaid with the organisation's own files, then suppliers' PCFs."""
    catalog = FactorCatalog.default()
    if config.factors:
        catalog = catalog.overlay(FactorCatalog.from_files(*config.factors))
    if supplier_footprints:
        catalog = catalog.overlay(factors_from_pact(supplier_footprints))
    return catalog


def footprint_for(config: AgentConfig, collection: Collection) -> Footprint:
    catalog = catalog_for(config, collection.supplier_footprints)
    if collection.upstream_factors:
        catalog = catalog.overlay(upstream.catalog(collection.upstream_factors))
    return compute_footprint(collection.records, catalog, gwp=config.gwp)
