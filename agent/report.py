"""``fedcarbon agent report``: one self-contained HTML page a person would rather look at.

Footprint by scope and category, the trend across years, each released benchmark's
distribution with this company's own position marked, and, for a buyer, its supply-chain
totals with coverage. Charts are inline SVG; the page loads nothing from anywhere (no
scripts from the network, no fonts, no images), so it can be mailed or archived as is. The
company's own figures are computed here and placed in the page here: nothing is sent.
"""

import html
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import typer

from agent import store
from agent.client import connect
from agent.collect import collect, footprint_for
from agent.config import AgentConfig, load_config
from agent.errors import AgentError
from agent.options import HOME
from fedcarbon.accounting.engine import Footprint
from fedcarbon.campaign import CampaignKind, CampaignState
from fedcarbon.console import fail
from fedcarbon.errors import FedcarbonError
from fedcarbon.metrics import CATALOGUE
from fedcarbon.results import (
    Distribution,
    Position,
    SupplyChainAnswer,
    describe,
    supply_chain,
)

_PALETTE = ("#1b6b93", "#4fa095", "#a2c579", "#f2c14e", "#e07a5f", "#8d6fa6", "#5b5b5b")


@dataclass(frozen=True)
class Benchmark:
    campaign_id: str
    title: str
    distribution: Distribution
    position: Position | None
    lower_is_better: bool


@dataclass(frozen=True)
class SupplyChain:
    campaign_id: str
    title: str
    answer: SupplyChainAnswer


@dataclass(frozen=True)
class Report:
    organisation: str
    year: int
    footprint: Footprint | None
    trend: Sequence[tuple[int, Footprint]]
    benchmarks: Sequence[Benchmark] = ()
    supply_chains: Sequence[SupplyChain] = ()
    notes: Sequence[str] = field(default_factory=list)


# -- charts -----------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def bar_chart(title: str, rows: Sequence[tuple[str, float]], unit: str) -> str:
    """Horizontal bars, one per (label, value); negative values are drawn as zero-length."""
    width, label_w, bar_h, gap = 720, 230, 22, 8
    height = 40 + len(rows) * (bar_h + gap)
    top = max((v for _, v in rows), default=0.0) or 1.0
    parts = [_svg_open(width, height, title), _title(title)]
    for index, (label, value) in enumerate(rows):
        y = 30 + index * (bar_h + gap)
        length = max(0.0, value) / top * (width - label_w - 120)
        color = _PALETTE[index % len(_PALETTE)]
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{html.escape(label)}</text>'
            f'<rect class="bar" x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" '
            f'fill="{color}"><title>{html.escape(label)}: {_fmt(value)} {html.escape(unit)}'
            f"</title></rect>"
            f'<text x="{label_w + length + 6:.1f}" y="{y + 16}">{_fmt(value)} '
            f"{html.escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def trend_chart(title: str, points: Sequence[tuple[str, float]], unit: str) -> str:
    """Columns per period with the values written above them."""
    width, height, base = 720, 260, 220
    top = max((v for _, v in points), default=0.0) or 1.0
    step = (width - 80) / max(1, len(points))
    parts = [_svg_open(width, height, title), _title(title)]
    for index, (label, value) in enumerate(points):
        x = 60 + index * step
        h = max(0.0, value) / top * (base - 50)
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{step * 0.6:.1f}" '
            f'height="{h:.1f}" fill="{_PALETTE[0]}"><title>{html.escape(label)}: {_fmt(value)} '
            f"{html.escape(unit)}</title></rect>"
            f'<text x="{x + step * 0.3:.1f}" y="{base + 18}" text-anchor="middle">'
            f"{html.escape(label)}</text>"
            f'<text x="{x + step * 0.3:.1f}" y="{base - h - 6:.1f}" text-anchor="middle">'
            f"{_fmt(value)}</text>"
        )
    parts.append(f'<line x1="50" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#333"/></svg>')
    return "".join(parts)


