"""What threshold decryption buys (issue 4), shown on a real federation over loopback gRPC.

- Each partial decryption carries a proof of correctness (Damgard-Jurik 2001, Section 4.1;
  Shoup 2000): a trustee that lies is detected and named, and the honest t still release.
- The coordinator plus t - 1 trustees cannot decrypt a single submission: one partial is
  not enough, and the coordinator's database holds no key material it could add.
- A trustee that decrypted a campaign refuses to decrypt a different aggregate for it
  (the differencing attack of a coordinator that drops one contributor after a release).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlmodel import Session, select

from agent.client import AggregateBundle, CoordinatorClient
from agent.demo_data import records_for
from agent.errors import CoordinatorUnavailable
from agent.identity import load_or_create_encryption_key, load_or_create_identity
from agent.trustee import KeyRing, answer, verify_bundle
from coordinator.campaigns import aggregate_submissions, get_campaign
from coordinator.config import CoordinatorConfig, write_config
from coordinator.release import try_release
from coordinator.server import start
from coordinator.store import DecryptionShareRow, SealedShareRow, SubmissionRow
from fedcarbon import serde
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.audit import signing
from fedcarbon.campaign import CampaignState
from fedcarbon.crypto import keys, sealing, threshold, vector
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.crypto.errors import (
    InvalidPartialDecryptionError,
    NotEnoughSharesError,
    SealedBoxError,
)
from fedcarbon.decryption import DecryptionShare, combine_shares
from fedcarbon.submission import DECRYPTION_SHARE_CONTEXT
from tests.integration.conftest import Federation, company

pytestmark = pytest.mark.slow
MEMBERS = ("nordstahl", "castings", "alpine")


@contextmanager
def _federation(root: Path) -> Iterator[Federation]:
    """The `federation` fixture's set-up, shared by the tests of one scenario."""
    home = root / "coordinator"
    home.mkdir()
    config = CoordinatorConfig(home=home, listen="127.0.0.1:0")
    write_config(config)
    server = start(config, workers=8)
    fed = Federation(root, server)
    try:
        for index in range(3):
            fed.add_trustee(f"trustee-{index + 1}")
        yield fed
    finally:
        server.stop(0)


def _trustee_home(fed: Federation, trustee_id: str) -> Path:
    return fed.root / f"trustee-{fed.trustees.index(trustee_id) + 1}"


def _run_trustee(fed: Federation, trustee_id: str) -> None:
    fed.cli("trustee", "run", "--once", "--home", str(_trustee_home(fed, trustee_id)))


def _aggregated(fed: Federation, campaign_id: str, members: tuple[str, ...] = MEMBERS) -> None:
    """Agents submit, trustees pick up their sealed key shares, the operator closes."""
    for key in members:
        fed.add_agent(company(key))
    fed.open_campaign(campaign_id)
    for key in members:
        fed.submit(key, campaign_id)
    for trustee_id in fed.trustees:  # while open: only collects the sealed key share
        _run_trustee(fed, trustee_id)
    fed.operator("campaign", "close", campaign_id)


def _forged(fed: Federation, bundle: AggregateBundle, trustee_id: str) -> DecryptionShare:
    """The trustee's real partial decryptions, each value altered: a unit mod n^2 still
    (well-formed), but shifting the plaintext it decrypts to, so only the proof can tell."""
    honest = KeyRing(_trustee_home(fed, trustee_id)).decrypt(
        bundle.campaign, trustee_id, bundle.ciphertexts
    )
    n = bundle.campaign.key.paillier_n
    forged = []
    for blob in honest:
        partial = threshold.PartialDecryption.from_bytes(blob)
        forged.append(replace(partial, value=partial.value * (1 + n) % (n * n)).to_bytes())
    return DecryptionShare(bundle.campaign.campaign_id, trustee_id, bundle.digest, tuple(forged))


def _lie(fed: Federation, campaign_id: str, trustee_id: str) -> CampaignState:
    """Send honest-looking but altered partial decryptions, signed with the trustee's key."""
    identity = load_or_create_identity(_trustee_home(fed, trustee_id) / "identity.pem")
    with CoordinatorClient(fed.address) as client:
        bundle = client.get_aggregate(campaign_id)
        return client.submit_share(_forged(fed, bundle, trustee_id), identity)


