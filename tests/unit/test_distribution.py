"""Distributions from additive sums: derived slots (x^2, log-spaced one-hot bins, ratio parts)
and the statistics released from their sums, checked against the plaintext computation."""

import math
import statistics
from datetime import date
from decimal import Decimal

import pytest

from agent.demo_data import generated_cohort, records_for
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.campaign import Campaign, CampaignKind, CampaignState, new_campaign
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.distribution import INT64_MAX, Histogram, SlotSpec, parse, square_slot
from fedcarbon.errors import MetricError
from fedcarbon.metrics import distribution_specs, metric_values, primary_share, supply_chain_specs
from fedcarbon.results import CampaignResult, MetricResult, describe
from tests.unit.keys import shared_key


def _campaign(*texts: str, epsilon: float = 0.0) -> Campaign:
    metrics = tuple(spec for text in texts for spec in distribution_specs(text))
    return new_campaign(
        campaign_id="dist-2024",
        kind=CampaignKind.BENCHMARK,
        title="t",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        metrics=(*metrics,),
        key=shared_key(("a", "b", "c"), 2, "dist-2024"),
        epsilon=epsilon,
    )


def _release(campaign: Campaign, rows: list[dict[str, Decimal]]) -> CampaignResult:
    """What trustees would release without noise: the exact sums of the fixed-point slots."""
    sums = [
        MetricResult(m.name, m.unit, m.scale, sum(to_fixed(r[m.name], m.scale) for r in rows))
        for m in campaign.metrics
    ]
    return CampaignResult(campaign.campaign_id, CampaignState.RELEASED, len(rows), tuple(sums))


@pytest.fixture(scope="module")
def cohort() -> tuple[Campaign, list[dict[str, Decimal]]]:
    campaign = _campaign("intensity_kgco2e_per_t")
    rows = [
        metric_values(compute_footprint(records_for(company)), campaign)
        for company in generated_cohort(50)
    ]
    return campaign, rows


# -- derived slots ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "high"), [(3, 10**10), (3, 10**15), (0, 1), (6, 2**62), (18, INT64_MAX)]
)
def test_the_square_slot_of_the_largest_value_fits_a_64_bit_integer(scale: int, high: int) -> None:
    slot = square_slot(SlotSpec("x", "kg", scale, -high, high))
    derived = parse(slot.name)
    assert derived is not None and slot.max <= INT64_MAX
    largest = Decimal(high).scaleb(-scale)
    assert to_fixed((largest * largest).scaleb(-derived.sq_shift), slot.scale) <= slot.max


@pytest.mark.parametrize("value", [0.0, 9.99, 10.0, 17.78279, 100.0, 999.999, 1e4, 5e6, 1e7, 2e9])
def test_a_value_falls_in_the_bin_whose_interval_holds_it(value: float) -> None:
    histogram = Histogram(10.0, 1e7, 24)
    low, high = histogram.interval(histogram.index(value))
    assert low <= value < high


@pytest.mark.parametrize(
    "name",
    ["x:sq:-1", "x:sq", "x:bin:0:10:4:1", "x:bin:1:10:4:6", "x:bin:10:1:4:1", "x:cube", "x:num:1"],
)
def test_a_malformed_derived_slot_name_is_refused_and_named(name: str) -> None:
    with pytest.raises(MetricError, match=f"metric {name!r}"):
        parse(name)


def test_each_member_sets_exactly_one_bin_and_its_square_is_of_the_summed_value(
    cohort: tuple[Campaign, list[dict[str, Decimal]]],
) -> None:
    campaign, rows = cohort
    square = next(m for m in campaign.metrics if ":sq:" in m.name)
    for row in rows:
        x = row["intensity_kgco2e_per_t"].quantize(Decimal("0.001"))
        assert sum(v for k, v in row.items() if ":bin:" in k) == 1
        assert row[square.name] == x * x
        ratio = row["intensity_kgco2e_per_t:num"] / row["intensity_kgco2e_per_t:den"]
        assert float(ratio) == pytest.approx(float(row["intensity_kgco2e_per_t"]))


def test_a_count_has_no_distribution() -> None:
    with pytest.raises(MetricError, match="participants is a count"):
        distribution_specs("participants")


# -- released statistics ------------------------------------------------------------------


def test_released_statistics_match_the_plaintext_computation(
    cohort: tuple[Campaign, list[dict[str, Decimal]]],
) -> None:
    campaign, rows = cohort
    (found,) = describe(campaign, _release(campaign, rows))
    xs = sorted(float(r["intensity_kgco2e_per_t"].quantize(Decimal("0.001"))) for r in rows)
    assert found.count == 50
    assert found.mean.value == pytest.approx(statistics.fmean(xs), rel=1e-12)
    assert found.sd is not None and found.sd.value == pytest.approx(statistics.stdev(xs), rel=1e-9)
    for quantile in found.quantiles:
        true = xs[math.ceil(quantile.q * len(xs)) - 1]
        assert quantile.low <= true < quantile.high, quantile
        assert quantile.low <= quantile.estimate <= quantile.high
    assert {q.q for q in found.quantiles} >= {0.1, 0.25, 0.5, 0.75, 0.9}
    pooled = sum(float(r["intensity_kgco2e_per_t:num"]) for r in rows) / sum(
        float(r["intensity_kgco2e_per_t:den"]) for r in rows
    )
    assert found.pooled is not None and found.pooled.value == pytest.approx(pooled, rel=1e-9)
    assert found.pooled.value != pytest.approx(found.mean.value, rel=1e-3)


