"""Terminal output shared by every command: rich tables for people, JSON for machines."""

import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
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


def show_result(
    result: "CampaignResult", as_json: bool, trust: dict[str, Any] | None = None
) -> None:
    """A released statistic: per-metric sums and means, or why nothing was released.

    ``trust`` (from the agent, which checked the trustees' signatures) says who vouches for it.
    """
    metrics: dict[str, dict[str, Any]] = {
        m.name: {"sum": m.sum, "mean": m.mean(result.contributors), "unit": m.unit}
        for m in result.metrics
    }
    for name, count in zip(metrics, result.nonzero, strict=False):
        metrics[name]["nonzero_contributors"] = count
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
        [[name, kg(m["sum"]), kg(m["mean"]), m["unit"]] for name, m in metrics.items()],
    )
    if trust is not None:
        signed = ", ".join(trust["signed_by"]) or "nobody yet"
        verdict = "verified" if not trust["problems"] else "NOT verified"
        typer.echo(
            f"signed by {len(trust['signed_by'])} trustee(s) ({signed}); "
            f"{trust['threshold']} needed: {verdict}"
        )
