"""What dealer-free keys buy (issue 12), shown on a real federation over loopback gRPC.

- No dealer: each trustee makes its own key; the coordinator's files hold no private key, and
  one trustee's key opens only a random Shamir share of a submission, never a figure.
- Every opening (m, r) re-creates its ciphertext: a trustee that lies is named, and the
  honest t still release the exact sum.
- k counts non-zero contributors: k - 1 members who contribute 0 around one real figure
  fail the campaign before any value is opened (the differencing variant of issue 12).
- The release is signed by the trustees, who recompute it from everyone's openings.
- A trustee that decrypted a campaign refuses a different aggregate for it.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from agent.client import AggregateBundle
from agent.demo_data import records_for
from agent.errors import CoordinatorUnavailable
from agent.identity import load_or_create_identity
from agent.trustee import KeyRing, answer
from coordinator.campaigns import aggregate_submissions, get_campaign
from coordinator.release import get_signed_result, try_release
from coordinator.store import DecryptionShareRow, IndicatorShareRow, SubmissionRow
from fedcarbon import serde, shares
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.audit import signing
from fedcarbon.campaign import CampaignState
from fedcarbon.crypto import keys, vector
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.crypto.opening import Opening
from fedcarbon.decryption import DecryptionShare, combine_shares
from fedcarbon.results import signatures_sufficient
from fedcarbon.submission import DECRYPTION_SHARE_CONTEXT
from tests.integration.conftest import Federation, company, running_federation

pytestmark = pytest.mark.slow
MEMBERS = ("nordstahl", "castings", "alpine")


def _trustee_home(fed: Federation, trustee_id: str) -> Path:
    return fed.root / f"trustee-{fed.trustees.index(trustee_id) + 1}"


def _run_trustee(fed: Federation, trustee_id: str) -> None:
    fed.cli("trustee", "run", "--once", "--home", str(_trustee_home(fed, trustee_id)))


def _aggregated(fed: Federation, campaign_id: str, members: tuple[str, ...] = MEMBERS) -> None:
    """Agents submit, the operator closes."""
    for key in members:
        fed.add_agent(company(key))
    fed.open_campaign(campaign_id)
    for key in members:
        fed.submit(key, campaign_id)
    fed.operator("campaign", "close", campaign_id)


def _target(bundle: AggregateBundle) -> list[int]:
    return [int.from_bytes(blob, "big") for blob in bundle.ciphertexts]


def _forged(
    fed: Federation, bundle: AggregateBundle, trustee_id: str, part: str = "indicators"
) -> DecryptionShare:
    """The trustee's real openings with each plaintext shifted by one: well formed, wrong."""
    ring = KeyRing(_trustee_home(fed, trustee_id))
    honest = ring.open_part(bundle.campaign, trustee_id, bundle.ciphertexts, part)
    n = bundle.campaign.key.moduli[bundle.campaign.key.trustee_ids.index(trustee_id)]
    forged = []
    for blob in honest:
        opening = Opening.from_bytes(blob, n)
        forged.append(Opening(opening.plaintext + 1, opening.randomness).to_bytes(n))
    return DecryptionShare(
        bundle.campaign.campaign_id, trustee_id, bundle.digest, tuple(forged), "", part
    )


def _lie(fed: Federation, campaign_id: str, trustee_id: str) -> CampaignState:
    """Send honest-looking but altered openings, signed with the trustee's key."""
    identity = load_or_create_identity(_trustee_home(fed, trustee_id) / "identity.pem")
    with fed.client() as client:
        bundle = client.get_aggregate(campaign_id)
        return client.submit_share(_forged(fed, bundle, trustee_id), identity)


def _result(fed: Federation, campaign_id: str) -> dict[str, Any]:
    result: dict[str, Any] = fed.cli_json(
        "coordinator", "campaign", "result", campaign_id, "--home", str(fed.coordinator_home)
    )
    return result


def _share_rows(
    fed: Federation, campaign_id: str, table: Any = IndicatorShareRow
) -> dict[str, Any]:
    with Session(fed.server.engine) as session:
        rows = session.exec(select(table).where(table.campaign_id == campaign_id)).all()
    return {row.trustee_id: row for row in rows}