def _result(fed: Federation, campaign_id: str) -> dict[str, Any]:
    result: dict[str, Any] = fed.cli_json(
        "coordinator", "campaign", "result", campaign_id, "--home", str(fed.coordinator_home)
    )
    return result


def _share_rows(fed: Federation, campaign_id: str) -> dict[str, DecryptionShareRow]:
    with Session(fed.server.engine) as session:
        rows = session.exec(
            select(DecryptionShareRow).where(DecryptionShareRow.campaign_id == campaign_id)
        ).all()
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
    with _federation(tmp_path_factory.mktemp("one-liar")) as fed:
        _aggregated(fed, "liar")
        liar = fed.trustees[0]
        state = _lie(fed, "liar", liar)
        for honest in fed.trustees[1:]:
            _run_trustee(fed, honest)
        yield OneLiar(fed, liar, state)


def test_a_lie_alone_neither_releases_nor_fails_the_campaign(one_liar: OneLiar) -> None:
    assert one_liar.state_after_lie is CampaignState.AGGREGATED


def test_honest_trustees_still_release_the_correct_sum_despite_a_liar(one_liar: OneLiar) -> None:
    result = _result(one_liar.fed, "liar")
    assert result["state"] == "released"
    released = to_fixed(Decimal(str(result["metrics"]["scope1_kgco2e"]["sum"])), 3)
    assert released == _exact_scope1(MEMBERS)
    assert result["metrics"]["participants"]["sum"] == len(MEMBERS)


def test_the_liars_share_is_rejected_for_its_proof_and_names_it(one_liar: OneLiar) -> None:
    refusal = _share_rows(one_liar.fed, "liar")[one_liar.liar].refusal
    assert refusal.startswith("rejected by coordinator: ")
    assert one_liar.liar in refusal and "proof of correct decryption does not verify" in refusal


def test_honest_trustees_shares_are_not_marked(one_liar: OneLiar) -> None:
    rows = _share_rows(one_liar.fed, "liar")
    assert [rows[t].refusal for t in one_liar.fed.trustees[1:]] == ["", ""]


# -- two lying trustees out of three ------------------------------------------------------


@dataclass
class TwoLiars:
    fed: Federation
    liars: list[str]
    states: list[CampaignState]


@pytest.fixture(scope="module")
def two_liars(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoLiars]:
    with _federation(tmp_path_factory.mktemp("two-liars")) as fed:
        _aggregated(fed, "liars")
        liars = fed.trustees[:2]
        states = [_lie(fed, "liars", liar) for liar in liars]
        yield TwoLiars(fed, liars, states)


def test_two_liars_of_three_fail_the_campaign(two_liars: TwoLiars) -> None:
    assert two_liars.states == [CampaignState.AGGREGATED, CampaignState.FAILED]
    result = _result(two_liars.fed, "liars")
    assert result["state"] == "failed" and result["metrics"] == {}


def test_the_failure_reason_names_both_liars(two_liars: TwoLiars) -> None:
    reason = _result(two_liars.fed, "liars")["reason"]
    assert all(liar in reason for liar in two_liars.liars)
    assert reason.count("proof of correct decryption does not verify") >= 2


def test_the_honest_trustee_is_not_asked_after_the_failure(two_liars: TwoLiars) -> None:
    honest = two_liars.fed.trustees[2]
    _run_trustee(two_liars.fed, honest)
    assert honest not in _share_rows(two_liars.fed, "liars")


# -- what the coordinator holds -----------------------------------------------------------

FOUR = ("nordstahl", "castings", "alpine", "rhein")


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """A campaign of four contributors, released by trustees 1 and 2."""
    with _federation(tmp_path_factory.mktemp("released")) as fed:
        _aggregated(fed, "once", FOUR)
        for trustee_id in fed.trustees:
            _run_trustee(fed, trustee_id)
        assert _result(fed, "once")["state"] == "released"
        yield fed


def _one_submission_ciphertext(fed: Federation) -> int:
    with Session(fed.server.engine) as session:
        row = session.exec(select(SubmissionRow).where(SubmissionRow.campaign_id == "once")).first()
    assert row is not None
    body = serde.body_from_bytes(serde.signed_from_entry(row.entry).body)
    return int.from_bytes(body.ciphertexts[0], "big")


