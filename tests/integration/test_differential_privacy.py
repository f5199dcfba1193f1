"""A benchmark released with differential-privacy noise that no single party knows."""

from decimal import Decimal

import pytest
from sqlmodel import Session, select

from agent.demo_data import records_for
from coordinator.campaigns import get_campaign
from coordinator.store import DecryptionShareRow, NoiseShareRow
from fedcarbon import serde
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.dp import NOISE_FAILURE_PROBABILITY
from fedcarbon.privacy.noise import noise_magnitude_bound
from tests.integration.conftest import Federation, company

pytestmark = pytest.mark.slow
MEMBERS = ("castings", "alpine", "rhein")


def _run(fed: Federation, epsilon: str) -> tuple[dict, int]:
    for key in MEMBERS:
        fed.add_agent(company(key))
    fed.open_campaign(
        "noisy",
        metrics=("scope1_kgco2e:0:5000000", "participants"),
        extra=("--epsilon", epsilon),
    )
    for key in MEMBERS:
        fed.submit(key, "noisy")
    fed.operator("campaign", "close", "noisy")
    fed.run_trustees()  # round 1: every trustee adds an encrypted noise share
    fed.run_trustees()  # round 2: t trustees decrypt the noised aggregate
    result = fed.cli_json(
        "coordinator", "campaign", "result", "noisy", "--home", str(fed.coordinator_home)
    )
    exact = sum(
        to_fixed(Decimal(repr(compute_footprint(records_for(company(k))).scope1_kgco2e)), 3)
        for k in MEMBERS
    )
    return result, exact


def test_noised_release_differs_from_the_exact_sum_within_the_proven_bound(
    federation: Federation,
) -> None:
    result, exact = _run(federation, "1.0")
    assert result["state"] == "released"
    released = to_fixed(Decimal(str(result["metrics"]["scope1_kgco2e"]["sum"])), 3)
    assert result["metrics"]["participants"]["sum"] == 3  # the count is not noised
    spec = get_campaign(federation.server.engine, "noisy").noise.specs[0]  # type: ignore[union-attr]
    assert released != exact  # P(noise == 0) is about 1e-6 at this scale
    assert abs(released - exact) <= noise_magnitude_bound(spec, NOISE_FAILURE_PROBABILITY)


def test_every_trustee_adds_noise_and_decryption_is_of_the_noised_aggregate(
    federation: Federation,
) -> None:
    _run(federation, "1.0")
    with Session(federation.server.engine) as session:
        noise = session.exec(
            select(NoiseShareRow).where(NoiseShareRow.campaign_id == "noisy")
        ).all()
        shares = session.exec(
            select(DecryptionShareRow).where(DecryptionShareRow.campaign_id == "noisy")
        ).all()
    assert sorted(n.trustee_id for n in noise) == sorted(federation.trustees)
    bases = {serde.noise_from_bytes(n.body).aggregate_digest for n in noise}
    targets = {serde.share_from_bytes(s.body).aggregate_digest for s in shares if not s.refusal}
    assert len(bases) == 1 and len(targets) == 1
    assert bases != targets  # trustees decrypted aggregate x noise, never the bare aggregate


def test_an_agent_declines_a_campaign_that_would_overspend_its_budget(
    federation: Federation,
) -> None:
    federation.add_agent(company("castings"))
    for campaign_id in ("first", "second"):
        federation.open_campaign(
            campaign_id, metrics=("scope1_kgco2e:0:5000000",), extra=("--epsilon", "6")
        )
    federation.submit("castings", "first")
    out = federation.submit("castings", "second", expect=1)
    assert "campaign 'second' asks for epsilon=6.0" in out
    assert "only epsilon=4.0" in out and "remain" in out


def test_a_trustee_asked_again_resends_its_noise_instead_of_drawing_fresh(
    federation: Federation,
) -> None:
    """Review finding F4: fresh noise on a rewound campaign could be averaged away."""
    from agent.trustee import KeyRing, make_noise

    for key in MEMBERS:
        federation.add_agent(company(key))
    federation.open_campaign(
        "renoise", metrics=("scope1_kgco2e:0:5000000",), extra=("--epsilon", "1")
    )
    for key in MEMBERS:
        federation.submit(key, "renoise")
    federation.operator("campaign", "close", "renoise")
    with federation.client() as client:
        bundle = client.get_aggregate("renoise")
    ring = KeyRing(federation.root / "trustee-1")
    verdict = federation.verdict(0, bundle)
    assert verdict.ok, verdict
    first = make_noise(bundle, ring, federation.trustees[0], verdict)
    again = make_noise(bundle, ring, federation.trustees[0], verdict)
    assert first == again
