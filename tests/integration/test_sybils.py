"""Issue 12, attack 1: a dishonest operator surrounds one real supplier with sybils.

The operator issues itself k - 1 supplier tokens, enrols fake suppliers whose activity data
it wrote (so it knows their figures to the gram), and one real supplier, on its default
policy, joins the benchmark. Released total minus the fakes' figures = the victim's Scope 1.

- Baseline (the checks as they were before attestations): the attack recovers the figure.
- Defence: a member counts towards k only when MIN_ATTESTATIONS trustees or registrars of
  the pinned manifest attested its legal identity, and k counts distinct legal entities.
  The operator cannot obtain those signatures for its sybils: the campaign fails at close,
  and a coordinator that aggregates anyway (or forges attestations with its own key) is
  refused by every trustee, so nothing is ever decrypted.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlmodel import Session

from agent.demo_data import demo_legal_id, records_for, write_company_data
from agent.errors import CoordinatorUnavailable
from agent.identity import load_or_create_identity
from agent.trustee import KeyRing, answer
from coordinator.campaigns import close_campaign, get_result
from coordinator.membership import member_of
from coordinator.store import AttestationRow, Participant
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.audit import signing
from fedcarbon.campaign import CampaignState
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.federation.attestation import attest
from fedcarbon.federation.manifest import load_manifest
from tests.integration.conftest import Federation, company, running_federation

pytestmark = pytest.mark.slow

VICTIM = "nordstahl"
# The operator's fakes: agents it runs itself, on activity data it wrote, so it knows their
# exact figures. The names, not the companies, are what they enrol as.
SYBILS = {"sybil-1": "castings", "sybil-2": "alpine"}


def _scope1(company_key: str) -> int:
    footprint = compute_footprint(records_for(company(company_key)))
    return to_fixed(Decimal(repr(footprint.scope1_kgco2e)), 3)


def _released_scope1(result: dict[str, object]) -> int:
    metrics = result["metrics"]
    assert isinstance(metrics, dict)
    return to_fixed(Decimal(str(metrics["scope1_kgco2e"]["sum"])), 3)


def _enrol_sybil(fed: Federation, name: str, company_key: str) -> str:
    """What the operator does with a token it issued itself: no trustee attests the fake."""
    home = fed.root / "agents" / name
    write_company_data(company(company_key), home / "activities.csv")
    document = fed.cli_json(
        "agent", "init", "--home", str(home), "--organisation", f"{name} Trading Ltd",
        "--activities", "activities.csv",
        "--invite", str(fed.invite("supplier")), "--legal-id", demo_legal_id(name),
    )  # fmt: skip
    # The operator's own agents pin nothing and accept anything: an honest agent would
    # decline while it is unattested, so the operator configures its fakes not to.
    config = home / "agent.toml"
    config.write_text(config.read_text().replace("min_threshold = 2", "min_threshold = 1"))
    fed.agents[name] = document["participant_id"]
    return str(document["participant_id"])


@dataclass
class Attack:
    fed: Federation
    victim_id: str
    sybil_ids: list[str]


@pytest.fixture(scope="module")
def attack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Attack]:
    with running_federation(tmp_path_factory.mktemp("sybils")) as fed:
        victim_id = fed.add_agent(company(VICTIM))  # a real supplier, attested by 2 trustees
        sybil_ids = [_enrol_sybil(fed, name, key) for name, key in SYBILS.items()]
        for campaign_id in ("baseline", "sybil", "forced"):
            fed.open_campaign(campaign_id, k=3)
            for name in (VICTIM, *SYBILS):
                fed.submit(name, campaign_id)
        yield Attack(fed, victim_id, sybil_ids)


def _known_to_the_operator() -> int:
    return sum(_scope1(key) for key in SYBILS.values())


def test_without_attestations_the_sybil_attack_recovers_the_victims_figure(
    attack: Attack,
) -> None:
    """The baseline: a coordinator counting participant ids, trustees checking as before."""
    fed = attack.fed
    state, _ = close_campaign(fed.server.engine, "baseline")  # k counted over participant ids
    assert state is CampaignState.AGGREGATED
    with fed.client() as client:
        assert fed.verdict(0, client.get_aggregate("baseline")).ok  # pre-attestation checks pass
        for part in ("indicators", "values"):  # the flags first, then the values
            bundle = client.get_aggregate("baseline", without_submissions=True)
            for index, trustee_id in enumerate(fed.trustees[:2]):
                home = fed.trustee_home(index)
                reply = answer(bundle, KeyRing(home), trustee_id, fed.verdict(index, bundle), part)
                client.submit_share(reply, load_or_create_identity(home / "identity.pem"))
    result = fed.cli_json(
        "coordinator", "campaign", "result", "baseline", "--home", str(fed.coordinator_home)
    )
    assert result["state"] == "released"
    assert _released_scope1(result) - _known_to_the_operator() == _scope1(VICTIM)


def test_the_victims_default_policy_accepts_the_campaign(attack: Attack) -> None:
    """The victim is not protected by refusing: its policy has no reason to decline."""
    rows = attack.fed.cli_json("agent", "campaigns", "--home", attack.fed.agent_home(VICTIM))
    manifest = load_manifest(attack.fed.manifest_path)
    assert {r["campaign_id"]: r["status"] for r in rows}["sybil"] == "submitted"
    assert {r["manifest_fingerprint"] for r in rows} == {manifest.fingerprint}


def test_the_coordinator_fails_a_cohort_of_sybils_at_close(attack: Attack) -> None:
    out = attack.fed.operator("campaign", "close", "sybil")
    assert "failed" in out and "only 1 distinct attested legal entity among 3" in out
    assert all(sybil in out for sybil in attack.sybil_ids)
    result = get_result(attack.fed.server.engine, "sybil")
    assert result.state is CampaignState.FAILED and not result.metrics


def _forge_attestations(fed: Federation, participant_ids: list[str]) -> None:
    """The operator signs 'attestations' with keys it made itself and writes them in."""
    forgers = [signing.generate_signing_key() for _ in range(2)]
    with Session(fed.server.engine) as session:
        for pid in participant_ids:
            row = session.get(Participant, pid)
            assert row is not None
            for key in forgers:
                forged = attest(key, member_of(row))
                session.add(
                    AttestationRow(
                        participant_id=pid,
                        attester_key=forged.attester_key,
                        legal_id=forged.legal_id,
                        organisation=forged.organisation,
                        identity_key=forged.identity_key,
                        signature=forged.signature,
                    )
                )
        session.commit()


def test_trustees_refuse_a_sybil_cohort_the_coordinator_aggregated_anyway(
    attack: Attack,
) -> None:
    """A dishonest coordinator skips its own check and forges attestations: trustees, each
    checking against its own pinned manifest, refuse; nothing is decrypted."""
    fed = attack.fed
    _forge_attestations(fed, attack.sybil_ids)
    state, _ = close_campaign(fed.server.engine, "forced")  # no manifest: counts ids only
    assert state is CampaignState.AGGREGATED
    for index in range(2):  # two refusals of three leave t = 2 out of reach
        out = fed.cli("trustee", "run", "--once", "--home", str(fed.trustee_home(index)))
        assert "refused" in out and "not attested by 2 trustee(s) or registrar(s)" in out
        assert all(sybil in out for sybil in attack.sybil_ids)
    result = get_result(fed.server.engine, "forced")
    assert result.state is CampaignState.FAILED and not result.metrics


def test_the_operator_cannot_store_an_attestation_by_a_key_outside_the_manifest(
    attack: Attack,
) -> None:
    fed = attack.fed
    key = signing.generate_signing_key()
    with fed.client() as client:
        (member, _) = client.members(attack.sybil_ids[0])[0]
        with pytest.raises(CoordinatorUnavailable, match="not a trustee or registrar"):
            client.submit_attestation(attest(key, member))


def test_a_legal_entity_with_two_participant_ids_counts_once(federation: Federation) -> None:
    """Three attested participant ids, but two of them are sites of one legal entity."""
    federation.add_agent(company("castings"))
    federation.add_agent(company("alpine"))
    federation.add_agent(
        company("castings"), name="castings-site-2", legal_id=demo_legal_id("castings")
    )
    federation.open_campaign("one-entity", k=3)
    for name in ("castings", "alpine", "castings-site-2"):
        federation.submit(name, "one-entity")
    out = federation.operator("campaign", "close", "one-entity")
    assert "only 2 distinct attested legal entities among 3" in out