def _partial(fed: Federation, trustee_id: str, ciphertext: int) -> threshold.PartialDecryption:
    campaign = get_campaign(fed.server.engine, "once")
    n = campaign.key.paillier_n
    (blob,) = KeyRing(_trustee_home(fed, trustee_id)).decrypt(
        campaign, trustee_id, [ciphertext.to_bytes(vector.ciphertext_length(n), "big")]
    )
    return threshold.PartialDecryption.from_bytes(blob)


def _public(fed: Federation) -> threshold.ThresholdPublicKey:
    campaign = get_campaign(fed.server.engine, "once")
    return threshold.ThresholdPublicKey.from_bytes(campaign.key.threshold_public_key)


def test_one_trustees_genuine_partial_cannot_decrypt_a_submission(released: Federation) -> None:
    ciphertext = _one_submission_ciphertext(released)
    partial = _partial(released, released.trustees[0], ciphertext)
    assert threshold.verify_partial(_public(released), ciphertext, partial)  # genuine, yet:
    with pytest.raises(NotEnoughSharesError, match="need partial decryptions from 2 trustees"):
        threshold.combine(_public(released), ciphertext, [partial])


def test_offering_the_same_partial_twice_does_not_count_as_two(released: Federation) -> None:
    ciphertext = _one_submission_ciphertext(released)
    partial = _partial(released, released.trustees[0], ciphertext)
    with pytest.raises(InvalidPartialDecryptionError, match="sent 2 partial decryptions"):
        threshold.combine(_public(released), ciphertext, [partial, partial])


def _sealed_rows(fed: Federation) -> list[SealedShareRow]:
    with Session(fed.server.engine) as session:
        return list(session.exec(select(SealedShareRow)).all())


def _index(fed: Federation, row: SealedShareRow) -> int:
    campaign = get_campaign(fed.server.engine, row.campaign_id)
    return campaign.key.trustee_ids.index(row.trustee_id) + 1


def test_the_database_holds_a_sealed_share_per_trustee(released: Federation) -> None:
    assert sorted(r.trustee_id for r in _sealed_rows(released)) == sorted(released.trustees)


def test_no_sealed_share_opens_with_a_fresh_key(released: Federation) -> None:
    stranger = X25519PrivateKey.generate()
    for row in _sealed_rows(released):
        with pytest.raises(SealedBoxError, match="does not open"):
            sealing.open_key_share(
                row.sealed_share, stranger, row.campaign_id, _index(released, row)
            )


def test_no_sealed_share_opens_with_the_coordinators_log_key(released: Federation) -> None:
    log_key = signing.load_private_key(released.coordinator_home / "log-key.pem")
    raw = log_key.private_bytes_raw()  # the coordinator's only secret, tried as X25519
    for row in _sealed_rows(released):
        with pytest.raises(SealedBoxError, match="does not open"):
            sealing.open_key_share(row.sealed_share, raw, row.campaign_id, _index(released, row))


def test_no_sealed_share_opens_with_another_trustees_key(released: Federation) -> None:
    for row in _sealed_rows(released):
        for other in released.trustees:
            if other == row.trustee_id:
                continue
            key = load_or_create_encryption_key(_trustee_home(released, other) / "encryption.pem")
            with pytest.raises(SealedBoxError):
                sealing.open_key_share(
                    row.sealed_share, key, row.campaign_id, _index(released, row)
                )


def test_each_sealed_share_opens_with_its_trustees_encryption_key(released: Federation) -> None:
    public = _public(released)
    for row in _sealed_rows(released):
        key = load_or_create_encryption_key(
            _trustee_home(released, row.trustee_id) / "encryption.pem"
        )
        share = sealing.open_key_share(
            row.sealed_share, key, row.campaign_id, _index(released, row)
        )
        assert share.public == public and share.index == _index(released, row)


