"""Attacks on the coordinator's transport against a live mutual-TLS federation on loopback.

Whoever reaches the port without an enrolled identity learns nothing: plaintext and
certificate-less clients fail the handshake; a certificate without a valid call signature,
or with another member's signatures, is UNAUTHENTICATED on every RPC; a supplier calling
trustee RPCs is PERMISSION_DENIED. Plus what the public log shows: random participant ids,
no organisation names, submission times rounded to the day.
"""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agent import contribution
from agent.client import renew_home_certificate
from agent.config import AgentConfig
from agent.errors import ConfigError
from fedcarbon import serde, tls, transport
from fedcarbon.cohorts import is_cohort_entry
from fedcarbon.submission import is_submission_entry
from fedcarbon.v1 import coordinator_pb2, exchange_pb2
from tests.integration.conftest import Federation, company, running_federation

pytestmark = pytest.mark.slow

AGENTS = ("nordstahl", "castings", "alpine")
PUBLIC = {"/fedcarbon.v1.Participants/Enrol"}
READS = {
    "/fedcarbon.v1.Participants/ListTrustees",
    "/fedcarbon.v1.Participants/ListMembers",
    "/fedcarbon.v1.Campaigns/ListCampaigns",
    "/fedcarbon.v1.Campaigns/GetCampaign",
    "/fedcarbon.v1.Campaigns/GetResult",
    "/fedcarbon.v1.Trustees/GetAggregate",
    "/fedcarbon.v1.AuditLog/GetTreeHead",
    "/fedcarbon.v1.AuditLog/GetInclusionProof",
    "/fedcarbon.v1.AuditLog/GetConsistencyProof",
    "/fedcarbon.v1.AuditLog/GetEntries",
    "/fedcarbon.v1.Exchange/GetKey",
    "/fedcarbon.v1.Exchange/Inbox",
}


def _methods() -> list[tuple[str, Any]]:
    """Every unary method of the coordinator's own services, with an empty request."""
    found = []
    for file in (coordinator_pb2.DESCRIPTOR, exchange_pb2.DESCRIPTOR):
        for service in file.services_by_name.values():
            for method in service.methods:
                request = message_factory.GetMessageClass(method.input_type)()
                found.append((f"/{service.full_name}/{method.name}", request))
    return found


METHODS = _methods()


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """Three trustees, three attested suppliers, one benchmark campaign, two submissions."""
    with running_federation(tmp_path_factory.mktemp("tls")) as federation:
        for key in AGENTS:
            federation.add_agent(company(key))
        federation.open_campaign("tls-bench")
        federation.submit("nordstahl", "tls-bench")
        federation.submit("castings", "tls-bench")
        yield federation


def _call(channel: grpc.Channel, method: str, request: Any, **kwargs: Any) -> grpc.StatusCode:
    call = channel.unary_unary(
        method, request_serializer=lambda m: m.SerializeToString(), response_deserializer=None
    )
    try:
        call(request, timeout=10, **kwargs)
    except grpc.RpcError as error:
        return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def _pem(home: Path, name: str) -> bytes:
    return (home / name).read_bytes()


def _tls_channel(fed: Federation, home: Path, *, with_cert: bool = True) -> grpc.Channel:
    return grpc.secure_channel(
        fed.address,
        grpc.ssl_channel_credentials(
            root_certificates=_pem(home, transport.CA_FILE),
            private_key=_pem(home, transport.CLIENT_KEY_FILE) if with_cert else None,
            certificate_chain=_pem(home, transport.CLIENT_CERT_FILE) if with_cert else None,
        ),
    )


def _agent(fed: Federation, key: str) -> Path:
    return Path(fed.agent_home(key))


def test_a_plaintext_client_is_refused_every_rpc(fed: Federation) -> None:
    with grpc.insecure_channel(fed.address) as channel:
        codes = {method: _call(channel, method, request) for method, request in METHODS}
        health = health_pb2_grpc.HealthStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert set(codes.values()) == {grpc.StatusCode.UNAVAILABLE}, codes
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE


def test_a_tls_client_without_a_client_certificate_fails_the_handshake(fed: Federation) -> None:
    with _tls_channel(fed, _agent(fed, "alpine"), with_cert=False) as channel:
        codes = {method: _call(channel, method, request) for method, request in METHODS}
    assert set(codes.values()) == {grpc.StatusCode.UNAVAILABLE}, codes


