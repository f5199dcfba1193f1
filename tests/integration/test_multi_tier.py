"""Multi-tier roll-up over a real federation: tier-3 mills -> a tier-2 forge -> a tier-1
assembler -> the OEM. Each buyer in the middle runs its own supply-chain campaign, includes
the released total (`agent upstream include`) and contributes it, allocated, to its buyer.
The OEM's released total must equal the plaintext sum over the whole tree, and its breakdown
by product and category, primary share and coverage the plaintext figures."""

from decimal import Decimal
from typing import Any

import pytest

from agent.demo_data import Company, Line, demo_legal_id, records_for, write_company_data
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.pcf import cradle_to_gate_kgco2e
from tests.integration.conftest import Federation

pytestmark = pytest.mark.slow


def _company(key: str, name: str, role: str, lines: tuple[Line, ...]) -> Company:
    return Company(key, name, role, "DE", "metals", "sme", key.title(), lines)


def _out(product: str, tonnes: float, customer: str | None) -> Line:
    return Line(f"output.{product}", tonnes, "t", customer=customer, product=product)


OEM = _company("oem", "Orion Vehicles AG", "buyer", (Line("electricity.grid", 9e6, "kWh"),))
ASSEMBLER = _company(
    "assembler",
    "Axis Assembly GmbH",
    "supplier",
    (
        Line("electricity.grid", 4e6, "kWh"),
        Line("fuel.natural_gas", 2e6, "kWh"),
        _out("modules", 6_000, OEM.organisation),
        _out("tooling", 400, OEM.organisation),
        _out("modules", 1_600, None),
    ),
)
WIRING = _company(
    "wiring",
    "Weave Wiring GmbH",
    "supplier",
    (
        Line("electricity.grid", 1.5e6, "kWh", data_quality="secondary"),
        _out("harness", 900, OEM.organisation),
        _out("harness", 300, None),
    ),
)
IDLE = _company("idle", "Idle Parts GmbH", "supplier", (Line("electricity.grid", 1e5, "kWh"),))
FORGE = _company(
    "forge",
    "Fulcrum Forge GmbH",
    "supplier",
    (
        Line("electricity.grid", 6e6, "kWh"),
        Line("fuel.natural_gas", 9e6, "kWh"),
        _out("forgings", 5_000, ASSEMBLER.organisation),
        _out("forgings", 2_500, None),
    ),
)
PRESS = _company(
    "press",
    "Pinnacle Press GmbH",
    "supplier",
    (Line("electricity.grid", 3e6, "kWh"), _out("stampings", 2_000, ASSEMBLER.organisation)),
)
MILL_A = _company(
    "mill-a",
    "Magnus Mill A GmbH",
    "supplier",
    (
        Line("electricity.grid", 2e7, "kWh"),
        Line("fuel.natural_gas", 1.5e7, "kWh"),
        _out("billet", 4_000, FORGE.organisation),
        _out("billet", 30_000, None),
    ),
)
MILL_B = _company(
    "mill-b",
    "Meridian Mill B GmbH",
    "supplier",
    (
        Line("electricity.grid", 1e7, "kWh"),
        _out("billet", 3_500, FORGE.organisation),
        _out("billet", 12_000, None),
    ),
)
# buyer -> its suppliers (invited), tier by tier from the top
TREE = {
    "oem": ("assembler", "wiring", "idle"),
    "assembler": ("forge", "press"),
    "forge": ("mill-a", "mill-b"),
}
COMPANIES = {c.key: c for c in (OEM, ASSEMBLER, WIRING, IDLE, FORGE, PRESS, MILL_A, MILL_B)}


def _buyer_of(key: str) -> str | None:
    return next((b for b, suppliers in TREE.items() if key in suppliers), None)


def _delivered(key: str) -> float:
    """Plaintext: what supplier ``key`` delivers to its buyer, including what its own
    suppliers delivered to it (mass allocation: the share of its output that goes there)."""
    company = COMPANIES[key]
    footprint = compute_footprint(records_for(company))
    upstream = sum(_delivered(s) for s in TREE.get(key, ()) if s != "idle" or key != "oem")
    buyer = COMPANIES[_buyer_of(key) or ""].organisation
    outputs = footprint.outputs
    share = sum(o.quantity for o in outputs if o.customer == buyer) / sum(
        o.quantity for o in outputs
    )
    return (cradle_to_gate_kgco2e(footprint) + upstream) * share


