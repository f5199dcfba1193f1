"""Self-signed gossip certificates, the names a certificate covers, loopback addresses."""

import pytest
from cryptography import x509

from fedcarbon import tls


def test_a_self_signed_gossip_certificate_names_its_hosts_and_signs_nothing_else() -> None:
    issued = tls.self_signed_server(["gossip.example", "203.0.113.7"])
    assert tls.is_self_signed(issued.certificate)
    assert tls.covers(issued.certificate, "gossip.example")
    assert tls.covers(issued.certificate, "GOSSIP.example.")
    assert tls.covers(issued.certificate, "203.0.113.7") and tls.covers(issued.certificate, "::1")
    assert not tls.covers(issued.certificate, "other.example")
    certificate = tls.load_certificate(issued.certificate)
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_a_ca_issued_certificate_is_not_self_signed() -> None:
    ca = tls.create_ca("operator")
    assert not tls.is_self_signed(tls.issue_server(ca, ["gossip.example"]).certificate)


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1:7443", True),
        ("127.8.0.1:0", True),
        ("[::1]:7443", True),
        ("localhost:1", True),
        ("0.0.0.0:7443", False),
        ("gossip.example:7443", False),
        ("10.0.0.2:7443", False),
    ],
)
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert tls.is_loopback(address) is loopback