def test_a_client_trusting_another_ca_does_not_accept_the_server(fed: Federation) -> None:
    other = tls.create_ca("someone else's CA")
    home = _agent(fed, "alpine")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=other.certificate,
        private_key=_pem(home, transport.CLIENT_KEY_FILE),
        certificate_chain=_pem(home, transport.CLIENT_CERT_FILE),
    )
    with grpc.secure_channel(fed.address, credentials) as channel:
        assert _call(channel, "/fedcarbon.v1.AuditLog/GetTreeHead", _request("GetTreeHead")) is (
            grpc.StatusCode.UNAVAILABLE
        )


def _request(name: str) -> Any:
    return next(request for method, request in METHODS if method.endswith("/" + name))


def test_a_member_certificate_without_a_call_signature_reads_nothing(fed: Federation) -> None:
    with _tls_channel(fed, _agent(fed, "alpine")) as channel:
        codes = {
            method: _call(channel, method, request)
            for method, request in METHODS
            if method not in PUBLIC
        }
    assert set(codes.values()) == {grpc.StatusCode.UNAUTHENTICATED}, codes
    assert set(codes) >= READS


def _signed(
    fed: Federation, signer: str, caller: str, method: str, request: Any, skew_ms: int = 0
) -> list[tuple[str, Any]]:
    identity = transport.home_credentials(_agent(fed, signer)).identity
    assert identity is not None
    now = int(time.time() * 1000) + skew_ms
    return transport.sign_call(identity, method, caller, request, now)


@pytest.mark.parametrize("attack", ["forged", "stale", "future", "other-request", "other-method"])
def test_a_bad_call_signature_is_unauthenticated_on_every_read(
    fed: Federation, attack: str
) -> None:
    alpine = fed.agents["alpine"]
    codes = {}
    with _tls_channel(fed, _agent(fed, "alpine")) as channel:
        for method in sorted(READS):
            request = _request(method.rpartition("/")[2])
            if attack == "forged":  # alpine's id, castings' key
                metadata = _signed(fed, "castings", alpine, method, request)
            elif attack == "stale":
                metadata = _signed(fed, "alpine", alpine, method, request, -6 * 60 * 1000)
            elif attack == "future":
                metadata = _signed(fed, "alpine", alpine, method, request, 6 * 60 * 1000)
            elif attack == "other-request":  # a signature made for another request
                asked = coordinator_pb2.GetCampaignRequest(campaign_id="tls-bench")
                metadata = _signed(fed, "alpine", alpine, method, asked)
            else:  # a signature made for another method, replayed on this one
                metadata = _signed(fed, "alpine", alpine, "/fedcarbon.v1.Campaigns/Submit", request)
            codes[method] = _call(channel, method, request, metadata=metadata)
    assert set(codes.values()) == {grpc.StatusCode.UNAUTHENTICATED}, codes


def test_a_certificate_of_one_member_with_signatures_of_another_is_refused(
    fed: Federation,
) -> None:
    castings = fed.agents["castings"]
    method = "/fedcarbon.v1.Campaigns/ListCampaigns"
    request = _request("ListCampaigns")
    with _tls_channel(fed, _agent(fed, "alpine")) as channel:
        code = _call(
            channel, method, request, metadata=_signed(fed, "castings", castings, method, request)
        )
        own = _call(
            channel,
            method,
            request,
            metadata=_signed(fed, "alpine", fed.agents["alpine"], method, request),
        )
    assert code is grpc.StatusCode.UNAUTHENTICATED
    assert own is grpc.StatusCode.OK  # the same channel with its own signature reads


def test_a_supplier_cannot_call_trustee_rpcs(fed: Federation) -> None:
    alpine = fed.agents["alpine"]
    refused = [m for m, _ in METHODS if m.startswith("/fedcarbon.v1.Trustees/")] + [
        "/fedcarbon.v1.Participants/SubmitAttestation"
    ]
    codes = {}
    with _tls_channel(fed, _agent(fed, "alpine")) as channel:
        for method in refused:
            request = _request(method.rpartition("/")[2])
            metadata = _signed(fed, "alpine", alpine, method, request)
            codes[method] = _call(channel, method, request, metadata=metadata)
    assert set(codes.values()) == {grpc.StatusCode.PERMISSION_DENIED}, codes
    with fed.client(_agent(fed, "alpine")) as client, pytest.raises(Exception) as denied:
        client.get_aggregate("tls-bench")
    assert "PERMISSION_DENIED" in str(denied.value)


