"""End-to-end flows over real gRPC on loopback: release, k, duplicates, trustees' checks."""

import json
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from agent.demo_data import records_for
from coordinator.store import AggregateRow, SubmissionRow
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.metrics import output_tonnes
from tests.integration.conftest import Federation, company

pytestmark = pytest.mark.slow


def _result(fed: Federation, campaign_id: str) -> dict:
    return fed.cli_json(
        "coordinator", "campaign", "result", campaign_id, "--home", str(fed.coordinator_home)
    )


def test_benchmark_release_equals_sum_of_plaintext_figures(federation: Federation) -> None:
    members = ["nordstahl", "castings", "alpine"]
    for key in members:
        federation.add_agent(company(key))
    federation.open_campaign("bench", metrics=("scope1_kgco2e", "output_t", "participants"))
    for key in members:
        federation.submit(key, "bench")
    federation.operator("campaign", "close", "bench")
    federation.run_trustees(2)  # two trustees: t = 2 of 3 is enough
    result = _result(federation, "bench")
    assert result["state"] == "released"
    assert result["contributors"] == 3
    footprints = [compute_footprint(records_for(company(key))) for key in members]
    expected_scope1 = sum(to_fixed(Decimal(repr(f.scope1_kgco2e)), 3) for f in footprints)
    expected_output = sum(to_fixed(Decimal(repr(output_tonnes(f))), 3) for f in footprints)
    assert to_fixed(Decimal(str(result["metrics"]["scope1_kgco2e"]["sum"])), 3) == expected_scope1
    assert to_fixed(Decimal(str(result["metrics"]["output_t"]["sum"])), 3) == expected_output
    assert result["metrics"]["participants"]["sum"] == 3


def test_supply_chain_total_counts_only_invited_suppliers(federation: Federation) -> None:
    buyer = federation.add_agent(company("helix"))
    invited = [
        federation.add_agent(company(k), buyer_id=buyer) for k in ("alpine", "rhein", "danube")
    ]
    federation.add_agent(company("baltic"), buyer_id=buyer)
    federation.open_campaign(
        "chain",
        kind="supply_chain",
        metrics=("delivered_to_buyer_kgco2e",),
        extra=("--buyer", buyer, *[a for pid in invited for a in ("--invite", pid)]),
    )
    out = federation.submit("baltic", "chain", expect=1)
    # An uninvited supplier does not even see the campaign (coordinator/service.py _visible).
    assert "unknown campaign 'chain'" in out
    for key in ("alpine", "rhein", "danube"):
        federation.submit(key, "chain")
    federation.operator("campaign", "close", "chain")
    federation.run_trustees()
    result = _result(federation, "chain")
    from fedcarbon.accounting.pcf import emissions_for_customer

    expected = sum(
        to_fixed(
            Decimal(
                repr(
                    emissions_for_customer(
                        compute_footprint(records_for(company(k))), "Helix Motors AG"
                    )
                )
            ),
            3,
        )
        for k in ("alpine", "rhein", "danube")
    )
    assert result["state"] == "released"
    assert (
        to_fixed(Decimal(str(result["metrics"]["delivered_to_buyer_kgco2e"]["sum"])), 3) == expected
    )


def test_nothing_is_released_below_k(federation: Federation) -> None:
    for key in ("nordstahl", "castings"):
        federation.add_agent(company(key))
    federation.open_campaign("small", k=3)
    for key in ("nordstahl", "castings"):
        federation.submit(key, "small")
    out = federation.operator("campaign", "close", "small")
    assert "failed" in out and "at least 3" in out
    federation.run_trustees()
    result = _result(federation, "small")
    assert result["state"] == "failed"
    assert result["metrics"] == {}
    with Session(federation.server.engine) as session:
        assert session.get(AggregateRow, "small") is None


