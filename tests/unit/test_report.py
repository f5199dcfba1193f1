"""The HTML report: self-contained, charts present, the member's own position marked."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.demo_data import COMPANIES, generated_cohort, records_for, write_company_data
from agent.report import Benchmark, Report, SupplyChain, render
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.cli import app
from fedcarbon.metrics import metric_values
from fedcarbon.results import ProductShare, SupplyChainAnswer, describe
from tests.unit.test_distribution import _campaign, _release

CHROMIUM = Path("/usr/bin/chromium")


def _report() -> Report:
    campaign = _campaign("intensity_kgco2e_per_t")
    rows = [
        metric_values(compute_footprint(records_for(c)), campaign) for c in generated_cohort(50)
    ]
    (distribution,) = describe(campaign, _release(campaign, rows))
    own = float(rows[7]["intensity_kgco2e_per_t"])
    company = COMPANIES[2]
    # Two years of the company's data (another seed stands in for last year's figures).
    trend = [(year, compute_footprint(records_for(company, seed=year))) for year in (2023, 2024)]
    return Report(
        company.organisation,
        2024,
        trend[-1][1],
        trend,
        [
            Benchmark(
                "dist-2024", "Intensity <metals>", distribution, distribution.position(own), True
            )
        ],
        [
            SupplyChain(
                "sc-2024",
                "Tier-1 suppliers",
                SupplyChainAnswer(
                    1.25e7,
                    3,
                    4,
                    (ProductShare("drive_modules", 1, 9e6), ProductShare("tooling", 2, 1e6)),
                    2.5e6,
                    0.4,
                    "exact",
                ),
            )
        ],
    )


def test_the_report_is_self_contained_and_marks_the_members_position() -> None:
    page = render(_report())
    assert not re.search(r"(src|href)=", page)  # no external asset of any kind
    # scope, category, trend, histogram, supply chain by product and by category
    assert page.count('<svg class="chart"') == 6
    assert 'id="own-position"' in page and "Intensity &lt;metals&gt;" in page
    assert "3 of 4 invited suppliers answered; primary data share 40%" in page
    assert "tooling (category 2)" in page and "category 1" in page
    assert "pooled (ratio of sums)" in page


def test_agent_report_writes_the_footprint_of_an_agent_that_is_not_enrolled(
    tmp_path: Path,
) -> None:
    home = tmp_path / "agent"
    write_company_data(COMPANIES[2], home / "activities.csv")
    runner = CliRunner()
    init = runner.invoke(
        app,
        [
            "agent",
            "init",
            "--home",
            str(home),
            "--organisation",
            "Castings",
            "--coordinator",
            "127.0.0.1:1",
            "--activities",
            "activities.csv",
        ],
    )
    assert init.exit_code == 0, init.output
    out = tmp_path / "report.html"
    done = runner.invoke(
        app, ["agent", "report", "--home", str(home), "--year", "2024", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    page = out.read_text()
    assert "Footprint by scope and category" in page and "Not enrolled" in page


def test_a_bad_trend_length_is_refused(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app, ["agent", "report", "--home", str(tmp_path), "--trend-years", "0"]
    )
    assert done.exit_code == 1 and "--trend-years must be at least 1" in done.output


def _chromium_or_skip() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("FEDCARBON_REQUIRE_SERVICES") == "1":
            pytest.fail("/usr/bin/chromium is missing (apt-get install chromium)")
        pytest.skip("/usr/bin/chromium is missing: install Debian's chromium to run this test")


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    return subprocess.run(
        [str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120
    )


def test_the_report_renders_in_headless_chromium_with_its_charts(tmp_path: Path) -> None:
    _chromium_or_skip()
    page = tmp_path / "report.html"
    page.write_text(render(_report()), encoding="utf-8")
    dom = _chromium(tmp_path / "profile-dom", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console  # no console message, no uncaught error
    laid_out = re.search(r'data-charts="(\d+)"', dom.stdout)
    assert laid_out is not None and int(laid_out.group(1)) == 6  # every chart has a size
    assert 'id="own-position"' in dom.stdout
    shot = tmp_path / "report.png"
    taken = _chromium(
        tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,3000", page.as_uri()
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert shutil.which(str(CHROMIUM))
