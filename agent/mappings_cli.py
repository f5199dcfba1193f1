"""``fedcarbon agent mappings``: review, confirm and audit the codes given to spend lines.

Spend lines that arrive without a code (``spend.unmatched``) are matched offline against the
NAICS 2017 index; this group is where the supplier confirms or overrides the suggestions, which
are then looked up first next time. Everything stays in the agent's local store.
"""

import getpass
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer

from agent import mappings, store
from agent.collect import collect
from agent.config import AgentConfig, load_config
from agent.errors import AgentError
from agent.options import HOME, JSON
from fedcarbon.console import fail, print_json, table
from fedcarbon.errors import FedcarbonError
from fedcarbon.matching.matcher import Decision, Match, default_matcher, exact_key

app = typer.Typer(
    help="Review and confirm the NAICS codes (EPA spend factors) given to purchase lines "
    "that have no code; see docs/factor-matching.md.",
    no_args_is_help=True,
)

BY = typer.Option(
    None, "--by", help="Who confirms (recorded in the audit trail); default: your login name."
)


def _config(home: Path) -> AgentConfig:
    try:
        return load_config(home)
    except AgentError as error:
        fail(str(error))


def _who(by: str | None) -> str:
    name = by if by is not None else getpass.getuser()
    if not name.strip():
        fail("--by is empty: say who confirms the mapping")
    return name.strip()


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")


def _match_to_dict(record_id: str, match: Match) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "description": match.description,
        "decision": match.decision.value,
        "candidates": [
            {"naics6": c.naics6, "title": c.title, "score": c.score, "reason": c.reason}
            for c in match.candidates
        ],
    }


