"""Hostile and malformed input gets a clear gRPC error and changes nothing stored."""

import time

import grpc
import pytest
from phe import paillier
from sqlmodel import Session, select

from agent.client import CoordinatorClient
from agent.errors import CoordinatorUnavailable
from coordinator.store import EnrolmentToken, LogLeaf, Participant, SubmissionRow
from fedcarbon import serde, shares, tls
from fedcarbon.audit import signing
from fedcarbon.crypto import vector
from fedcarbon.invite import load_invite
from fedcarbon.submission import SubmissionBody, sign_body, submission_proof_context
from fedcarbon.v1 import coordinator_pb2, coordinator_pb2_grpc, submission_pb2
from tests.integration.conftest import Federation, company


def _snapshot(fed: Federation) -> tuple[int, int, int]:
    with Session(fed.server.engine) as session:
        return (
            len(session.exec(select(SubmissionRow)).all()),
            len(session.exec(select(LogLeaf)).all()),
            len(session.exec(select(Participant)).all()),
        )


@pytest.fixture
def open_campaign(federation: Federation) -> Federation:
    federation.add_agent(company("castings"))
    federation.open_campaign("target")
    return federation


def _body(
    fed: Federation,
    ciphertexts: list[bytes],
    participant: str | None = None,
    proofs: tuple[bytes, ...] = (),
) -> bytes:
    with fed.client(fed.agent_home("castings")) as client:
        campaign = client.get_campaign("target")
    return serde.body_to_bytes(
        SubmissionBody(
            campaign_id="target",
            participant_id=participant or fed.agents["castings"],
            campaign_digest=campaign.digest,
            ciphertexts=tuple(ciphertexts),
            nonce=b"n" * 16,
            created_unix_ms=int(time.time() * 1000),
            proofs=proofs,
        )
    )


def _identity(fed: Federation) -> signing.Ed25519PrivateKey:  # type: ignore[name-defined]
    return signing.load_private_key(fed.root / "agents" / "castings" / "identity.pem")


def _valid_ciphertexts(fed: Federation) -> list[bytes]:
    with fed.client(fed.agent_home("castings")) as client:
        campaign = client.get_campaign("target")
    cts = [int(paillier.PaillierPublicKey(n).raw_encrypt(1)) for n in campaign.moduli]
    return vector.to_bytes(cts, campaign.moduli)


def _submit_raw(fed: Federation, body: bytes, signature: bytes) -> grpc.RpcError:
    stub = coordinator_pb2_grpc.CampaignsStub(fed.channel(fed.agent_home("castings")))
    with pytest.raises(grpc.RpcError) as caught:
        stub.Submit(submission_pb2.SignedSubmission(body=body, signature=signature), timeout=10)
    return caught.value


