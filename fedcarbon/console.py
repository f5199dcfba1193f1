"""Terminal output shared by every command: rich tables for people, JSON for machines."""

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from fedcarbon.campaign import Campaign
    from fedcarbon.results import CampaignResult

# Piped output (CI logs, `| less`) gets a comfortable fixed width instead of rich's 80.
_WIDTH = None if sys.stdout.isatty() else 120
out = Console(width=_WIDTH)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)


def fail(message: str, *, code: int = 1) -> NoReturn:
    """A user error: one clear line on stderr, no traceback, non-zero exit."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def print_json(document: Any) -> None:
    """Machine output: exactly one JSON document on stdout."""
    typer.echo(json.dumps(document, indent=2, sort_keys=True, default=_default))


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    grid = Table(title=title, title_justify="left", header_style="bold")
    for index, column in enumerate(columns):
        grid.add_column(column, justify="right" if index else "left")
    for row in rows:
        grid.add_row(*(str(cell) for cell in row))
    out.print(grid)


def kg(value: float | Decimal) -> str:
    """kg CO2e with thousands separators, to the gram."""
    return f"{float(value):,.3f}"


def _plain_rows(result: "CampaignResult") -> dict[str, dict[str, Any]]:
    """Per plain metric: its sum and mean. A sum of members' ratios (unit with '/') means
    nothing, so people never see it (``sum`` stays in JSON as the raw slot sum for checks);
    its mean is the unweighted mean of the members' ratios."""
    rows: dict[str, dict[str, Any]] = {}
    for m in result.metrics:
        if ":" in m.name:
            continue  # derived slots are shown through their distribution
        ratio = "/" in m.unit
        rows[m.name] = {
            "sum": m.sum,
            "ratio": ratio,
            "mean": m.mean(result.contributors),
            "mean_of": "members' ratios (unweighted)" if ratio else "members",
            "unit": m.unit,
        }
    return rows


def show_result(
    result: "CampaignResult",
    as_json: bool,
    campaign: "Campaign | None" = None,
    trust: dict[str, Any] | None = None,
) -> None:
    """A released statistic: per-metric sums and means, the distributions the schema asked for
    (with how exact each figure is), or why nothing was released.

    ``trust`` (from the agent, which checked the trustees' signatures) says who vouches for it.
    """
    from fedcarbon.results import describe, supply_chain

    metrics = _plain_rows(result)
    for m, count in zip(result.metrics, result.nonzero, strict=False):
        if m.name in metrics:
            metrics[m.name]["nonzero_contributors"] = count
    distributions = describe(campaign, result) if campaign is not None else []
    chain = supply_chain(campaign, result) if campaign is not None else None
    if as_json:
        print_json(
            {
                "campaign_id": result.campaign_id,
                "state": result.state.value,
                "contributors": result.contributors,
                "reason": result.reason,
                "epsilon": result.epsilon,
                "delta": result.delta,
                "metrics": metrics,
                **({"trust": trust} if trust is not None else {}),
                "slots": {m.name: m.sum for m in result.metrics if ":" in m.name},
                "distributions": [asdict(d) for d in distributions],
                "supply_chain": None
                if chain is None
                else asdict(chain) | {"by_category": chain.by_category},
            }
        )
        return
    if not result.metrics:
        typer.echo(f"campaign {result.campaign_id}: {result.state.value} - {result.reason}")
        return
    noise = f", differentially private (epsilon {result.epsilon:g})" if result.epsilon else ""
    table(
        f"Campaign {result.campaign_id}: {result.contributors} contributors{noise}",
        ["metric", "sum", "mean", "unit"],
        [
            [
                name,
                "-" if m["ratio"] else kg(m["sum"]),
                kg(m["mean"]) + (" (mean of ratios)" if m["ratio"] else ""),
                m["unit"],
            ]
            for name, m in metrics.items()
        ],
    )
    for d in distributions:
        rows: list[list[Any]] = [
            ["count", d.count, "exact (contributors)"],
            ["mean", _num(d.mean.value), d.mean.exactness],
        ]
        if d.sd is not None:
            rows.append(["standard deviation", _num(d.sd.value), d.sd.exactness])
        for q in d.quantiles:
            rows.append(
                [
                    f"p{round(q.q * 100)}",
                    f"~{_num(q.estimate)}",
                    f"in [{_num(q.low)}, {_num(q.high)})",
                ]
            )
        if d.pooled is not None:
            rows.append(["pooled (ratio of sums)", _num(d.pooled.value), d.pooled.exactness])
        table(f"Distribution of {d.metric} ({d.unit})", ["statistic", "value", "how exact"], rows)
        for note in d.notes:
            typer.echo(f"note: {note}")
    if chain is not None and (chain.products or chain.primary_share is not None):
        rows = [[f"product {p.product}", f"cat {p.category}", kg(p.kgco2e)] for p in chain.products]
        if chain.products:
            rows.append(["products not named", "cat 1", kg(chain.other_kgco2e)])
        rows += [[f"Scope 3 category {n}", "", kg(v)] for n, v in chain.by_category.items()]
        if chain.primary_share is not None:
            rows.append(["primary data share", "", f"{chain.primary_share:.1%}"])
        answered = f"{chain.answered} of {chain.invited}" if chain.invited else str(chain.answered)
        rows.append(["suppliers answered", "", answered])
        table("Supply-chain breakdown (kg CO2e)", ["part", "buyer's category", "value"], rows)

    if trust is not None:
        signed = ", ".join(trust["signed_by"]) or "nobody yet"
        verdict = "verified" if not trust["problems"] else "NOT verified"
        typer.echo(
            f"signed by {len(trust['signed_by'])} trustee(s) ({signed}); "
            f"{trust['threshold']} needed: {verdict}"
        )


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
