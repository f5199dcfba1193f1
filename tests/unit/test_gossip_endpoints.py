"""Where an agent or trustee gossips and how it authenticates each endpoint.

Its own config first, then the pinned manifest; every endpoint is dialled over TLS with the
certificate its trustee published (or agent.toml names), plaintext only from insecure homes.
"""

from pathlib import Path

import pytest

from agent.gossip import GossipPeer, endpoints
from fedcarbon import tls
from fedcarbon.federation.manifest import Manifest, ManifestTrustee

A_CERT = tls.self_signed_server(["a.example"]).certificate


def _manifest() -> Manifest:
    def trustee(name: str, gossip: str, certificate: bytes = b"") -> ManifestTrustee:
        return ManifestTrustee(
            name, name, f"LEI:{name}", name.encode() * 8, b"\x01" * 32, gossip,
            certificate.decode(),
        )  # fmt: skip

    return Manifest(
        "f",
        1,
        (trustee("a", "a.example:7443", A_CERT), trustee("b", ""), trustee("c", "c.example:1")),
    )


def _by_endpoint(peers: list[GossipPeer]) -> dict[str, GossipPeer]:
    return {peer.endpoint: peer for peer in peers}


def test_gossip_endpoints_come_from_the_config_then_the_pinned_manifest() -> None:
    manifest = _manifest()
    order = ["local:1", "a.example:7443", "c.example:1"]
    assert [p.endpoint for p in endpoints(["local:1"], None, insecure=True)] == ["local:1"]
    assert [p.endpoint for p in endpoints(["local:1", "a.example:7443"], manifest)] == order
    assert [p.endpoint for p in endpoints([], manifest)] == order[1:]


def test_the_manifest_certificate_authenticates_its_endpoint_even_from_the_config() -> None:
    for configured in ([], ["a.example:7443"]):
        for insecure in (False, True):
            peer = _by_endpoint(endpoints(configured, _manifest(), insecure=insecure))
            assert peer["a.example:7443"] == GossipPeer("a.example:7443", A_CERT)


def test_an_endpoint_without_a_certificate_is_not_dialled_from_a_secure_home() -> None:
    peers = _by_endpoint(endpoints(["local:1"], _manifest()))
    assert "gossip_certificates" in peers["local:1"].problem and not peers["local:1"].certificate
    assert "publishes no gossip_certificate" in peers["c.example:1"].problem


def test_an_insecure_home_dials_endpoints_without_a_certificate_in_plaintext() -> None:
    peers = _by_endpoint(endpoints(["local:1"], _manifest(), insecure=True))
    assert peers["local:1"] == GossipPeer("local:1")
    assert peers["c.example:1"] == GossipPeer("c.example:1")


def test_a_certificate_file_in_the_config_authenticates_its_endpoint(tmp_path: Path) -> None:
    own = tls.self_signed_server(["a.example"]).certificate
    (tmp_path / "a.pem").write_bytes(own)
    (tmp_path / "bad.pem").write_text("not a certificate")
    peers = _by_endpoint(
        endpoints(
            ["a.example:7443", "local:1", "local:2"],
            _manifest(),
            certificates={
                "a.example:7443": tmp_path / "a.pem",  # the owner's choice wins
                "local:1": tmp_path / "bad.pem",
                "local:2": tmp_path / "missing.pem",
            },
        )
    )
    assert peers["a.example:7443"] == GossipPeer("a.example:7443", own)
    assert "bad.pem: not a PEM file" in peers["local:1"].problem
    assert "missing.pem: cannot read" in peers["local:2"].problem


@pytest.mark.parametrize("renew", [False, True])
def test_a_trustee_makes_its_gossip_certificate_once(tmp_path: Path, renew: bool) -> None:
    from agent.errors import AgentError
    from agent.gossip import CERT_FILE, KEY_FILE, create_certificate, load_certificate

    assert load_certificate(tmp_path) is None
    first = create_certificate(tmp_path, ["gossip.example"])
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0  # owner-only key
    assert tls.is_self_signed(first.certificate) and tls.covers(first.certificate, "gossip.example")
    again = create_certificate(tmp_path, ["gossip.example", "127.0.0.1"], renew=renew)
    assert (again == first) is not renew and load_certificate(tmp_path) == again
    if not renew:
        with pytest.raises(AgentError, match=f"{CERT_FILE} is not valid for other.example"):
            create_certificate(tmp_path, ["other.example"])