def test_health_answers_any_certificate_of_the_federation_without_a_signature(
    fed: Federation,
) -> None:
    with _tls_channel(fed, _agent(fed, "alpine")) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_an_invite_certificate_enrols_only_its_own_token(fed: Federation) -> None:
    first = fed.invite("supplier")
    second = fed.invite("supplier")
    from fedcarbon.invite import load_invite

    other = load_invite(second)
    home = fed.root / "agents" / "mallory"
    out = fed.cli(
        "agent", "init", "--home", str(home), "--organisation", "Mallory",
        "--invite", str(first), expect=0,
    )  # fmt: skip
    assert "agent home ready" in out
    # Mallory's home (now enrolled) tries the second token with the first's certificate:
    (home / transport.ENROL_CERT_FILE).write_bytes(
        (fed.root / "agents" / "mallory" / transport.CLIENT_CERT_FILE).read_bytes()
    )
    (home / transport.ENROL_KEY_FILE).write_bytes((home / transport.CLIENT_KEY_FILE).read_bytes())
    out = fed.cli("agent", "enrol", "--token", other.token, "--home", str(home), expect=1)
    assert "not the enrolment certificate of this token" in out


def test_participant_ids_are_random_and_the_log_names_no_organisation(fed: Federation) -> None:
    ids = [*fed.trustees, *fed.agents.values()]
    assert all(pid.startswith("p-") and len(pid) == 18 for pid in ids), ids
    int("".join(pid[2:] for pid in ids), 16)  # hex after the prefix
    with fed.client() as client:
        size = client.tree_head().tree_size
        entries = client.entries(0, size)
    blob = b"".join(entries).lower()
    for key in AGENTS:
        for word in company(key).organisation.lower().replace(".", " ").split():
            if len(word) > 3:
                assert word.encode() not in blob, word
        assert key.encode() not in blob
    assert b"trustee" not in blob


def test_submission_times_in_the_log_are_rounded_to_the_day(fed: Federation) -> None:
    with fed.client() as client:
        entries = client.entries(0, client.tree_head().tree_size)
    bodies = [
        serde.body_from_bytes(serde.signed_from_entry(e).body)
        for e in entries
        if is_submission_entry(e) and not is_cohort_entry(e)
    ]
    assert len(bodies) >= 2
    assert all(b.created_unix_ms % contribution.DAY_MS == 0 for b in bodies)


def test_a_submission_dated_in_the_future_is_refused(
    fed: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    tomorrow = contribution.day_of(int(time.time() * 1000)) + 2 * contribution.DAY_MS
    monkeypatch.setattr(contribution, "day_of", lambda _now: tomorrow)
    out = fed.submit("alpine", "tls-bench", expect=1)
    assert "in the future" in out and "INVALID_ARGUMENT" in out


def test_a_member_renews_its_certificate_and_keeps_its_identity(fed: Federation) -> None:
    """Rotation without re-enrolling (docs/tls.md): a new key made in the home, a certificate
    for it with the same participant id, and the home calls on with them."""
    pid = fed.add_agent(company("rhein"))
    home = _agent(fed, "rhein")
    old_cert, old_key = (
        _pem(home, transport.CLIENT_CERT_FILE),
        _pem(home, transport.CLIENT_KEY_FILE),
    )
    done = fed.cli_json("agent", "renew-certificate", "--home", str(home))
    new_cert, new_key = (
        _pem(home, transport.CLIENT_CERT_FILE),
        _pem(home, transport.CLIENT_KEY_FILE),
    )
    assert new_cert != old_cert and new_key != old_key
    assert tls.common_name(new_cert) == pid  # the same member, not a new enrolment
    assert tls.certificate_key_der(new_cert) == tls.public_key_der(tls.load_private_key(new_key))
    assert done["expires"] == tls.not_after(new_cert).isoformat()
    fed.cli("agent", "campaigns", "--home", str(home))  # calls on with the new pair
    with fed.client(home) as client:
        assert client.members(pid)


def test_a_renewal_cut_short_is_completed_at_the_next_start(
    fed: Federation, tmp_path: Path
) -> None:
    """A crash between swapping in the new key and the new certificate leaves a usable home."""
    home = _agent(fed, "castings")
    key = tls.generate_key()
    with fed.client(home) as client:
        certificate = client.renew_certificate(tls.public_key_der(key))
    # What the crash leaves: the new key in place, the new certificate still beside it.
    tls.write_private(home / transport.CLIENT_KEY_FILE, tls.key_to_pem(key))
    (home / transport.RENEWED_CERT_FILE).write_bytes(certificate)
    credentials = transport.home_credentials(home)
    assert credentials.certificate == certificate
    assert not (home / transport.RENEWED_CERT_FILE).exists()
    fed.cli("agent", "campaigns", "--home", str(home))


def test_a_plaintext_home_has_no_certificate_to_renew(tmp_path: Path) -> None:
    config = AgentConfig(home=tmp_path, organisation="x", coordinator="127.0.0.1:1", insecure=True)
    with pytest.raises(ConfigError, match="plaintext"):
        renew_home_certificate(config)
