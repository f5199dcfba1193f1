"""A federation's private PKI: a CA, the coordinator's server certificate, client certificates.

X.509 as profiled by RFC 5280; the certificates are used by TLS 1.3 (RFC 8446) with mutual
authentication: the coordinator proves its name with the server certificate, every party
proves its participant id with a client certificate whose subject CN is that id (or
``enrol:<token id>`` for the short-lived certificate an invite carries). Keys are ECDSA
P-256 (FIPS 186-4), which every TLS stack gRPC links accepts for both roles.

Certificates are made here for test and small federations (`coordinator init`); an operator
may bring certificates from its own PKI instead (docs/tls.md).
"""

import datetime
import hashlib
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fedcarbon.errors import FedcarbonError

# Validity periods: the CA outlives the certificates it signs; enrolment certificates only
# need to last until the invite is used.
CA_DAYS = 10 * 365
SERVER_DAYS = 2 * 365
# A trustee's gossip certificate is pinned by the federation manifest, so replacing it takes a
# new manifest version signed by every trustee: it lives longer than a CA-issued one.
GOSSIP_DAYS = 5 * 365
CLIENT_DAYS = 2 * 365
ENROLMENT_DAYS = 14
# Names every server certificate carries, so loopback federations work out of the box.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
ENROL_PREFIX = "enrol:"


class TlsError(FedcarbonError):
    """A certificate or key file that is missing, unreadable or of the wrong kind."""


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, both PEM."""

    certificate: bytes
    private_key: bytes


def generate_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key for a CA, server or client certificate."""
    return ec.generate_private_key(ec.SECP256R1())


