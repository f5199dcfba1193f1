"""Consent per request: which campaigns this supplier agreed to answer, visible and revocable.

A buyer's request (or a benchmark) asks for named figures; the supplier sees what each asks
(``fedcarbon agent consent list``), grants or revokes it, and may change its mind until it
submits. After submission nothing can be withdrawn: the ciphertexts are in the transparency
log and may already be part of a released sum, so a revocation then is refused and says so.
A revoked campaign is never submitted to; with ``[policy] require_consent = true`` nothing
is submitted without a grant.
"""

import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import BigInteger, Engine
from sqlmodel import Field, Session, SQLModel

from agent import store
from agent.client import connect
from agent.config import Policy, load_config
from agent.errors import AgentError
from agent.options import HOME
from fedcarbon.campaign import Campaign, CampaignState
from fedcarbon.console import fail, print_json, table
from fedcarbon.distribution import parse


class Decision(StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"


class ConsentRecord(SQLModel, table=True):
    """This supplier's latest decision on one campaign, kept in its own store only."""

    campaign_id: str = Field(primary_key=True)
    decision: str
    digest_hex: str  # the campaign terms the decision was about
    decided_unix_ms: int = Field(sa_type=BigInteger)


def decision_for(engine: Engine, campaign: Campaign) -> Decision | None:
    """The decision on these exact terms (a grant of other terms under the same id is void)."""
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        row = session.get(ConsentRecord, campaign.campaign_id)
    if row is None:
        return None
    if row.decision == Decision.GRANTED and row.digest_hex != campaign.digest.hex():
        return None
    return Decision(row.decision)


def decide(engine: Engine, campaign: Campaign, decision: Decision) -> None:
    """Record a grant or revocation; revoking after submission is refused (it is too late)."""
    SQLModel.metadata.create_all(engine)
    if decision is Decision.REVOKED:
        done = next(
            (s for s in store.submissions(engine) if s.campaign_id == campaign.campaign_id), None
        )
        if done is not None or store.pending(engine, campaign.campaign_id) is not None:
            raise AgentError(
                f"campaign {campaign.campaign_id}: already submitted"
                + (f" (log entry {done.leaf_index})" if done else " (signed, awaiting receipt)")
                + "; a submission in the transparency log cannot be withdrawn"
            )
    with Session(engine) as session:
        session.merge(
            ConsentRecord(
                campaign_id=campaign.campaign_id,
                decision=decision.value,
                digest_hex=campaign.digest.hex(),
                decided_unix_ms=int(time.time() * 1000),
            )
        )
        session.commit()


def consent_refusal(engine: Engine, campaign: Campaign, policy: Policy) -> str | None:
    """Why this campaign may not be submitted to for lack of consent (None: it may)."""
    decision = decision_for(engine, campaign)
    if decision is Decision.REVOKED:
        return (
            f"campaign {campaign.campaign_id}: consent revoked "
            "(`fedcarbon agent consent grant` to allow it again)"
        )
    if decision is None and policy.require_consent:
        return (
            f"campaign {campaign.campaign_id}: no consent given and [policy] require_consent is "
            "true; see `fedcarbon agent consent list`, then `fedcarbon agent consent grant`"
        )
    return None


def asks(campaign: Campaign) -> str:
    """What a campaign asks for, in words: the figures (derived slots grouped under theirs)."""
    names: list[str] = []
    for metric in campaign.metrics:
        derived = parse(metric.name)
        base = metric.name if derived is None else derived.base
        label = base
        if derived is not None:
            what = "by product" if derived.role in ("product", "primary") else "distribution"
            label = f"{base} ({what})"
        if derived is not None and base in names:
            names[names.index(base)] = label
        if base not in names and label not in names:
            names.append(label)
    who = f" for buyer {campaign.buyer_id}" if campaign.buyer_id else ""
    return f"{campaign.kind.value}{who}: " + ", ".join(names)


app = typer.Typer(
    help="See what each campaign asks of you; grant or revoke consent until you submit.",
    no_args_is_help=True,
)


def _campaign_and_engine(home: Path, campaign_id: str) -> tuple[Campaign, Engine]:
    config = load_config(home)
    with connect(config) as client:
        campaign = client.get_campaign(campaign_id)
    return campaign, store.open_store(config.database_url)


@app.command("list")
def list_requests(
    home: Path = HOME, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Open campaigns, what each asks for, and your decision."""
    try:
        config = load_config(home)
        engine = store.open_store(config.database_url)
        with connect(config) as client:
            found = client.list_campaigns(CampaignState.OPEN)
    except AgentError as error:
        fail(str(error))
    submitted = {s.campaign_id for s in store.submissions(engine)}
    rows: list[dict[str, Any]] = []
    for campaign in found:
        decision = decision_for(engine, campaign)
        rows.append(
            {
                "campaign_id": campaign.campaign_id,
                "asks": asks(campaign),
                "k": campaign.min_contributors,
                "epsilon": campaign.epsilon,
                "consent": "submitted"
                if campaign.campaign_id in submitted
                else (decision.value if decision else "not decided"),
            }
        )
    if as_json:
        print_json(rows)
        return
    table(
        "Requests",
        ["campaign", "asks for", "k", "epsilon", "your consent"],
        [[r["campaign_id"], r["asks"], r["k"], r["epsilon"], r["consent"]] for r in rows],
    )


@app.command()
def grant(campaign_id: str, home: Path = HOME) -> None:
    """Agree to answer this campaign (its current terms; changed terms need a new grant)."""
    try:
        campaign, engine = _campaign_and_engine(home, campaign_id)
        decide(engine, campaign, Decision.GRANTED)
    except AgentError as error:
        fail(str(error))
    typer.echo(f"consent granted for {campaign_id}: {asks(campaign)}")


@app.command()
def revoke(campaign_id: str, home: Path = HOME) -> None:
    """Withdraw consent: this agent will not submit to the campaign (until granted again)."""
    try:
        campaign, engine = _campaign_and_engine(home, campaign_id)
        decide(engine, campaign, Decision.REVOKED)
    except AgentError as error:
        fail(str(error))
    typer.echo(f"consent revoked for {campaign_id}: nothing will be submitted to it")