def _enrol(fed: Federation, company: Company) -> str:
    home = fed.root / "agents" / company.key
    write_company_data(company, home / "activities.csv")
    manifest = fed.ensure_manifest()
    args = [
        "agent", "init", "--home", str(home), "--organisation", company.organisation,
        "--activities", "activities.csv", "--invite", str(fed.invite(company.role)),
        "--legal-id", demo_legal_id(company.key),
        "--manifest", str(manifest),
    ]  # fmt: skip
    buyer = _buyer_of(company.key)
    if buyer in fed.agents:  # buyers enrol first; a test may leave the top tiers out
        args += ["--customer", f"{fed.agents[buyer]}={COMPANIES[buyer].organisation}"]
    fed.agents[company.key] = str(fed.cli_json(*args)["participant_id"])
    fed.attest(fed.agents[company.key])
    # Two answering suppliers per tier: these agents accept k = 2 (the default is 3).
    config = home / "agent.toml"
    config.write_text(config.read_text().replace("min_contributors = 3", "min_contributors = 2"))
    return fed.agents[company.key]


def _campaign(
    fed: Federation, buyer: str, extra: tuple[str, ...] = (), suffix: str = "suppliers"
) -> str:
    campaign_id = f"{buyer}-{suffix}"
    invite = [a for s in TREE[buyer] for a in ("--invite", fed.agents[s])]
    fed.open_campaign(
        campaign_id,
        kind="supply_chain",
        metrics=("delivered_to_buyer_kgco2e", "participants"),
        k=2,
        extra=("--buyer", fed.agents[buyer], *invite, "--allow-weak", *extra),
    )
    return campaign_id


def _release(fed: Federation, campaign_id: str, buyer: str) -> dict[str, Any]:
    for supplier in TREE[buyer]:
        if supplier != "idle":  # one invited supplier never answers: coverage 2 of 3
            fed.submit(supplier, campaign_id)
    fed.operator("campaign", "close", campaign_id)
    fed.run_trustees()
    return dict(fed.cli_json("agent", "results", campaign_id, "--home", fed.agent_home(buyer)))


def test_three_tier_roll_up_equals_the_plaintext_sum_over_the_tree(
    federation: Federation,
) -> None:
    for key in ("oem", "assembler", "forge", "wiring", "idle", "press", "mill-a", "mill-b"):
        _enrol(federation, COMPANIES[key])
    for buyer in ("forge", "assembler"):  # bottom up: each middle tier includes its upstream
        released = _release(federation, _campaign(federation, buyer), buyer)
        expected = sum(_delivered(s) for s in TREE[buyer])
        got = released["metrics"]["delivered_to_buyer_kgco2e"]["sum"]
        assert got == pytest.approx(expected, abs=0.001 * len(TREE[buyer]))
        home = federation.agent_home(buyer)
        federation.cli("agent", "upstream", "include", f"{buyer}-suppliers", "--home", home)
    oem_campaign = _campaign(federation, "oem")
    released = _release(federation, oem_campaign, "oem")

    expected = _delivered("assembler") + _delivered("wiring")
    got = released["metrics"]["delivered_to_buyer_kgco2e"]["sum"]
    assert got == pytest.approx(expected, abs=0.001 * len(COMPANIES))  # to the gram per node
    # the upstream really went up: without it the tree's total would be much smaller
    assert got > 1.5 * (
        cradle_to_gate_kgco2e(compute_footprint(records_for(ASSEMBLER))) * 6_400 / 8_000
    )
    chain = released["supply_chain"]
    assert (chain["answered"], chain["invited"]) == (2, 3)
    listed = federation.cli_json(
        "agent", "upstream", "list", "--home", federation.agent_home("forge")
    )
    assert [row["campaign_id"] for row in listed] == ["forge-suppliers"]
    assert Decimal(listed[0]["total_kgco2e"]) > 0


def test_a_breakdown_by_single_supplier_products_fails_the_non_zero_k(
    federation: Federation,
) -> None:
    """Each product here comes from one supplier: its slot would be that supplier's own
    figure, so the non-zero k (issue 12) fails the campaign before any value is opened."""
    for key in ("oem", "assembler", "wiring", "idle"):
        _enrol(federation, COMPANIES[key])
    by_product = _campaign(
        federation,
        "oem",
        ("--product", "modules", "--product", "tooling=2", "--product", "harness"),
        suffix="products",
    )
    refused = _release(federation, by_product, "oem")
    assert refused["state"] == "failed"
    assert (
        "only 1 contributor(s) with a non-zero delivered_to_buyer_kgco2e:product:"
        in (refused["reason"])
    )


def test_only_the_buyer_of_a_released_campaign_can_carry_it_upstream(
    federation: Federation,
) -> None:
    for key in ("forge", "mill-a", "mill-b"):
        _enrol(federation, COMPANIES[key])
    campaign_id = _campaign(federation, "forge")
    early = federation.cli(
        "agent", "upstream", "include", campaign_id, "--home", federation.agent_home("forge"),
        expect=1,
    )  # fmt: skip
    assert "nothing released" in early
    _release(federation, campaign_id, "forge")
    other = federation.cli(
        "agent", "upstream", "include", campaign_id, "--home", federation.agent_home("mill-a"),
        expect=1,
    )  # fmt: skip
    assert "whose buyer is this agent" in other