def histogram_chart(benchmark: Benchmark) -> str:
    """The released histogram on its log-spaced bins, quartile edges dashed, own value marked."""
    d = benchmark.distribution
    width, height, base, left = 720, 300, 240, 50
    bins = [b for b in d.bins]
    first = next((i for i, b in enumerate(bins) if b.count), 0)
    last = max((i for i, b in enumerate(bins) if b.count), default=len(bins) - 1)
    own_index = None
    if benchmark.position is not None and d.histogram is not None:
        own_index = d.histogram.index(benchmark.position.value)
        first, last = min(first, own_index), max(last, own_index)
    shown = bins[first : last + 1]
    top = max((b.count for b in shown), default=1) or 1
    step = (width - left - 20) / max(1, len(shown))
    title = f"{d.metric}: distribution over {d.count} members ({d.unit})"
    parts = [_svg_open(width, height, title), _title(title)]
    for offset, item in enumerate(shown):
        x = left + offset * step
        h = item.count / top * (base - 60)
        mine = own_index is not None and first + offset == own_index
        color = _PALETTE[4] if mine else _PALETTE[1]
        parts.append(
            f'<rect class="bar{" own" if mine else ""}" x="{x:.1f}" y="{base - h:.1f}" '
            f'width="{step - 2:.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>[{_fmt(item.low)}, {_fmt(item.high)}): {item.count}</title></rect>"
        )
        if offset % max(1, len(shown) // 8) == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{base + 16}" font-size="11">{_fmt(item.low)}</text>'
            )
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#333"/>')
    for q in (0.25, 0.5, 0.75):
        quantile = d.quantile(q)
        if quantile is not None and d.histogram is not None:
            x = _x_of(d, quantile.estimate, first, left, step)
            parts.append(
                f'<line class="quartile" x1="{x:.1f}" y1="40" x2="{x:.1f}" y2="{base}" '
                f'stroke="#333" stroke-dasharray="4 3"/>'
                f'<text x="{x + 3:.1f}" y="50" font-size="11">p{round(q * 100)}</text>'
            )
    if benchmark.position is not None and d.histogram is not None:
        x = _x_of(d, benchmark.position.value, first, left, step)
        parts.append(
            f'<line id="own-position" x1="{x:.1f}" y1="22" x2="{x:.1f}" y2="{base}" '
            f'stroke="{_PALETTE[4]}" stroke-width="3"/>'
            f'<text x="{x + 4:.1f}" y="32" fill="{_PALETTE[4]}" font-weight="bold">'
            f"you: {_fmt(benchmark.position.value)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _x_of(d: Distribution, value: float, first: int, left: float, step: float) -> float:
    """Where a value lies on the histogram's axis (log scale inside a bin)."""
    assert d.histogram is not None
    index = d.histogram.index(value)
    low, high = d.bins[index].low, d.bins[index].high
    inside = 0.5
    if low > 0 and math.isfinite(high) and high > low and value > 0:
        inside = min(1.0, max(0.0, math.log(value / low) / math.log(high / low)))
    return left + (index - first + inside) * step


def _svg_open(width: int, height: int, title: str) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(title)}">'
    )


def _title(title: str) -> str:
    return f'<text x="0" y="16" font-weight="bold">{html.escape(title)}</text>'


# -- the page ---------------------------------------------------------------------------------

_STYLE = """
body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2.5rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .7rem;text-align:right}
td:first-child,th:first-child{text-align:left}svg.chart{display:block;margin:1rem 0;
font-size:13px}.note{color:#555;font-size:.9rem}.own{stroke:#222;stroke-width:1}
"""
# Runs in the page only: it records that every chart has a size once laid out (tests read it).
_CHECK = (
    "document.body.dataset.charts=[...document.querySelectorAll('svg.chart')]"
    ".filter(s=>s.getBoundingClientRect().width>0).length;"
)