def test_a_replayed_submission_counts_once(federation: Federation) -> None:
    for key in ("nordstahl", "castings", "alpine"):
        federation.add_agent(company(key))
    federation.open_campaign("replay")
    federation.submit("nordstahl", "replay")
    # A second, different submission from the same participant is refused ...
    out = federation.submit("nordstahl", "replay", expect=1)
    assert "already submitted" in out
    # ... and the refused one is not kept for a resend (it can never count).
    from agent import store

    engine = store.open_store(f"sqlite:///{federation.agent_home('nordstahl')}/agent.sqlite")
    assert store.pending(engine, "replay") is None
    # ... and a byte-identical replay is acknowledged as a duplicate, not stored again.
    from fedcarbon import serde

    with Session(federation.server.engine) as session:
        row = session.exec(select(SubmissionRow).where(SubmissionRow.campaign_id == "replay")).one()
    with federation.client(federation.agent_home("nordstahl")) as client:
        receipt, duplicate = client.submit(serde.signed_from_entry(row.entry))
    assert duplicate and receipt.leaf_index == row.leaf_index
    with Session(federation.server.engine) as session:
        assert (
            len(
                session.exec(
                    select(SubmissionRow).where(SubmissionRow.campaign_id == "replay")
                ).all()
            )
            == 1
        )


def test_trustees_refuse_a_tampered_aggregate(federation: Federation) -> None:
    for key in ("nordstahl", "castings", "alpine"):
        federation.add_agent(company(key))
    federation.open_campaign("tamper")
    for key in ("nordstahl", "castings", "alpine"):
        federation.submit(key, "tamper")
    federation.operator("campaign", "close", "tamper")
    # A dishonest coordinator drops one contributor from the aggregate it asks to decrypt.
    with Session(federation.server.engine) as session:
        aggregate = session.get(AggregateRow, "tamper")
        rows = session.exec(
            select(SubmissionRow).where(SubmissionRow.campaign_id == "tamper")
        ).all()
        from coordinator.campaigns import aggregate_submissions, get_campaign
        from fedcarbon.crypto import vector

        campaign = get_campaign(federation.server.engine, "tamper")
        partial = aggregate_submissions(campaign, [r.entry for r in rows[:2]])
        blobs = vector.to_bytes(partial, campaign.moduli)
        aggregate.ciphertexts = b"".join(blobs)
        aggregate.digest = vector.digest(blobs)
        session.add(aggregate)
        session.commit()
    federation.run_trustees()
    result = _result(federation, "tamper")
    assert result["state"] == "failed"
    assert "differs from the sum of the signed submissions" in result["reason"]


def test_a_released_campaign_is_never_decrypted_again(federation: Federation) -> None:
    for key in ("nordstahl", "castings", "alpine"):
        federation.add_agent(company(key))
    federation.open_campaign("once")
    for key in ("nordstahl", "castings", "alpine"):
        federation.submit(key, "once")
    federation.operator("campaign", "close", "once")
    federation.run_trustees()
    assert _result(federation, "once")["state"] == "released"
    out = federation.operator("campaign", "close", "once", expect=1)
    assert "released, not open" in out
    done = json.loads((federation.root / "trustee-1" / "decrypted.json").read_text())
    assert "once" in done


def test_trustees_refuse_an_aggregate_that_leaves_out_a_logged_submission(
    federation: Federation,
) -> None:
    members = ("nordstahl", "castings", "alpine", "rhein")
    for key in members:
        federation.add_agent(company(key))
    federation.open_campaign("differencing", k=3)
    for key in members:
        federation.submit(key, "differencing")
    federation.operator("campaign", "close", "differencing")
    # A dishonest coordinator re-forms the aggregate without one contributor (still >= k) and
    # hides that submission from what it serves, hoping to learn it by differencing later.
    from coordinator.campaigns import aggregate_submissions, get_campaign
    from fedcarbon.crypto import vector

    engine = federation.server.engine
    with Session(engine) as session:
        rows = session.exec(
            select(SubmissionRow).where(SubmissionRow.campaign_id == "differencing")
        ).all()
        campaign = get_campaign(engine, "differencing")
        kept = aggregate_submissions(campaign, [r.entry for r in rows[:3]])
        blobs = vector.to_bytes(kept, campaign.moduli)
        aggregate = session.get(AggregateRow, "differencing")
        aggregate.ciphertexts = b"".join(blobs)
        aggregate.digest = vector.digest(blobs)
        aggregate.contributors = 3
        session.add(aggregate)
        session.delete(rows[3])
        session.commit()
    federation.run_trustees()
    result = _result(federation, "differencing")
    assert result["state"] == "failed"
    assert "log" in result["reason"]