def test_a_members_own_percentile_brackets_its_true_rank(
    cohort: tuple[Campaign, list[dict[str, Decimal]]],
) -> None:
    campaign, rows = cohort
    (found,) = describe(campaign, _release(campaign, rows))
    xs = sorted(float(r["intensity_kgco2e_per_t"]) for r in rows)
    for own in (xs[0], xs[12], xs[25], xs[49]):
        position = found.position(own)
        share_at_or_below = sum(x <= own for x in xs) / len(xs)
        assert position.percentile_low < share_at_or_below <= position.percentile_high
        q1 = found.quantile(0.25)
        assert q1 is not None and position.distance_to_best_quartile == pytest.approx(
            own - q1.estimate
        )
        assert position.in_best_quartile == (own <= q1.estimate)


def test_a_small_cohort_withholds_quantiles_that_are_one_members_bin(
    cohort: tuple[Campaign, list[dict[str, Decimal]]],
) -> None:
    campaign, rows = cohort
    (found,) = describe(campaign, _release(campaign, rows[:5]))
    released = {q.q for q in found.quantiles}
    assert 0.1 not in released and 0.9 not in released and 0.5 in released
    assert any("not released" in note and "5 members" in note for note in found.notes)


def test_a_noised_release_says_how_far_each_figure_may_be_off(
    cohort: tuple[Campaign, list[dict[str, Decimal]]],
) -> None:
    _, rows = cohort
    campaign = _campaign("intensity_kgco2e_per_t:0:1000:5e7:1e5", epsilon=1.0)
    rows = [metric_values_like(campaign, row) for row in rows]
    (found,) = describe(campaign, _release(campaign, rows))
    assert found.noised and "differentially private" in found.mean.exactness
    assert found.mean.low is not None and found.mean.high is not None
    assert found.mean.low < found.mean.value < found.mean.high
    assert any("noise" in note for note in found.notes)


def metric_values_like(campaign: Campaign, row: dict[str, Decimal]) -> dict[str, Decimal]:
    """The same member re-derived for another schema (other bounds, so other bins)."""
    from fedcarbon.distribution import derived_value

    out: dict[str, Decimal] = {}
    x = row["intensity_kgco2e_per_t"].quantize(Decimal("0.001"))
    for metric in campaign.metrics:
        derived = parse(metric.name)
        if derived is None:
            out[metric.name] = x
        elif derived.role in ("num", "den"):
            out[metric.name] = row[metric.name]
        else:
            out[metric.name] = derived_value(derived, x)
    return out


def test_ratio_part_bounds_are_set_with_the_distribution() -> None:
    specs = {s.name: s for s in distribution_specs("intensity_kgco2e_per_t:0:2000:5e7:1e5")}
    assert specs["intensity_kgco2e_per_t:num"].max == 5 * 10**10
    assert specs["intensity_kgco2e_per_t:den"].max == 10**8


@pytest.mark.parametrize(
    ("text", "why"),
    [("scope1_kgco2e:0:10:5:5", "not a ratio metric"), ("intensity_kgco2e_per_t:0", "expected")],
)
def test_a_malformed_distribution_request_is_refused(text: str, why: str) -> None:
    with pytest.raises(MetricError, match=why):
        distribution_specs(text)


# -- supply-chain breakdown ---------------------------------------------------------------


def test_a_buyers_request_names_products_with_their_scope3_category() -> None:
    names = [s.name for s in supply_chain_specs(["modules", "tooling=2"])]
    assert names == [
        "delivered_to_buyer_kgco2e",
        "delivered_to_buyer_kgco2e:primary",
        "delivered_to_buyer_kgco2e:product:modules:cat1",
        "delivered_to_buyer_kgco2e:product:tooling:cat2",
    ]


@pytest.mark.parametrize(
    ("products", "why"),
    [
        (["a:b"], "without ':'"),
        (["tooling=16"], "category must be 1..15"),
        (["tooling=two"], "must be a number"),
        (["x", "x"], "named twice"),
        ([" x"], "edge spaces"),
    ],
)
def test_a_malformed_product_breakdown_is_refused(products: list[str], why: str) -> None:
    with pytest.raises(MetricError, match=why):
        supply_chain_specs(products)


def test_product_slots_add_up_to_the_delivered_total_and_primary_share_is_weighted() -> None:
    from agent.demo_data import BUYER, COMPANIES

    alpine = next(c for c in COMPANIES if c.key == "alpine")
    footprint = compute_footprint(records_for(alpine))
    campaign = new_campaign(
        campaign_id="sc-2024",
        kind=CampaignKind.SUPPLY_CHAIN,
        title="t",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        metrics=supply_chain_specs(["fasteners", "other=2"]),
        key=shared_key(("a", "b", "c"), 2, "sc-2024"),
        buyer_id="helix",
    )
    values = metric_values(footprint, campaign, buyer_name=BUYER)
    total = values["delivered_to_buyer_kgco2e"]
    assert total > 0
    assert values["delivered_to_buyer_kgco2e:product:fasteners:cat1"] == pytest.approx(total)
    assert values["delivered_to_buyer_kgco2e:product:other:cat2"] == 0
    share = values["delivered_to_buyer_kgco2e:primary"] / total
    assert 0 < share < 1  # alpine's spend-based lines are secondary data
    assert float(share) == pytest.approx(primary_share(footprint))


def test_a_noise_plan_trustees_cannot_draw_is_refused_when_the_campaign_is_created() -> None:
    from fedcarbon.errors import CampaignError

    with pytest.raises(CampaignError, match=r"intensity_kgco2e_per_t:num.*tighter bounds"):
        _campaign("intensity_kgco2e_per_t:0:2000", epsilon=4.0)
    assert _campaign("intensity_kgco2e_per_t:0:2000:5e7:1e5", epsilon=4.0).noise is not None