@app.command()
def review(
    start: str = typer.Option(..., "--from", help="First day of the period (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--to", help="Last day of the period (YYYY-MM-DD)."),
    by: str | None = BY,
    accept_auto: bool = typer.Option(
        False, "--accept-auto", help="Also confirm lines the matcher would auto-accept."
    ),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Show each spend line without a confirmed code and ask for one (1-5, a code, or skip).

    Reads the period's data through the configured adapters, exactly as ``agent preview``
    does. With ``--json`` nothing is asked: the lines and their candidates are printed.
    """
    config = _config(home)
    try:
        period = (date.fromisoformat(start), date.fromisoformat(end))
    except ValueError as error:
        fail(f"--from/--to: {error}")
    if period[1] < period[0]:
        fail(f"--to {end} is before --from {start}")
    engine = store.open_store(config.database_url)
    try:
        collection = collect(config, *period, resolve=False)
    except (AgentError, FedcarbonError, OSError) as error:
        fail(str(error))
    exact = {m.key for m in mappings.confirmed(engine)}
    todo = [
        (record, match)
        for record, match in mappings.pending_matches(engine, collection.records)
        if exact_key(match.description) not in exact
        and (accept_auto or match.decision is not Decision.AUTO)
    ]
    if as_json:
        print_json({"pending": [_match_to_dict(r.record_id, m) for r, m in todo]})
        return
    if not todo:
        typer.echo("no spend line needs review")
        return
    who = _who(by)
    done: set[str] = set()
    for record, match in todo:
        key = exact_key(match.description)
        if key in done:
            continue
        _show(record.record_id, match)
        answer = typer.prompt(
            "choose 1-5, type a NAICS-6 code, s to skip, q to quit", default="s"
        ).strip()
        if answer.lower() == "q":
            break
        if answer.lower() == "s" or not answer:
            continue
        code = answer
        if answer.isdigit() and len(answer) <= 2:
            index = int(answer) - 1
            if not 0 <= index < len(match.candidates):
                typer.secho(f"no candidate {answer}; skipped", fg="yellow")
                continue
            code = match.candidates[index].naics6
        suggested = match.best.naics6 if match.best else None
        try:
            mappings.confirm(engine, match.description, code, by=who, suggested=suggested)
        except ValueError as error:
            typer.secho(f"{error}; skipped", fg="yellow")
            continue
        done.add(key)
        typer.echo(f"confirmed {code} for {match.description!r}")
    typer.echo(f"{len(done)} mapping(s) confirmed")


def _show(record_id: str, match: Match) -> None:
    table(
        f"{record_id}: {match.description} ({match.decision.value})",
        ["#", "naics6", "confidence", "title", "matched"],
        [
            [i, c.naics6, f"{c.score:.2f}", c.title, c.reason]
            for i, c in enumerate(match.candidates, start=1)
        ],
    )


@app.command()
def confirm(
    description: str = typer.Argument(..., help="The purchase line's text, as in the data."),
    naics6: str = typer.Argument(..., help="The NAICS-6 code to use for it."),
    by: str | None = BY,
    home: Path = HOME,
) -> None:
    """Confirm (or override) the code of one purchase-line text; it is looked up first."""
    config = _config(home)
    engine = store.open_store(config.database_url)
    best = default_matcher().match([description], top=1)[0].best
    try:
        row = mappings.confirm(
            engine, description, naics6, by=_who(by), suggested=best.naics6 if best else None
        )
    except ValueError as error:
        fail(str(error))
    kind = "override of the suggestion" if row.is_override else "confirmed"
    typer.echo(f"{row.naics6} for {row.description!r}: {kind}")


@app.command()
def forget(
    description: str = typer.Argument(..., help="The purchase line's text."),
    home: Path = HOME,
) -> None:
    """Delete a confirmed mapping (the line is matched again next time)."""
    engine = store.open_store(_config(home).database_url)
    if not mappings.forget(engine, description):
        fail(f"no confirmed mapping for {description!r}")
    typer.echo(f"forgot the mapping of {description!r}")


@app.command("list")
def list_mappings(home: Path = HOME, as_json: bool = JSON) -> None:
    """List the confirmed mappings: text, code, suggestion, who and when."""
    engine = store.open_store(_config(home).database_url)
    rows = mappings.confirmed(engine)
    if as_json:
        print_json(
            [
                {
                    "description": m.description,
                    "naics6": m.naics6,
                    "suggested_naics6": m.suggested_naics6,
                    "override": m.is_override,
                    "confirmed_by": m.confirmed_by,
                    "confirmed_at": _when(m.confirmed_unix_ms),
                }
                for m in rows
            ]
        )
        return
    table(
        f"{len(rows)} confirmed mappings",
        ["description", "naics6", "suggested", "by", "when"],
        [
            [
                m.description,
                m.naics6,
                m.suggested_naics6 or "",
                m.confirmed_by,
                _when(m.confirmed_unix_ms),
            ]
            for m in rows
        ],
    )


@app.command()
def audit(
    record: str | None = typer.Option(None, "--record", help="Only this record id."),
    limit: int = typer.Option(50, "--limit", min=1, help="Newest entries to show."),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """The audit trail: each spend line mapped for a footprint and how its code was chosen."""
    engine = store.open_store(_config(home).database_url)
    rows = mappings.uses(engine, record)[:limit]
    if as_json:
        print_json([audit_entry(u) for u in rows])
        return
    table(
        f"{len(rows)} mapping uses (newest first)",
        ["record", "description", "naics6", "decision", "by", "confirmed", "used"],
        [
            [
                u.record_id,
                u.description,
                u.naics6,
                u.decision,
                u.confirmed_by,
                _when(u.confirmed_unix_ms),
                _when(u.used_unix_ms),
            ]
            for u in rows
        ],
    )


def audit_entry(use: mappings.MappingUse) -> dict[str, Any]:
    """JSON form of one audit entry (also in ``agent preview --json`` as ``mapped_lines``)."""
    return {
        "record_id": use.record_id,
        "description": use.description,
        "candidates": json.loads(use.candidates_json),
        "naics6": use.naics6,
        "decision": use.decision,
        "auto_mapped": use.decision == Decision.AUTO.value,
        "confirmed_by": use.confirmed_by,
        "confirmed_at": _when(use.confirmed_unix_ms),
        "used_at": _when(use.used_unix_ms),
        "matcher_version": use.matcher_version,
        "reference_sha256": use.reference_sha256,
        "factors_sha256": use.factors_sha256,
    }


def mapped_rows(uses: list[mappings.MappingUse]) -> list[list[str]]:
    """Rows of the preview's table of mapped spend lines (auto-mapped ones flagged)."""
    return [[u.record_id, u.description, u.naics6, u.decision, u.confirmed_by] for u in uses]
