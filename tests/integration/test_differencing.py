"""The differencing attack of issue 12, run against a live federation on loopback.

A dishonest operator opens two exact supply-chain campaigns for the same buyer, metric and
period whose invitee sets differ by one supplier, the victim: the second release minus the
first is the victim's figure. Every agent runs its default policy. The defence:

- every agent refuses the second campaign before encrypting anything (agent/ledger.py), the
  victim because the first campaign's cohort is published in the log, the others because
  their own ledger holds the first campaign;
- when the agents' check is bypassed (agents from before the guard, or a benchmark whose
  cohort is not known in advance), the trustees refuse to decrypt it (agent/trustee.py:
  verify_cohort), reading every cohort published in the verified log.

Each scenario prints what the operator recovered (nothing, with the defence in place).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from agent import store
from agent.cli import _prepare
from agent.config import load_config
from agent.contribution import encrypt_and_sign
from agent.demo_data import Company, records_for
from agent.identity import load_or_create_identity
from coordinator.config import load_config as load_coordinator_config
from coordinator.server import start
from coordinator.store import CohortEntryRow, DecryptionShareRow, IndicatorShareRow, LogLeaf
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.pcf import emissions_for_customer
from fedcarbon.cohorts import cohort_from_entry, is_cohort_entry
from fedcarbon.crypto.encoding import to_fixed
from tests.integration.conftest import Federation, company, running_federation

pytestmark = pytest.mark.slow

METRIC = "delivered_to_buyer_kgco2e"
VICTIM = "alpine"
# A fourth supplier of the buyer (the demo has three), so both cohorts have k real members.
MOSEL = replace(company("rhein"), key="mosel", organisation="Mosel Sensorik GmbH")
SUPPLIERS: tuple[Company, ...] = (company("rhein"), company("danube"), MOSEL, company(VICTIM))
FIRST = ("rhein", "danube", "mosel")  # the first campaign leaves the victim out
SECOND = (*FIRST, VICTIM)


@dataclass
class Setting:
    fed: Federation
    buyer: str


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    with running_federation(tmp_path_factory.mktemp("differencing")) as fed:
        buyer = fed.add_agent(company("helix"))
        for supplier in SUPPLIERS:
            fed.add_agent(supplier, buyer_id=buyer)
        for key in ("nordstahl", "castings", "baltic"):
            fed.add_agent(company(key))
        yield Setting(fed, buyer)


def _open_supply_chain(s: Setting, campaign_id: str, members: tuple[str, ...]) -> None:
    invited = [a for key in members for a in ("--invite", s.fed.agents[key])]
    s.fed.open_campaign(
        campaign_id,
        kind="supply_chain",
        metrics=(METRIC,),
        extra=("--buyer", s.buyer, *invited),
    )


def _result(fed: Federation, campaign_id: str) -> dict[str, Any]:
    result: dict[str, Any] = fed.cli_json(
        "coordinator", "campaign", "result", campaign_id, "--home", str(fed.coordinator_home)
    )
    return result


def _released(fed: Federation, campaign_id: str, metric: str) -> int | None:
    result = _result(fed, campaign_id)
    if result["state"] != "released":
        return None
    return to_fixed(Decimal(str(result["metrics"][metric]["sum"])), 3)


def _close_and_decrypt(fed: Federation, campaign_id: str) -> None:
    fed.operator("campaign", "close", campaign_id)
    fed.run_trustees()


def _old_agent_submit(fed: Federation, name: str, campaign_id: str) -> None:
    """What an agent from before the guard sends: its policy had no differencing check."""
    config = load_config(Path(fed.agent_home(name)))
    me = store.enrolment(store.open_store(config.database_url))
    assert me is not None
    with fed.client(fed.agent_home(name)) as client:
        campaign = client.get_campaign(campaign_id)
        _, contribution = _prepare(config, campaign)
        identity = load_or_create_identity(config.identity_key_path)
        client.submit(encrypt_and_sign(contribution, me.participant_id, identity))


def _victim_figure(metric: str) -> Decimal:
    footprint = compute_footprint(records_for(company(VICTIM)))
    if metric == METRIC:
        return Decimal(repr(emissions_for_customer(footprint, "Helix Motors AG")))
    return Decimal(repr(footprint.scope1_kgco2e))


def _refusals(fed: Federation, campaign_id: str) -> list[str]:
    """Trustees' refusals: they refuse at the first part they are asked to open (the flags)."""
    with Session(fed.server.engine) as session:
        rows = [
            *session.exec(
                select(IndicatorShareRow).where(IndicatorShareRow.campaign_id == campaign_id)
            ).all(),
            *session.exec(
                select(DecryptionShareRow).where(DecryptionShareRow.campaign_id == campaign_id)
            ).all(),
        ]
    return [row.refusal for row in rows if row.refusal]


def _report(name: str, recovered: int | None, metric: str = METRIC) -> None:
    figure = "nothing" if recovered is None else f"{Decimal(recovered) / 1000} kg CO2e"
    print(
        f"\n[{name}] the operator recovered: {figure} "
        f"(the victim's {metric}: {_victim_figure(metric):.3f} kg CO2e)"
    )


@pytest.fixture(scope="module")
def first_release(setting: Setting) -> int:
    """Campaign A: the buyer's exact total over three suppliers, the victim left out."""
    _open_supply_chain(setting, "chain-a", FIRST)
    for key in FIRST:
        setting.fed.submit(key, "chain-a")
    _close_and_decrypt(setting.fed, "chain-a")
    released = _released(setting.fed, "chain-a", METRIC)
    assert released is not None, _result(setting.fed, "chain-a")
    return released