def test_forged_signature_is_refused_and_nothing_is_stored(open_campaign: Federation) -> None:
    fed = open_campaign
    before = _snapshot(fed)
    body = _body(fed, _valid_ciphertexts(fed))
    forger = signing.generate_signing_key()
    error = _submit_raw(fed, body, signing.sign(forger, body, context=b"fedcarbon.v1.submission"))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "signature does not verify" in error.details()
    assert _snapshot(fed) == before


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda n, blob, w: bytes(w), "out of range"),
        (lambda n, blob, w: (n * n).to_bytes(w, "big"), "out of range"),
        (lambda n, blob, w: b"\x00" + blob, "bytes, expected"),
        (lambda n, blob, w: n.to_bytes(w, "big"), "not coprime"),
    ],
    ids=["zero", "n-squared", "too-long", "shares-factor"],
)
def test_invalid_ciphertexts_are_refused(open_campaign: Federation, mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    fed = open_campaign
    before = _snapshot(fed)
    valid = _valid_ciphertexts(fed)
    with fed.client() as client:
        n = client.get_campaign("target").moduli[0]
    blob = mutate(n, valid[0], vector.ciphertext_length(n))
    body = _body(fed, [blob, *valid[1:]])
    error = _submit_raw(fed, body, sign_body(_identity(fed), body).signature)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert reason in error.details()
    assert _snapshot(fed) == before


def test_wrong_vector_length_is_refused(open_campaign: Federation) -> None:
    fed = open_campaign
    before = _snapshot(fed)
    valid = _valid_ciphertexts(fed)
    body = _body(fed, valid + valid)
    error = _submit_raw(fed, body, sign_body(_identity(fed), body).signature)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "expected" in error.details()
    assert _snapshot(fed) == before


def test_garbage_body_is_refused(open_campaign: Federation) -> None:
    fed = open_campaign
    error = _submit_raw(fed, b"\xff\xfe not protobuf", b"x" * 64)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_campaign_is_named(open_campaign: Federation) -> None:
    out = open_campaign.cli(
        "agent",
        "submit",
        "no-such-campaign",
        "--home",
        open_campaign.agent_home("castings"),
        expect=1,
    )
    assert "unknown campaign 'no-such-campaign'" in out


def test_reused_enrolment_token_is_refused(federation: Federation) -> None:
    invite = federation.invite("supplier")
    token = load_invite(invite).token
    identity = signing.generate_signing_key()
    tls_key = tls.public_key_der(tls.generate_key())
    credentials = federation.enrolment_credentials(invite)
    with CoordinatorClient(federation.address, credentials) as client:
        client.enrol(
            token=token, organisation="First Ltd", identity=identity, tls_public_key=tls_key
        )
        before = _snapshot(federation)
        with pytest.raises(CoordinatorUnavailable, match="already used"):
            client.enrol(
                token=token,
                organisation="Second Ltd",
                identity=signing.generate_signing_key(),
                tls_public_key=tls_key,
            )
        # Another token through this invite's certificate: refused before the token is looked at.
        with pytest.raises(CoordinatorUnavailable, match="not the enrolment certificate"):
            client.enrol(
                token="fct_made-up",
                organisation="Third Ltd",
                identity=signing.generate_signing_key(),
                tls_public_key=tls_key,
            )
    assert _snapshot(federation) == before
    with Session(federation.server.engine) as session:
        tokens = session.exec(select(EnrolmentToken).where(EnrolmentToken.role == "supplier")).all()
        assert [t.used_by for t in tokens if t.used_by] == [
            p.participant_id
            for p in session.exec(select(Participant)).all()
            if p.organisation == "First Ltd"
        ]


def test_enrolment_without_key_possession_is_refused(federation: Federation) -> None:
    invite = federation.invite("supplier")
    token = load_invite(invite).token
    stub = coordinator_pb2_grpc.ParticipantsStub(federation.enrolment_channel(invite))
    someone_elses_key = signing.public_key_bytes(signing.generate_signing_key())
    with pytest.raises(grpc.RpcError) as caught:
        stub.Enrol(
            coordinator_pb2.EnrolRequest(
                token=token,
                organisation="Mallory",
                identity_public_key=someone_elses_key,
                tls_public_key=tls.public_key_der(tls.generate_key()),
                signature=b"\x00" * 64,
            ),
            timeout=10,
        )
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    # the token is still unused: a failed attempt must not burn it
    credentials = federation.enrolment_credentials(invite)
    with CoordinatorClient(federation.address, credentials) as client:
        client.enrol(
            token=token,
            organisation="Honest GmbH",
            identity=signing.generate_signing_key(),
            tls_public_key=tls.public_key_der(tls.generate_key()),
        )


def test_malformed_activity_row_blocks_submission_and_names_the_row(
    open_campaign: Federation,
) -> None:
    fed = open_campaign
    csv_path = fed.root / "agents" / "castings" / "activities.csv"
    lines = csv_path.read_text().splitlines()
    lines[5] = lines[5].replace(",kWh,", ",kWh-per-nothing,").replace(",DE,", ",DE,", 1)
    fields = lines[5].split(",")
    fields[5] = "twelve"  # quantity
    lines[5] = ",".join(fields)
    csv_path.write_text("\n".join(lines) + "\n")
    before = _snapshot(fed)
    out = fed.submit("castings", "target", expect=1)
    assert "activities.csv:6" in out and "not submitted" in out
    assert _snapshot(fed) == before


def test_an_out_of_range_contribution_stops_the_release(open_campaign: Federation) -> None:
    """A supplier encrypting values far beyond its bounds makes the release fail, not lie.

    (Without range proofs a subtler cheat stays possible: a plaintext that wraps modulo n,
    e.g. n - 5, shifts a slot down by 5 and keeps it in range. THREAT_MODEL.md says so.)
    """
    fed = open_campaign
    for key in ("nordstahl", "alpine"):
        fed.add_agent(company(key))
        fed.submit(key, "target")
    with fed.client(fed.agent_home("castings")) as client:
        campaign = client.get_campaign("target")
        layout = campaign.packing
        every_slot_full = (1 << (layout.slot_bits * layout.slots_per_ciphertext)) - 1
        huge = [every_slot_full] * len(campaign.moduli)
        # The cheater knows its own (absurd) plaintext, so it can prove knowledge of it.
        context = submission_proof_context(campaign.digest, fed.agents["castings"])
        cts, proofs = shares.encrypt(campaign, huge, context)
        body = _body(fed, vector.to_bytes(cts, campaign.moduli), proofs=tuple(proofs))
        client.submit(sign_body(_identity(fed), body))
    fed.operator("campaign", "close", "target")
    fed.run_trustees()
    result = fed.cli_json(
        "coordinator", "campaign", "result", "target", "--home", str(fed.coordinator_home)
    )
    assert result["state"] == "failed"
    assert "nothing released" in result["reason"]
    assert result["metrics"] == {}


def test_an_agent_refuses_a_receipt_for_someone_elses_entry(
    open_campaign: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review finding F6: a coordinator that drops a submission must not fob the agent off
    with a (valid) receipt for another participant's log entry."""
    fed = open_campaign
    fed.add_agent(company("alpine"))
    fed.submit("alpine", "target")
    with Session(fed.server.engine) as session:
        row = session.exec(select(SubmissionRow)).one()
    with fed.client(fed.agent_home("alpine")) as client:
        someone_elses, _ = client.submit(serde.signed_from_entry(row.entry))

    def drop_and_fob_off(self: CoordinatorClient, signed: object) -> tuple[object, bool]:
        return someone_elses, False

    monkeypatch.setattr(CoordinatorClient, "submit", drop_and_fob_off)
    out = fed.submit("castings", "target", expect=1)
    assert "receipt is for another entry" in out


def test_a_ciphertext_built_from_other_peoples_ciphertexts_is_refused(
    open_campaign: Federation,
) -> None:
    """Review finding F2: Mallory submits the product of the inverses of everyone else's
    (public) ciphertexts, so the aggregate would decrypt to one victim's figure. She cannot
    prove knowledge of that ciphertext's plaintext, so the coordinator refuses it."""
    fed = open_campaign
    for key in ("nordstahl", "alpine"):
        fed.add_agent(company(key))
        fed.submit(key, "target")
    with fed.client(fed.agent_home("castings")) as client:
        campaign = client.get_campaign("target")
        n = campaign.moduli[0]
        others = [
            int.from_bytes(
                serde.body_from_bytes(serde.signed_from_entry(e).body).ciphertexts[0], "big"
            )
            for e in client.entries(0, 2)
        ]
        moduli = campaign.moduli
        context = submission_proof_context(campaign.digest, fed.agents["castings"])
        own, proofs = shares.encrypt(campaign, [0] * len(moduli), context)
        crafted = pow(others[1], -1, n * n)  # cancels one other contributor out
        body = _body(fed, vector.to_bytes([crafted, *own[1:]], moduli), proofs=tuple(proofs))
        with pytest.raises(CoordinatorUnavailable, match="proof of plaintext knowledge"):
            client.submit(sign_body(_identity(fed), body))


def test_a_full_campaign_refuses_one_more_contributor(federation: Federation) -> None:
    """The slots are sized for max_contributors; one more could overflow them."""
    for key in ("nordstahl", "castings", "alpine"):
        federation.add_agent(company(key))
    federation.open_campaign("small-cohort", extra=("--max-contributors", "3"))
    for key in ("nordstahl", "castings", "alpine"):
        federation.submit(key, "small-cohort")
    federation.add_agent(company("rhein"))
    out = federation.submit("rhein", "small-cohort", expect=1)
    assert "is full" in out


def test_a_submission_whose_reply_was_lost_is_resent_and_counted_once(
    open_campaign: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The submission reaches the coordinator but the agent never hears back; the retry
    resends the same signed bytes, gets the receipt, and the campaign counts it once."""
    fed = open_campaign
    real_submit = CoordinatorClient.submit

    def arrives_but_reply_lost(self: CoordinatorClient, signed: object) -> tuple[object, bool]:
        real_submit(self, signed)  # type: ignore[arg-type]
        raise CoordinatorUnavailable("coordinator at test is unreachable (UNAVAILABLE: lost)")

    monkeypatch.setattr(CoordinatorClient, "submit", arrives_but_reply_lost)
    fed.submit("castings", "target", expect=1)
    monkeypatch.setattr(CoordinatorClient, "submit", real_submit)
    out = fed.cli_json("agent", "submit", "target", "--home", fed.agent_home("castings"))
    (item,) = out["submitted"]
    assert item["resent"] is True and item["duplicate"] is True
    with Session(fed.server.engine) as session:
        assert len(session.exec(select(SubmissionRow)).all()) == 1


def test_the_agent_store_is_readable_by_its_owner_only(open_campaign: Federation) -> None:
    fed = open_campaign
    fed.submit("castings", "target")
    mode = (fed.root / "agents" / "castings" / "agent.sqlite").stat().st_mode & 0o777
    assert mode == 0o600