def _exact_scope1(members: tuple[str, ...]) -> int:
    return sum(
        to_fixed(Decimal(repr(compute_footprint(records_for(company(k))).scope1_kgco2e)), 3)
        for k in members
    )


# -- one lying trustee --------------------------------------------------------------------


@dataclass
class OneLiar:
    fed: Federation
    liar: str
    state_after_lie: CampaignState


@pytest.fixture(scope="module")
def one_liar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OneLiar]:
    with running_federation(tmp_path_factory.mktemp("one-liar")) as fed:
        _aggregated(fed, "liar")
        liar = fed.trustees[0]
        state = _lie(fed, "liar", liar)
        fed.run_trustees()
        yield OneLiar(fed, liar, state)


def test_a_lie_alone_neither_releases_nor_fails_the_campaign(one_liar: OneLiar) -> None:
    assert one_liar.state_after_lie is CampaignState.AGGREGATED


def test_honest_trustees_still_release_the_correct_sum_despite_a_liar(one_liar: OneLiar) -> None:
    result = _result(one_liar.fed, "liar")
    assert result["state"] == "released"
    released = to_fixed(Decimal(str(result["metrics"]["scope1_kgco2e"]["sum"])), 3)
    assert released == _exact_scope1(MEMBERS)
    assert result["metrics"]["participants"]["sum"] == len(MEMBERS)


def test_the_liars_opening_is_rejected_and_names_it(one_liar: OneLiar) -> None:
    row = _share_rows(one_liar.fed, "liar")[one_liar.liar]
    assert row.refusal.startswith("rejected by coordinator")
    assert one_liar.liar in row.refusal and "does not re-create it" in row.refusal


def test_honest_trustees_openings_are_not_marked(one_liar: OneLiar) -> None:
    rows = _share_rows(one_liar.fed, "liar")
    assert all(not rows[t].refusal for t in one_liar.fed.trustees[1:])


# -- what one trustee and the coordinator hold --------------------------------------------

FOUR = ("nordstahl", "castings", "alpine", "rhein")


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """A campaign of four contributors, released and signed by the trustees."""
    with running_federation(tmp_path_factory.mktemp("released")) as fed:
        _aggregated(fed, "once", FOUR)
        fed.run_trustees()
        assert _result(fed, "once")["state"] == "released"
        yield fed


def _one_submission(fed: Federation) -> list[int]:
    with Session(fed.server.engine) as session:
        row = session.exec(select(SubmissionRow).where(SubmissionRow.campaign_id == "once")).first()
    assert row is not None
    body = serde.body_from_bytes(serde.signed_from_entry(row.entry).body)
    return [int.from_bytes(blob, "big") for blob in body.ciphertexts]


def test_one_trustees_key_opens_only_a_random_share_of_a_submission(released: Federation) -> None:
    """The coordinator plus one trustee (t = 2) open one submission: they get a share, and
    the one share of a 2-of-3 sharing is uniform whatever the figure; rebuilding needs t."""
    campaign = get_campaign(released.server.engine, "once")
    submission = _one_submission(released)
    trustee = released.trustees[0]
    ring = KeyRing(_trustee_home(released, trustee))
    blobs = [
        c.to_bytes(vector.ciphertext_length(n), "big")
        for c, n in zip(submission, campaign.moduli, strict=True)
    ]
    opened = ring.open_part(campaign, trustee, blobs, "values")
    assert combine_shares(campaign, submission, {trustee: opened}, "values") is None
    n = campaign.key.moduli[0]
    share = shares.slot_sums(campaign, [Opening.from_bytes(b, n).plaintext for b in opened])
    assert all(0 <= value < campaign.prime for value in share)
    members = {
        to_fixed(Decimal(repr(compute_footprint(records_for(company(k))).scope1_kgco2e)), 3)
        for k in FOUR
    }
    assert share[0] not in members  # a share, not a member's Scope 1 (2^-60 chance of equality)


