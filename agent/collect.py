"""Reading activity data through the configured adapters and computing the footprint.

An adapter that is down or returns garbage does not stop the others: its failure is
reported and the rest is used (issue 6, robustness). Rejected rows are reported, never
silently dropped.
"""

from dataclasses import dataclass, field
from datetime import date

from agent.config import AgentConfig
from fedcarbon.accounting.engine import Footprint, compute_footprint
from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.adapters.contract import Period, Rejected
from fedcarbon.adapters.registry import create_adapter


@dataclass
class Collection:
    records: list[ActivityRecord] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    # adapter name -> why it could not be read at all
    failures: dict[str, str] = field(default_factory=dict)


def collect(config: AgentConfig, start: date, end: date) -> Collection:
    """Every record in the period from every configured adapter."""
    period = Period(start, end)
    collection = Collection()
    for index, options in enumerate(config.adapters):
        name = str(options["name"])
        label = f"{name}#{index + 1}"
        try:
            adapter = create_adapter(name, options, base_dir=config.home)
            result = adapter.fetch(period)
        except Exception as error:  # any connector failure is reported, not fatal
            collection.failures[label] = f"{type(error).__name__}: {error}"
            continue
        collection.records.extend(
            r for r in result.records if period.overlaps(r.period_start, r.period_end)
        )
        collection.rejected.extend(result.rejected)
    return collection


def catalog_for(config: AgentConfig) -> FactorCatalog:
    """Built-in factor datasets, overlaid with the organisation's own files."""
    catalog = FactorCatalog.default()
    if config.factors:
        catalog = catalog.overlay(FactorCatalog.from_files(*config.factors))
    return catalog


def footprint_for(config: AgentConfig, records: list[ActivityRecord]) -> Footprint:
    return compute_footprint(records, catalog_for(config), gwp=config.gwp)
