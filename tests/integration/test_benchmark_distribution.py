"""A benchmark over 50 generated suppliers: released distribution statistics against the
plaintext computation (exact sums, quantiles within a bin width, DP within the proven bound)."""

import json
import math
import statistics
from decimal import Decimal

import pytest

from agent.demo_data import generated_cohort, records_for
from coordinator.campaigns import get_campaign, get_result
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.dp import NOISE_FAILURE_PROBABILITY
from fedcarbon.metrics import metric_values
from fedcarbon.privacy.noise import noise_magnitude_bound
from fedcarbon.results import describe
from tests.integration.conftest import Federation

pytestmark = pytest.mark.slow
MEMBERS = generated_cohort(50)
METRIC = "intensity_kgco2e_per_t"


def _plaintext(campaign_metrics: object, campaign: object) -> dict[str, int]:
    """Every slot's exact fixed-point sum, computed here from the members' own data."""
    totals: dict[str, int] = {}
    for member in MEMBERS:
        values = metric_values(compute_footprint(records_for(member)), campaign)  # type: ignore[arg-type]
        for spec in campaign_metrics:  # type: ignore[attr-defined]
            totals[spec.name] = totals.get(spec.name, 0) + to_fixed(values[spec.name], spec.scale)
    return totals


def _run(fed: Federation, campaign_id: str, extra: tuple[str, ...], rounds: int) -> None:
    fed.open_campaign(campaign_id, metrics=("participants",), k=5, extra=("--distribution", *extra))
    for member in MEMBERS:
        fed.submit(member.key, campaign_id)
    fed.operator("campaign", "close", campaign_id)
    for _ in range(rounds):
        fed.run_trustees()


def test_fifty_supplier_benchmark_releases_the_plaintext_distribution(
    federation: Federation,
) -> None:
    for member in MEMBERS:
        federation.add_agent(member)
    engine = federation.server.engine

    _run(federation, "cohort-exact", (METRIC,), rounds=1)
    campaign = get_campaign(engine, "cohort-exact")
    result = get_result(engine, "cohort-exact")
    assert result.contributors == 50
    expected = _plaintext(campaign.metrics, campaign)
    assert {m.name: m.sum_fixed for m in result.metrics} == expected  # every slot, exactly
    (found,) = describe(campaign, result)
    xs = sorted(
        float(Decimal(expected_x).quantize(Decimal("0.001")))
        for expected_x in (
            metric_values(compute_footprint(records_for(m)), campaign)[METRIC] for m in MEMBERS
        )
    )
    assert found.mean.value == pytest.approx(statistics.fmean(xs), rel=1e-12)
    assert found.sd is not None and found.sd.value == pytest.approx(statistics.stdev(xs), rel=1e-9)
    assert {q.q for q in found.quantiles} >= {0.1, 0.25, 0.5, 0.75, 0.9}
    for quantile in found.quantiles:
        assert quantile.low <= xs[math.ceil(quantile.q * 50) - 1] < quantile.high
    pooled = expected[f"{METRIC}:num"] / expected[f"{METRIC}:den"]
    assert found.pooled is not None and found.pooled.value == pytest.approx(pooled, rel=1e-12)
    shown = federation.cli(
        "agent", "results", "cohort-exact", "--home", federation.agent_home(MEMBERS[0].key)
    )
    assert "pooled (ratio of sums)" in shown and "(mean of ratios)" in shown

    page = federation.root / "report.html"
    federation.cli(
        "agent",
        "report",
        "--home",
        federation.agent_home(MEMBERS[0].key),
        "--year",
        "2024",
        "--trend-years",
        "1",
        "--out",
        str(page),
    )
    text = page.read_text()
    assert 'id="own-position"' in text and "distribution over 50 members" in text

    status = federation.cli_json(
        "coordinator", "status", "--home", str(federation.coordinator_home)
    )
    (row,) = status["campaigns"]
    assert row["submissions"] == 50 and row["release_contributors"] == 50
    released_sums = {str(m.sum_fixed) for m in result.metrics if m.sum_fixed > 50}
    assert not any(figure in json.dumps(status) for figure in released_sums)  # no figure

    _run(federation, "cohort-dp", (f"{METRIC}:0:2000:50000000:100000", "--epsilon", "4"), rounds=2)
    campaign = get_campaign(engine, "cohort-dp")
    result = get_result(engine, "cohort-dp")
    expected = _plaintext(campaign.metrics, campaign)
    plan = campaign.noise
    assert plan is not None
    for spec, noise, released in zip(campaign.metrics, plan.specs, result.metrics, strict=True):
        if noise is None:
            assert released.sum_fixed == expected[spec.name]
        else:
            bound = noise_magnitude_bound(noise, NOISE_FAILURE_PROBABILITY)
            assert abs(released.sum_fixed - expected[spec.name]) <= bound, spec.name
    (noised,) = describe(campaign, result)
    assert noised.noised and "differentially private" in noised.mean.exactness