def test_no_trustee_private_key_appears_in_the_coordinators_files(released: Federation) -> None:
    stored = b"".join(
        path.read_bytes() for path in released.coordinator_home.rglob("*") if path.is_file()
    )
    for index in range(3):
        for path in (released.root / f"trustee-{index + 1}" / "keys").glob("campaign-*.json"):
            private = keys.load_private_key(path)
            for secret in (private.p, private.q):
                assert str(secret).encode() not in stored
                assert secret.to_bytes((secret.bit_length() + 7) // 8, "big") not in stored


def test_the_release_is_signed_by_the_trustees_and_checks_out(released: Federation) -> None:
    campaign = get_campaign(released.server.engine, "once")
    result = get_signed_result(released.server.engine, "once")
    assert len(result.signatures) == 3
    assert signatures_sufficient(result, campaign) == []


def test_an_altered_release_fails_the_trustees_signatures(released: Federation) -> None:
    campaign = get_campaign(released.server.engine, "once")
    result = get_signed_result(released.server.engine, "once")
    first = result.metrics[0]
    altered = replace(
        result, metrics=(replace(first, sum_fixed=first.sum_fixed + 1), *result.metrics[1:])
    )
    problems = signatures_sufficient(altered, campaign)
    assert "0 valid trustee signature(s); 2 needed" in problems[-1]


def test_an_empty_share_without_a_refusal_is_refused_unstored(released: Federation) -> None:
    """It would use up the trustee's one answer and have its real share ignored later."""
    trustee = released.trustees[0]
    identity = load_or_create_identity(_trustee_home(released, trustee) / "identity.pem")
    with released.client() as client:
        bundle = client.get_aggregate("once")
        empty = DecryptionShare("once", trustee, bundle.digest, (), "", "values")
        with pytest.raises(CoordinatorUnavailable, match="neither openings nor a refusal"):
            client.submit_share(empty, identity)


def test_a_bundle_asked_without_submissions_differs_only_in_having_none(
    released: Federation,
) -> None:
    """Trustees ask without them (issue 14); auditors and old clients still get them all."""
    with released.client() as client:
        full = client.get_aggregate("once")
        bare = client.get_aggregate("once", without_submissions=True)
    assert len(full.submissions) >= len(MEMBERS) and bare.submissions == []
    assert replace(full, submissions=[], tree_head=bare.tree_head) == bare


# -- no second decryption -----------------------------------------------------------------


def _without_last_contributor(fed: Federation) -> AggregateBundle:
    """What a coordinator that drops one contributor after the release would present."""
    with fed.client() as client:
        bundle = client.get_aggregate("once")
    kept = bundle.submissions[:-1]
    total = vector.to_bytes(
        aggregate_submissions(bundle.campaign, [serde.signed_to_entry(s) for s in kept]),
        bundle.campaign.moduli,
    )
    return replace(bundle, submissions=kept, ciphertexts=total, digest=vector.digest(total))


def test_a_trustee_refuses_a_different_aggregate_for_a_released_campaign(
    released: Federation,
) -> None:
    trustee_id = released.trustees[0]
    ring = KeyRing(_trustee_home(released, trustee_id))
    with released.client() as client:
        released_digest = client.get_aggregate("once").digest
    assert ring.already_decrypted("once") == released_digest.hex()
    smaller = _without_last_contributor(released)
    # It is a valid aggregate of k = 3 signed submissions, but it leaves a logged one out.
    verdict = released.verdict(0, smaller)
    assert "the aggregate differs from the sum of the signed submissions" in verdict.reasons
    # Even were it the log's aggregate, the trustee opens no second one for the campaign.
    reply = answer(smaller, ring, trustee_id, replace(verdict, ok=True, reasons=()))
    assert reply.shares == ()
    assert reply.refusal == "this campaign was already decrypted once, for a different aggregate"


def test_a_differencing_coordinator_collects_fewer_than_t_shares(released: Federation) -> None:
    smaller = _without_last_contributor(released)
    replies = {
        t: answer(smaller, KeyRing(_trustee_home(released, t)), t, released.verdict(i, smaller))
        for i, t in enumerate(released.trustees)
    }
    opened = {t: r.shares for t, r in replies.items() if not r.refusal}
    # Every trustee opened its indicators of the released aggregate, so none opens another.
    assert opened == {}
    assert all("already decrypted once" in r.refusal for r in replies.values())


def test_a_single_submission_posed_as_the_aggregate_is_refused(released: Federation) -> None:
    with released.client() as client:
        bundle = client.get_aggregate("once")
    (one,) = bundle.submissions[:1]
    body = serde.body_from_bytes(one.body)
    lone = replace(
        bundle,
        submissions=[one],
        ciphertexts=list(body.ciphertexts),
        digest=vector.digest(list(body.ciphertexts)),
    )
    trustee_id = released.trustees[2]
    verdict = released.verdict(2, lone)
    reply = answer(lone, KeyRing(_trustee_home(released, trustee_id)), trustee_id, verdict)
    assert reply.shares == ()
    assert "the aggregate differs from the sum of the signed submissions" in reply.refusal


# -- shares that arrive together ----------------------------------------------------------


def _signed_row(fed: Federation, share: DecryptionShare) -> IndicatorShareRow:
    identity = load_or_create_identity(_trustee_home(fed, share.trustee_id) / "identity.pem")
    body = serde.share_to_bytes(share)
    return IndicatorShareRow(
        campaign_id=share.campaign_id,
        trustee_id=share.trustee_id,
        body=body,
        signature=signing.sign(identity, body, context=DECRYPTION_SHARE_CONTEXT),
    )


def test_a_liar_among_shares_that_arrived_together_does_not_stall_the_release(
    tmp_path: Path,
) -> None:
    with running_federation(tmp_path) as fed:
        _aggregated(fed, "together")
        with fed.client() as client:
            bundle = client.get_aggregate("together")
        liar, *honest = fed.trustees
        replies = [_forged(fed, bundle, liar)]
        replies += [
            answer(bundle, KeyRing(fed.trustee_home(i)), t, fed.verdict(i, bundle), "indicators")
            for i, t in enumerate(fed.trustees)
            if t in honest
        ]
        with Session(fed.server.engine) as session:
            for reply in replies:
                session.add(_signed_row(fed, reply))
            session.commit()
        assert try_release(fed.server.engine, "together") is CampaignState.AGGREGATED
        assert _share_rows(fed, "together")[liar].refusal.startswith("rejected by coordinator")
        fed.run_trustees(rounds=2)
        assert _result(fed, "together")["state"] == "released"


# -- k counts non-zero contributors -------------------------------------------------------


def test_k_minus_one_zero_contributors_around_one_figure_fail_before_any_value_opens(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12, attack 2 without a sybil: invite two real suppliers that sell the buyer
    nothing (they honestly contribute 0) and the victim; k = 3 counts three contributors."""
    fed = federation
    buyer = fed.add_agent(company("helix"))
    for key in MEMBERS:  # nordstahl and castings sell nothing to Helix; alpine does
        fed.add_agent(company(key), buyer_id=buyer)
    invite = [a for key in MEMBERS for a in ("--invite", fed.agents[key])]
    fed.open_campaign(
        "zeros",
        kind="supply_chain",
        metrics=("delivered_to_buyer_kgco2e",),
        extra=("--buyer", buyer, *invite),
    )
    for key in MEMBERS:
        fed.submit(key, "zeros")
    fed.operator("campaign", "close", "zeros")
    fed.run_trustees()
    result = _result(fed, "zeros")
    assert result["state"] == "failed"
    assert (
        "only 1 contributor(s) with a non-zero delivered_to_buyer_kgco2e; k = 3" in result["reason"]
    )
    assert _share_rows(fed, "zeros", DecryptionShareRow) == {}  # no value was ever opened


def test_without_the_non_zero_check_the_same_cohort_releases_the_victims_figure(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack succeeds once the defence is removed: this is what the check stops."""
    import agent.trustee
    import coordinator.release

    monkeypatch.setattr(agent.trustee, "indicator_problems", lambda *_: [])
    monkeypatch.setattr(coordinator.release, "indicator_problems", lambda *_: [])
    fed = federation
    buyer = fed.add_agent(company("helix"))
    for key in MEMBERS:
        fed.add_agent(company(key), buyer_id=buyer)
    invite = [a for key in MEMBERS for a in ("--invite", fed.agents[key])]
    fed.open_campaign(
        "zeros",
        kind="supply_chain",
        metrics=("delivered_to_buyer_kgco2e",),
        extra=("--buyer", buyer, *invite),
    )
    victim = fed.cli_json("agent", "preview", "zeros", "--home", fed.agent_home("alpine"))
    figure = victim["stays_here_encrypted_before_sending"]["delivered_to_buyer_kgco2e"]
    for key in MEMBERS:
        fed.submit(key, "zeros")
    fed.operator("campaign", "close", "zeros")
    fed.run_trustees()
    result = _result(fed, "zeros")
    assert result["state"] == "released"
    released = result["metrics"]["delivered_to_buyer_kgco2e"]["sum"]
    assert to_fixed(Decimal(str(released)), 3) == figure["fixed_point"] > 0


# -- a liar cannot frame an honest trustee ------------------------------------------------


def test_a_forged_share_in_another_trustees_name_is_refused_unstored(
    federation: Federation,
) -> None:
    _aggregated(federation, "frame")
    liar, framed, _ = federation.trustees
    identity = load_or_create_identity(_trustee_home(federation, liar) / "identity.pem")
    with federation.client() as client:
        bundle = client.get_aggregate("frame")
        forged = replace(_forged(federation, bundle, liar), trustee_id=framed)
        with pytest.raises(CoordinatorUnavailable, match="UNAUTHENTICATED"):
            client.submit_share(forged, identity)
    assert framed not in _share_rows(federation, "frame")


def test_agent_results_and_offline_evidence_show_who_vouches(released: Federation) -> None:
    home = released.agent_home("castings")
    evidence = released.root / "once.evidence.json"
    shown = released.cli_json(
        "agent", "results", "once", "--home", home, "--evidence", str(evidence)
    )
    assert shown["trust"]["problems"] == [] and len(shown["trust"]["signed_by"]) == 3
    assert shown["metrics"]["participants"]["nonzero_contributors"] == len(FOUR)
    assert released.cli_json("audit", "verify", "result", str(evidence))["valid"] is True


def test_a_tampered_evidence_file_fails_offline_verification(released: Federation) -> None:
    from fedcarbon.evidence import ResultEvidence, from_document, to_document

    evidence = released.root / "once.evidence.json"
    released.cli(
        "agent",
        "results",
        "once",
        "--home",
        released.agent_home("castings"),
        "--evidence",
        str(evidence),
    )
    proof = from_document(evidence.read_bytes())
    first = proof.result.metrics[0]
    forged = replace(
        proof.result,
        metrics=(replace(first, sum_fixed=first.sum_fixed + 1), *proof.result.metrics[1:]),
    )
    evidence.write_text(
        __import__("json").dumps(to_document(ResultEvidence(proof.campaign, forged)))
    )
    out = released.cli("audit", "verify", "result", str(evidence), expect=1)
    assert "0 valid trustee signature(s); 2 needed" in out


def test_offline_evidence_checks_the_key_holders_against_a_manifest(
    released: Federation, tmp_path: Path
) -> None:
    """Signatures by keys the coordinator chose prove nothing: with the reader's manifest,
    every key holder must be one of its trustees."""
    evidence = released.root / "once.evidence.json"
    released.cli(
        "agent", "results", "once", "--home", released.agent_home("castings"),
        "--evidence", str(evidence),
    )  # fmt: skip
    ours = released.cli_json(
        "audit", "verify", "result", str(evidence), "--manifest", str(released.manifest_path)
    )
    assert ours["valid"] is True and "key_holders_in_manifest" in ours["checks"]
    other = tmp_path / "other-manifest.json"
    document = json.loads(released.manifest_path.read_text())
    document["trustees"] = document["trustees"][:1]  # a manifest naming one trustee only
    other.write_text(json.dumps(document))
    out = released.cli(
        "audit", "verify", "result", str(evidence), "--manifest", str(other), expect=1
    )
    assert "manifest" in out  # an altered manifest fails its trustees' signatures first