def render(report: Report) -> str:
    """The whole report as one HTML document."""
    body = [
        f"<h1>Carbon report: {html.escape(report.organisation)}, {report.year}</h1>",
        '<p class="note">Computed on this company\'s own premises from its own data; the '
        "benchmark and supply-chain figures are released cohort statistics. Nothing in this "
        "page was sent anywhere.</p>",
    ]
    body += _footprint_section(report)
    body += _benchmark_sections(report.benchmarks)
    body += _supply_chain_sections(report.supply_chains)
    body += [f'<p class="note">{html.escape(note)}</p>' for note in report.notes]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Carbon report {html.escape(report.organisation)} {report.year}</title>"
        f"<style>{_STYLE}</style></head><body>{''.join(body)}"
        f"<script>{_CHECK}</script></body></html>"
    )


def _footprint_section(report: Report) -> list[str]:
    out = ["<h2>Footprint by scope and category</h2>"]
    f = report.footprint
    if f is None:
        return [*out, f"<p>No activity records for {report.year}.</p>"]
    out.append(
        bar_chart(
            f"{report.year} by scope (kg CO2e, GWP {f.gwp})",
            [
                ("Scope 1", f.scope1_kgco2e),
                ("Scope 2 (market-based)", f.scope2_market_kgco2e),
                ("Scope 2 (location-based)", f.scope2_location_kgco2e),
                ("Scope 3", f.scope3_kgco2e),
            ],
            "kg",
        )
    )
    categories = sorted(f.by_category.items(), key=lambda item: -item[1])
    out.append(bar_chart(f"{report.year} by category (kg CO2e)", categories, "kg"))
    out.append(
        f"<p>Total (Scope 1 + 2 market + 3): <b>{_fmt(f.total_kgco2e)} kg CO2e</b>; primary "
        f"data share {f.primary_data_share:.0%}.</p>"
    )
    if len(report.trend) > 1:
        out.append("<h2>Trend</h2>")
        out.append(
            trend_chart(
                "Total per year (kg CO2e)",
                [(str(year), fp.total_kgco2e) for year, fp in report.trend],
                "kg",
            )
        )
    return out


def _benchmark_sections(benchmarks: Sequence[Benchmark]) -> list[str]:
    out: list[str] = []
    for b in benchmarks:
        d = b.distribution
        out.append(f"<h2>Benchmark: {html.escape(b.title)}</h2>")
        out.append(histogram_chart(b))
        rows = [
            ("members", str(d.count), "exact"),
            ("mean", _fmt(d.mean.value or 0), d.mean.exactness),
        ]
        if d.sd is not None and d.sd.value is not None:
            rows.append(("standard deviation", _fmt(d.sd.value), d.sd.exactness))
        for q in d.quantiles:
            rows.append(
                (
                    f"p{round(q.q * 100)}",
                    f"~{_fmt(q.estimate)}",
                    f"in [{_fmt(q.low)}, {_fmt(q.high)})",
                )
            )
        if d.pooled is not None and d.pooled.value is not None:
            rows.append(("pooled (ratio of sums)", _fmt(d.pooled.value), d.pooled.exactness))
        out.append(_table(("statistic", f"value ({d.unit})", "how exact"), rows))
        p = b.position
        if p is not None:
            where = (
                f"Your value {_fmt(p.value)} {html.escape(d.unit)}: between the "
                f"{p.percentile_low:.0%} and {p.percentile_high:.0%} of members lie at or below "
                "it."
            )
            if p.distance_to_best_quartile is not None:
                better = "lowest" if b.lower_is_better else "highest"
                where += (
                    f" The best quartile ({better} 25 %) starts at about "
                    f"{_fmt(p.best_quartile_edge or 0)}; "
                    + (
                        "you are in it."
                        if p.in_best_quartile
                        else f"you are {_fmt(abs(p.distance_to_best_quartile))} away."
                    )
                )
            out.append(f'<p id="own-position-text">{where}</p>')
        out += [f'<p class="note">{html.escape(note)}</p>' for note in d.notes]
    return out