def test_a_single_holder_key_works_for_agents_whose_policy_accepts_it(
    federation: Federation,
) -> None:
    members = ("nordstahl", "castings", "alpine")
    for key in members:
        federation.add_agent(company(key))
    (statement,) = federation.key_statements("single", count=1)
    federation.operator(
        "campaign",
        "create",
        "--id",
        "single",
        "--kind",
        "benchmark",
        "--key-statement",
        str(statement),
        "--threshold",
        "1",
        "--period-start",
        "2024-01-01",
        "--period-end",
        "2024-12-31",
        "--metric",
        "participants",
        "--allow-weak",  # a single holder is below the coordinator's default minimums
    )
    listed = federation.cli_json(
        "coordinator", "campaign", "list", "--home", str(federation.coordinator_home)
    )
    assert [c["weak_allowed"] for c in listed] == [True]
    refused = federation.submit("nordstahl", "single", expect=1)
    assert "needs only 1 trustee(s) to decrypt; policy requires at least 2" in refused
    for key in members:
        config = federation.root / "agents" / key / "agent.toml"
        config.write_text(config.read_text().replace("min_threshold = 2", "min_threshold = 1"))
        federation.submit(key, "single")
    federation.operator("campaign", "close", "single")
    federation.run_trustees(1)
    result = _result(federation, "single")
    assert result["state"] == "released" and result["metrics"]["participants"]["sum"] == 3


def test_agents_see_the_fingerprint_of_the_signed_key_statements(federation: Federation) -> None:
    federation.add_agent(company("castings"))
    federation.open_campaign("printed")
    from fedcarbon.campaign import CampaignKey
    from fedcarbon.trustee_keys import statement_from_document

    statements = tuple(
        statement_from_document(
            json.loads((federation.root / f"printed.trustee-{i}.json").read_text())
        )
        for i in (1, 2, 3)
    )
    expected = CampaignKey(statements, 2).fingerprint
    (row,) = federation.cli_json("agent", "campaigns", "--home", federation.agent_home("castings"))
    assert row["key_fingerprint"] == expected and row["key"] == "2-of-3"
    preview = federation.cli_json(
        "agent", "preview", "printed", "--home", federation.agent_home("castings")
    )
    assert expected[:16] in preview["leaves_this_machine"]["key fingerprint"]


def test_a_campaign_reusing_another_campaigns_key_is_never_decrypted(
    federation: Federation,
) -> None:
    """Review finding F1: a coordinator re-presents campaign A's keys as a rigged campaign B
    (e.g. with sybils) to have its contents decrypted."""
    for key in ("nordstahl", "castings", "alpine"):
        federation.add_agent(company(key))
    statement = federation.open_campaign("honest")
    federation.submit("nordstahl", "honest")
    refused = federation.operator(
        "campaign",
        "create",
        "--id",
        "rigged",
        "--kind",
        "benchmark",
        "--key-statement",
        str(statement),
        "--period-start",
        "2024-01-01",
        "--period-end",
        "2024-12-31",
        "--metric",
        "scope1_kgco2e",
        "--metric",
        "participants",
        expect=1,
    )
    assert "a key serves one campaign only" in refused
    # The dishonest coordinator bypasses its own checks and writes campaign B directly: the
    # trustees' statements name campaign A, so no agent (nor the coordinator) accepts B.
    from dataclasses import replace as _replace

    from coordinator.campaigns import _to_row, get_campaign

    engine = federation.server.engine
    rigged = _replace(get_campaign(engine, "honest"), campaign_id="rigged")
    with Session(engine) as session:
        session.add(_to_row(rigged))
        session.commit()
    out = federation.submit("alpine", "rigged", expect=1)
    assert "key statement of" in out and "signature does not verify" in out
    # The honest campaign is still listed and served.
    (listed,) = [
        c
        for c in federation.cli_json(
            "agent", "campaigns", "--home", federation.agent_home("alpine")
        )
        if c["campaign_id"] == "honest"
    ]
    assert listed["state"] == "open"