def key_to_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_der(key: ec.EllipticCurvePrivateKey) -> bytes:
    """DER SubjectPublicKeyInfo (RFC 5280 4.1.2.7): how a TLS key travels in EnrolRequest."""
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise TlsError(f"not a PEM private key ({error})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TlsError("TLS keys must be EC keys")
    return key


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _builder(
    subject: str, issuer: x509.Name, public_key: CertificatePublicKeyTypes, days: int
) -> x509.CertificateBuilder:
    # Backdated a little so a participant whose clock runs slightly behind accepts it.
    start = _now() - datetime.timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def create_ca(name: str, *, days: int = CA_DAYS) -> Issued:
    """A self-signed CA (basicConstraints cA, keyCertSign; RFC 5280 4.2.1.9 and 4.2.1.3)."""
    key = generate_key()
    certificate = (
        _builder(name, _name(name), key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate.public_bytes(serialization.Encoding.PEM), key_to_pem(key))


def _leaf_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _issuer(ca: Issued) -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]:
    certificate = x509.load_pem_x509_certificate(ca.certificate)
    key = serialization.load_pem_private_key(ca.private_key, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TlsError("the CA key must be an EC private key")
    return certificate, key


def server_names(hostnames: Sequence[str] = ()) -> list[str]:
    """The SANs of a server certificate: the loopback names plus the given ones, deduplicated."""
    names: list[str] = []
    for name in (*LOOPBACK_NAMES, *hostnames):
        if name and name not in names:
            names.append(name)
    return names


def _alt_names(names: Sequence[str]) -> x509.SubjectAlternativeName:
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(alt)


def issue_server(ca: Issued, hostnames: Sequence[str] = (), *, days: int = SERVER_DAYS) -> Issued:
    """A server certificate whose subjectAltName lists DNS names and IP addresses.

    TLS clients match the name they dialled against the SANs (RFC 6125; the CN is ignored),
    so every address agents use for the coordinator must be listed here.
    """
    issuer, issuer_key = _issuer(ca)
    key = generate_key()
    names = server_names(hostnames)
    certificate = (
        _builder(names[-1] if hostnames else "localhost", issuer.subject, key.public_key(), days)
        .add_extension(_alt_names(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
    return Issued(certificate.public_bytes(serialization.Encoding.PEM), key_to_pem(key))


def self_signed_server(hostnames: Sequence[str] = (), *, days: int = GOSSIP_DAYS) -> Issued:
    """A server certificate that is its own issuer, for an endpoint pinned by its certificate.

    A trustee's gossip endpoint must not be vouched for by the federation CA (the operator
    holds that key and could stand up an impostor), so the trustee signs its own, and the
    manifest every trustee signs carries it. Clients pass it as the only trust root, so the
    handshake succeeds only with this exact key. It is a leaf (cA false, RFC 5280 4.2.1.9):
    its key signs TLS handshakes, never other certificates.
    """
    key = generate_key()
    names = server_names(hostnames)
    common = names[-1] if hostnames else "localhost"
    certificate = (
        _builder(common, _name(common), key.public_key(), days)
        .add_extension(_alt_names(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate.public_bytes(serialization.Encoding.PEM), key_to_pem(key))


def subject_alt_names(certificate_pem: bytes) -> list[str]:
    """The DNS names and IP addresses a certificate is valid for (its subjectAltName)."""
    certificate = load_certificate(certificate_pem)
    try:
        alt = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names: list[str] = list(alt.get_values_for_type(x509.DNSName))
    names += [str(address) for address in alt.get_values_for_type(x509.IPAddress)]
    return names


def host_of(endpoint: str) -> str:
    """The host of ``host:port`` (brackets of an IPv6 literal removed)."""
    return endpoint.rpartition(":")[0].strip("[]")


def covers(certificate_pem: bytes, host: str) -> bool:
    """Whether a TLS client dialling ``host`` accepts this certificate's names (RFC 6125)."""
    try:
        wanted: str = str(ipaddress.ip_address(host))
    except ValueError:
        wanted = host.lower().rstrip(".")
    return wanted in {name.lower() for name in subject_alt_names(certificate_pem)}


def is_self_signed(certificate_pem: bytes) -> bool:
    """Whether the certificate names itself as issuer and its own key verifies its signature."""
    certificate = load_certificate(certificate_pem)
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def is_loopback(address: str) -> bool:
    """True when host:port names a loopback interface (localhost, 127.0.0.0/8, ::1)."""
    host = host_of(address)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_client_key(public_key_der_bytes: bytes) -> ec.EllipticCurvePublicKey:
    """The public key of an EnrolRequest, or TlsError saying what is wrong with it."""
    try:
        public_key = serialization.load_der_public_key(public_key_der_bytes)
    except (ValueError, TypeError) as error:
        raise TlsError(f"tls_public_key is not DER SubjectPublicKeyInfo ({error})") from None
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise TlsError("tls_public_key must be an EC P-256 key")
    return public_key


def issue_client(
    ca: Issued, public_key_der_bytes: bytes, common_name: str, *, days: int = CLIENT_DAYS
) -> bytes:
    """A client certificate (PEM) for a public key its holder made and kept: CN = who it is."""
    public_key = check_client_key(public_key_der_bytes)
    issuer, issuer_key = _issuer(ca)
    certificate = (
        _builder(common_name, issuer.subject, public_key, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def issue_client_with_key(ca: Issued, common_name: str, *, days: int) -> Issued:
    """A client certificate together with a fresh key (the enrolment certificate of an invite)."""
    key = generate_key()
    return Issued(issue_client(ca, public_key_der(key), common_name, days=days), key_to_pem(key))


def enrolment_common_name(token_id: str) -> str:
    return f"{ENROL_PREFIX}{token_id}"


def common_name(certificate_pem: bytes) -> str:
    """The subject CN of a PEM certificate."""
    certificate = load_certificate(certificate_pem)
    found = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(found[0].value) if found else ""


def load_certificate(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as error:
        raise TlsError(f"not a PEM certificate ({error})") from None


def fingerprint(certificate_pem: bytes) -> str:
    """Hex SHA-256 of the certificate's DER encoding (what `openssl x509 -fingerprint` shows)."""
    der = load_certificate(certificate_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def certificate_key_der(certificate_pem: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a PEM certificate's key (to match it with a key)."""
    return (
        load_certificate(certificate_pem)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def not_after(certificate_pem: bytes) -> datetime.datetime:
    return load_certificate(certificate_pem).not_valid_after_utc


def read_pem(path: Path, what: str) -> bytes:
    """A PEM file's bytes, or one TlsError line naming the file and what it should hold."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TlsError(f"{what} {path}: cannot read ({error.strerror or error})") from None
    if b"-----BEGIN " not in data:
        raise TlsError(f"{what} {path}: not a PEM file")
    return data


def write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