def _supply_chain_sections(chains: Sequence[SupplyChain]) -> list[str]:
    out: list[str] = []
    for c in chains:
        a = c.answer
        out.append(f"<h2>Supply chain: {html.escape(c.title)}</h2>")
        rows = [(f"{p.product} (category {p.category})", p.kgco2e) for p in a.products]
        if a.products:
            rows.append(("products not named (category 1)", a.other_kgco2e))
        else:
            rows.append(("all deliveries", a.total_kgco2e))
        out.append(bar_chart("Emissions delivered to you, by product (kg CO2e)", rows, "kg"))
        out.append(
            bar_chart(
                "By your Scope 3 category (kg CO2e)",
                [(f"category {n}", v) for n, v in a.by_category.items()],
                "kg",
            )
        )
        coverage = (
            f"{a.answered} of {a.invited} invited suppliers answered"
            if a.invited
            else f"{a.answered} suppliers answered"
        )
        primary = (
            f"; primary data share {a.primary_share:.0%}" if a.primary_share is not None else ""
        )
        out.append(
            f"<p>Total {_fmt(a.total_kgco2e)} kg CO2e ({html.escape(a.exactness)}). "
            f"{html.escape(coverage)}{primary}.</p>"
        )
    return out


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{cells}</tr>{body}</table>"


# -- gathering, on the agent's premises --------------------------------------------------------


def _footprint(config: AgentConfig, year: int) -> Footprint | None:
    collection = collect(config, date(year, 1, 1), date(year, 12, 31))
    if not collection.records:
        return None
    return footprint_for(config, collection)


def gather(home: Path, year: int, trend_years: int) -> Report:
    """Compute the footprint locally and read released results from the coordinator."""
    config = load_config(home)
    notes: list[str] = []
    trend = []
    for y in range(year - trend_years + 1, year + 1):
        found = _footprint(config, y)
        if found is not None:
            trend.append((y, found))
    footprint = trend[-1][1] if trend and trend[-1][0] == year else None
    engine = store.open_store(config.database_url)
    me = store.enrolment(engine)
    own = {row.campaign_id: json.loads(row.values_json) for row in store.submissions(engine)}
    benchmarks: list[Benchmark] = []
    chains: list[SupplyChain] = []
    if me is None:
        notes.append("Not enrolled: no benchmark or supply-chain results.")
        return Report(config.organisation, year, footprint, trend, notes=notes)
    try:
        with connect(config) as client:
            for campaign in client.list_campaigns(CampaignState.RELEASED):
                mine = campaign.kind is CampaignKind.SUPPLY_CHAIN and (
                    campaign.buyer_id == me.participant_id
                )
                if campaign.campaign_id not in own and not mine:
                    continue
                result = client.get_result(campaign.campaign_id)
                answer = supply_chain(campaign, result) if mine else None
                if answer is not None:
                    chains.append(SupplyChain(campaign.campaign_id, campaign.title, answer))
                for d in describe(campaign, result):
                    value = own.get(campaign.campaign_id, {}).get(d.metric)
                    definition = CATALOGUE.get(d.metric)
                    lower = definition.lower_is_better if definition else True
                    position = (
                        d.position(float(value), lower_is_better=lower)
                        if value is not None and d.histogram is not None
                        else None
                    )
                    benchmarks.append(
                        Benchmark(campaign.campaign_id, campaign.title, d, position, lower)
                    )
    except (AgentError, FedcarbonError) as error:
        notes.append(f"Released results could not be read from the coordinator: {error}")
    return Report(config.organisation, year, footprint, trend, benchmarks, chains, notes)


def report_command(
    out: Path = typer.Option(Path("fedcarbon-report.html"), "--out", help="HTML file to write."),
    year: int = typer.Option(
        time.gmtime().tm_year - 1, help="Reporting year (calendar year of the activity data)."
    ),
    trend_years: int = typer.Option(3, help="How many years, ending with --year, in the trend."),
    home: Path = HOME,
) -> None:
    """Write a self-contained HTML report: footprint, trend, benchmarks with your position,
    and (for a buyer) supply-chain totals. Computed here; nothing is sent."""
    if trend_years < 1:
        fail("--trend-years must be at least 1")
    try:
        report = gather(home, year, trend_years)
    except (AgentError, FedcarbonError, OSError, ValueError) as error:
        fail(str(error))
    out.write_text(render(report), encoding="utf-8")
    typer.echo(
        f"report written to {out}: {len(report.benchmarks)} benchmark(s), "
        f"{len(report.supply_chains)} supply chain(s)"
    )