def test_no_key_share_appears_anywhere_in_the_coordinators_files(released: Federation) -> None:
    files = [path for path in released.coordinator_home.iterdir() if path.is_file()]
    assert released.coordinator_home / "coordinator.sqlite" in files
    stored = b"".join(path.read_bytes() for path in files)  # the database, its WAL, the log key
    for trustee_id in released.trustees:
        (path,) = (_trustee_home(released, trustee_id) / "keys").glob("share-*.json")
        share = threshold.KeyShare.from_bytes(keys.read_secret(path))
        secret = share.s_i
        assert format(secret, "x").encode() not in stored
        assert secret.to_bytes((secret.bit_length() + 7) // 8, "big") not in stored


# -- no second decryption -----------------------------------------------------------------


def _without_last_contributor(fed: Federation) -> AggregateBundle:
    """What a coordinator that drops one contributor after the release would present."""
    with CoordinatorClient(fed.address) as client:
        bundle = client.get_aggregate("once")
    kept = bundle.submissions[:-1]
    n = bundle.campaign.key.paillier_n
    total = vector.to_bytes(
        aggregate_submissions(bundle.campaign, [serde.signed_to_entry(s) for s in kept]), n
    )
    return replace(bundle, submissions=kept, ciphertexts=total, digest=vector.digest(total))


def test_a_trustee_refuses_a_different_aggregate_for_a_released_campaign(
    released: Federation,
) -> None:
    trustee_id = released.trustees[0]
    ring = KeyRing(_trustee_home(released, trustee_id))
    with CoordinatorClient(released.address) as client:
        released_digest = client.get_aggregate("once").digest
    assert ring.already_decrypted("once") == released_digest.hex()
    smaller = _without_last_contributor(released)
    assert verify_bundle(smaller).ok  # it is a valid aggregate of k = 3 signed submissions
    reply = answer(smaller, ring, trustee_id)
    assert reply.shares == ()
    assert "already decrypted once, for a different aggregate" in reply.refusal


def test_a_differencing_coordinator_collects_fewer_than_t_shares(released: Federation) -> None:
    smaller = _without_last_contributor(released)
    replies = {
        t: answer(smaller, KeyRing(_trustee_home(released, t)), t) for t in released.trustees
    }
    shares = {t: r.shares for t, r in replies.items() if not r.refusal}
    # Only the trustee that was not needed for the release answers: one share, t = 2.
    assert list(shares) == [released.trustees[2]]
    campaign = get_campaign(released.server.engine, "once")
    ciphertexts = [int.from_bytes(blob, "big") for blob in smaller.ciphertexts]
    assert combine_shares(campaign, ciphertexts, shares) is None


def test_a_single_submission_posed_as_the_aggregate_is_refused(released: Federation) -> None:
    with CoordinatorClient(released.address) as client:
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
    reply = answer(lone, KeyRing(_trustee_home(released, trustee_id)), trustee_id)
    assert reply.shares == () and "only 1 valid distinct contributors; k = 3" in reply.refusal


# -- shares that arrive together ----------------------------------------------------------


def _signed_row(fed: Federation, share: DecryptionShare) -> DecryptionShareRow:
    identity = load_or_create_identity(_trustee_home(fed, share.trustee_id) / "identity.pem")
    body = serde.share_to_bytes(share)
    return DecryptionShareRow(
        campaign_id=share.campaign_id,
        trustee_id=share.trustee_id,
        body=body,
        signature=signing.sign(identity, body, context=DECRYPTION_SHARE_CONTEXT),
    )


def test_a_liar_among_shares_that_arrived_together_does_not_stall_the_release(
    tmp_path: Path,
) -> None:
    with _federation(tmp_path) as fed:
        _aggregated(fed, "together")
        with CoordinatorClient(fed.address) as client:
            bundle = client.get_aggregate("together")
        liar, *honest = fed.trustees
        shares = [_forged(fed, bundle, liar)]
        shares += [answer(bundle, KeyRing(_trustee_home(fed, t)), t) for t in honest]
        with Session(fed.server.engine) as session:
            for share in shares:
                session.add(_signed_row(fed, share))
            session.commit()
        assert try_release(fed.server.engine, "together") is CampaignState.RELEASED


# -- a liar cannot frame an honest trustee ------------------------------------------------


def test_a_forged_share_in_another_trustees_name_is_refused_unstored(
    federation: Federation,
) -> None:
    _aggregated(federation, "frame")
    liar, framed, _ = federation.trustees
    identity = load_or_create_identity(_trustee_home(federation, liar) / "identity.pem")
    with CoordinatorClient(federation.address) as client:
        bundle = client.get_aggregate("frame")
        forged = replace(_forged(federation, bundle, liar), trustee_id=framed)
        with pytest.raises(CoordinatorUnavailable, match="UNAUTHENTICATED"):
            client.submit_share(forged, identity)
    assert framed not in _share_rows(federation, "frame")