def test_the_first_campaigns_cohort_is_published_in_the_log(
    setting: Setting, first_release: int
) -> None:
    with setting.fed.client() as client:
        size = client.tree_head().tree_size
        cohorts = [cohort_from_entry(e) for e in client.entries(0, size) if is_cohort_entry(e)]
    (cohort,) = [c for c in cohorts if c.campaign_id == "chain-a"]
    assert cohort.contributors == tuple(sorted(setting.fed.agents[k] for k in FIRST))
    assert cohort.audience == setting.buyer and cohort.metrics == (METRIC,)


def test_every_agent_refuses_the_second_campaign_that_adds_the_victim(
    setting: Setting, first_release: int
) -> None:
    fed = setting.fed
    _open_supply_chain(setting, "chain-b", SECOND)
    outputs = {key: fed.submit(key, "chain-b", expect=1) for key in SECOND}
    fed.operator("campaign", "close", "chain-b")
    fed.run_trustees()
    second = _released(fed, "chain-b", METRIC)
    recovered = None if second is None else second - first_release
    _report("supply chain, default agents", recovered)
    assert recovered is None
    for key, output in outputs.items():
        assert "declined by local policy" in output, key
        assert "differs from that of exact campaign 'chain-a'" in output, key
        assert "by 1 member(s), fewer than k = 3" in output, key
    assert _result(fed, "chain-b")["state"] == "failed"


def test_the_agents_ledger_holds_the_first_cohort_read_from_the_log(
    setting: Setting, first_release: int
) -> None:
    engine = store.open_store(load_config(Path(setting.fed.agent_home("rhein"))).database_url)
    (row,) = [r for r in store.exact_campaigns(engine) if r.campaign_id == "chain-a"]
    assert row.cohort_json is not None
    assert sorted(json.loads(row.cohort_json)) == sorted(setting.fed.agents[k] for k in FIRST)


def test_trustees_refuse_when_every_agent_skips_the_check(
    setting: Setting, first_release: int
) -> None:
    fed = setting.fed
    _open_supply_chain(setting, "chain-c", SECOND)
    for key in SECOND:
        _old_agent_submit(fed, key, "chain-c")
    _close_and_decrypt(fed, "chain-c")
    second = _released(fed, "chain-c", METRIC)
    recovered = None if second is None else second - first_release
    _report("supply chain, agents without the guard", recovered)
    assert recovered is None
    refusals = _refusals(fed, "chain-c")
    assert len(refusals) >= 2  # t = 2 of 3: two refusals fail the campaign
    assert all("differs from that of exact campaign 'chain-a'" in r for r in refusals)


BENCH = ("nordstahl", "castings", "baltic")


@pytest.fixture(scope="module")
def first_benchmark(setting: Setting) -> int:
    setting.fed.open_campaign("bench-a", metrics=("scope1_kgco2e",))
    for key in BENCH:
        setting.fed.submit(key, "bench-a")
    _close_and_decrypt(setting.fed, "bench-a")
    first = _released(setting.fed, "bench-a", "scope1_kgco2e")
    assert first is not None
    return first


def test_a_campaign_over_the_same_cohort_again_is_released(
    setting: Setting, first_benchmark: int
) -> None:
    """Identical cohorts isolate nobody: an honest repeat still works."""
    fed = setting.fed
    fed.open_campaign("bench-a2", metrics=("scope1_kgco2e",))
    for key in BENCH:
        fed.submit(key, "bench-a2")
    _close_and_decrypt(fed, "bench-a2")
    assert _released(fed, "bench-a2", "scope1_kgco2e") == first_benchmark


def test_trustees_refuse_a_benchmark_whose_cohort_adds_the_victim(
    setting: Setting, first_benchmark: int
) -> None:
    """Benchmarks have no invitation list: the agents cannot know the cohort in advance."""
    fed = setting.fed
    fed.open_campaign("bench-b", metrics=("scope1_kgco2e",))
    for key in (*BENCH, VICTIM):
        fed.submit(key, "bench-b")  # default agents accept: nothing to compare yet
    _close_and_decrypt(fed, "bench-b")
    second = _released(fed, "bench-b", "scope1_kgco2e")
    recovered = None if second is None else second - first_benchmark
    _report("benchmark, cohort unknown to agents", recovered, "scope1_kgco2e")
    assert recovered is None
    reason = _result(fed, "bench-b")["reason"]
    assert "differs from that of exact campaign 'bench-a'" in reason


def test_a_store_from_before_cohort_entries_gets_them_at_start(federation: Federation) -> None:
    """Upgrade path: a campaign aggregated by an older coordinator has no cohort entry; the
    upgraded coordinator logs it when it starts, so trustees can still decrypt it."""
    for key in BENCH:
        federation.add_agent(company(key))
    federation.open_campaign("old")
    for key in BENCH:
        federation.submit(key, "old")
    federation.operator("campaign", "close", "old")
    with Session(federation.server.engine) as session:  # what an older coordinator left
        row = session.exec(select(CohortEntryRow)).one()
        session.delete(session.get(LogLeaf, row.leaf_index))
        session.delete(row)
        session.commit()
    port = federation.server.port
    federation.server.stop(0)
    config = replace(
        load_coordinator_config(federation.coordinator_home), listen=f"127.0.0.1:{port}"
    )
    federation.server = start(config, workers=8)
    with Session(federation.server.engine) as session:
        (row,) = session.exec(select(CohortEntryRow)).all()
    cohort = cohort_from_entry(row.entry)
    assert cohort.campaign_id == "old"
    assert cohort.contributors == tuple(sorted(federation.agents[k] for k in BENCH))
    federation.run_trustees()
    assert _result(federation, "old")["state"] == "released"
