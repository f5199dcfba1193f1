"""Multi-tier roll-up: a supplier's own supply-chain result carried into what it contributes.

A tier-1 supplier runs its own supply-chain campaign over its tier-2 suppliers (it is that
campaign's buyer). The released total is its Scope 3 category 1 for those purchases,
supplier-specific (GHG Protocol Scope 3 Standard ch. 5 and 7, supplier-specific method).
``fedcarbon agent upstream include CAMPAIGN`` stores that released total locally; from then
on every footprint this agent computes for an overlapping period carries it as a primary-data
Scope 3 category 1 record (activity ``upstream.<campaign>``, factor 1 kg CO2e per kg CO2e), so
``delivered_to_buyer_kgco2e`` allocates it, with the rest of the cradle-to-gate pool, to what
the agent delivers to its own buyer. Only released cohort totals move up a tier, never a
single supplier's figure.

Remove from the activity data any estimate (spend-based lines) of the same purchases, or they
are counted twice.
"""

import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import typer
from sqlalchemy import BigInteger, Engine
from sqlmodel import Field, Session, SQLModel, select

from agent import store
from agent.client import connect
from agent.config import load_config
from agent.errors import AgentError
from agent.options import HOME, JSON
from fedcarbon.accounting.factors import DatasetInfo, EmissionFactor, FactorCatalog
from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.campaign import CampaignKind, CampaignState
from fedcarbon.console import fail, print_json, table

DATASET = "fedcarbon-upstream"
METRIC = "delivered_to_buyer_kgco2e"


class UpstreamTotal(SQLModel, table=True):
    """A released supply-chain total this agent (as that campaign's buyer) carries upstream."""

    campaign_id: str = Field(primary_key=True)
    total_kgco2e: str  # exact decimal, as released
    period_start: str
    period_end: str
    contributors: int
    invited: int
    included_unix_ms: int = Field(sa_type=BigInteger)


def included(engine: Engine) -> list[UpstreamTotal]:
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        return list(session.exec(select(UpstreamTotal)).all())


def activity(campaign_id: str) -> str:
    return f"upstream.{campaign_id}"


def records_and_factors(
    engine: Engine, start: date, end: date, *, site: str, region: str, gwp: str
) -> tuple[list[ActivityRecord], list[EmissionFactor]]:
    """The included totals whose campaign period lies within [start, end], as records with
    their factors (1 kg CO2e per kg CO2e, in this agent's region and GLOBAL)."""
    records: list[ActivityRecord] = []
    factors: list[EmissionFactor] = []
    for row in included(engine):
        first, last = date.fromisoformat(row.period_start), date.fromisoformat(row.period_end)
        if first < start or last > end:
            continue
        records.append(
            ActivityRecord(
                record_id=f"upstream-{row.campaign_id}",
                period_start=first,
                period_end=last,
                site=site,
                activity=activity(row.campaign_id),
                quantity=float(row.total_kgco2e),
                unit="kg",
                region=region or "GLOBAL",
                scope3_category=1,
                data_quality="primary",
                source=f"released supply-chain campaign {row.campaign_id}",
            )
        )
        base = EmissionFactor(
            dataset=DATASET,
            dataset_version="1",
            activity=activity(row.campaign_id),
            region="GLOBAL",
            unit="kg",
            gases={"CO2e": 1.0},
            co2e_gwp_basis=gwp,
            biogenic_co2=0.0,
            scope="3",
            category="scope3.cat1",
            source=f"supply-chain campaign {row.campaign_id}: {row.contributors} of "
            f"{row.invited or row.contributors} suppliers",
            source_ref=row.campaign_id,
            year=last.year,
            licence="own released result",
            description="released total of emissions delivered by upstream suppliers",
        )
        factors.append(base)
        if region and region != "GLOBAL":
            factors.append(replace(base, region=region))
    return records, factors


def catalog(factors: list[EmissionFactor]) -> FactorCatalog:
    info = DatasetInfo(
        id=DATASET,
        version="1",
        title="Released upstream supply-chain totals",
        publisher="this agent's own supply-chain campaigns",
        year=max((f.year for f in factors), default=0),
        licence="own released result",
        attribution="fedcarbon supply-chain campaigns",
        url="",
    )
    return FactorCatalog.from_factors(factors, [info])


app = typer.Typer(
    help="Carry your own released supply-chain totals up a tier (multi-tier roll-up).",
    no_args_is_help=True,
)


@app.command("include")
def include(campaign_id: str, home: Path = HOME) -> None:
    """Include a released supply-chain campaign you are the buyer of in your footprint."""
    try:
        config = load_config(home)
        engine = store.open_store(config.database_url)
        me = store.enrolment(engine)
        if me is None:
            raise AgentError(f"{home}: not enrolled yet")
        with connect(config) as client:
            campaign = client.get_campaign(campaign_id)
            result = client.get_result(campaign_id)
        if campaign.kind is not CampaignKind.SUPPLY_CHAIN or campaign.buyer_id != me.participant_id:
            raise AgentError(
                f"campaign {campaign_id}: only a supply-chain campaign whose buyer is this "
                f"agent ({me.participant_id}) can be carried upstream"
            )
        if result.state is not CampaignState.RELEASED:
            raise AgentError(f"campaign {campaign_id}: {result.state.value}, nothing released")
        if campaign.epsilon:
            raise AgentError(f"campaign {campaign_id}: a noised total cannot be rolled up exactly")
        total = result.metric(METRIC).sum
    except (AgentError, KeyError) as error:
        fail(str(error))
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.merge(
            UpstreamTotal(
                campaign_id=campaign_id,
                total_kgco2e=str(total),
                period_start=campaign.period_start.isoformat(),
                period_end=campaign.period_end.isoformat(),
                contributors=result.contributors,
                invited=len(campaign.invited),
                included_unix_ms=int(time.time() * 1000),
            )
        )
        session.commit()
    typer.echo(
        f"included {campaign_id}: {total} kg CO2e from {result.contributors} suppliers, as "
        "Scope 3 category 1 (primary data) in footprints for its period"
    )


@app.command("list")
def list_included(home: Path = HOME, as_json: bool = JSON) -> None:
    """Released upstream totals included in this agent's footprint."""
    try:
        config = load_config(home)
    except AgentError as error:
        fail(str(error))
    rows = included(store.open_store(config.database_url))
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    table(
        "Included upstream totals",
        ["campaign", "kg CO2e", "period", "suppliers"],
        [
            [r.campaign_id, r.total_kgco2e, f"{r.period_start}..{r.period_end}", r.contributors]
            for r in rows
        ],
    )


@app.command("remove")
def remove(campaign_id: str, home: Path = HOME) -> None:
    """Stop including a released upstream total."""
    try:
        config = load_config(home)
    except AgentError as error:
        fail(str(error))
    engine = store.open_store(config.database_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        row = session.get(UpstreamTotal, campaign_id)
        if row is None:
            fail(f"campaign {campaign_id} is not included")
        session.delete(row)
        session.commit()
    typer.echo(f"removed {campaign_id}")
