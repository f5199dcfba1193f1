"""The coordinator's TLS material: made by `coordinator init`, loaded by `coordinator serve`.

`coordinator init` creates ``home/tls/``: a client CA (which signs participants' client
certificates), a server CA and a server certificate signed by it. Agents verify the server
with ``ca.pem``, which holds both CA certificates, so one file serves both directions.
Operators with their own PKI point the configuration at their files instead (docs/tls.md).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from coordinator.config import CoordinatorConfig
from coordinator.enrolment import token_id
from coordinator.errors import CoordinatorError
from fedcarbon import tls
from fedcarbon.invite import REGISTRAR_ROLE, Invite, registrar_caller, save_invite
from fedcarbon.tls import Issued, TlsError, is_loopback

log = logging.getLogger("fedcarbon.coordinator")

TLS_DIR = "tls"
CA_BUNDLE = "tls/ca.pem"  # what participants verify the coordinator with (invites carry it)


@dataclass(frozen=True)
class ServerMaterial:
    """What serving TLS needs, read once at start-up."""

    certificate: bytes
    private_key: bytes
    client_ca: Issued  # certificate + key: enrolment signs client certificates with it


def create_home_pki(config: CoordinatorConfig, hostnames: Sequence[str] = ()) -> CoordinatorConfig:
    """Make a CA and a server certificate in ``home/tls`` and return the config naming them.

    The server certificate lists localhost, 127.0.0.1, ::1 and ``hostnames`` as SANs.
    """
    directory = config.home / TLS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    ca = tls.create_ca("fedcarbon federation CA")
    server = tls.issue_server(ca, hostnames)
    (directory / "ca.pem").write_bytes(ca.certificate)
    tls.write_private(directory / "ca-key.pem", ca.private_key)
    (directory / "server.pem").write_bytes(server.certificate)
    tls.write_private(directory / "server-key.pem", server.private_key)
    return replace(
        config,
        tls_cert_file="tls/server.pem",
        tls_key_file="tls/server-key.pem",
        tls_client_ca_file="tls/ca.pem",
        tls_client_ca_key_file="tls/ca-key.pem",
        insecure=False,
    )


def existing_home_pki(config: CoordinatorConfig) -> CoordinatorConfig:
    """The config naming TLS files `coordinator init` made before (re-running init keeps them)."""
    return replace(
        config,
        tls_cert_file="tls/server.pem",
        tls_key_file="tls/server-key.pem",
        tls_client_ca_file="tls/ca.pem",
        tls_client_ca_key_file="tls/ca-key.pem",
    )


def _check_dialable(address: str) -> None:
    if address.rpartition(":")[0] in ("", "0.0.0.0", "[::]", "::"):
        raise CoordinatorError(
            f"{address!r} is not an address participants can dial; pass --coordinator-address"
        )
    if address.endswith(":0"):
        raise CoordinatorError(
            "the configured listen port is 0 (any free port): pass --coordinator-address"
        )


def _save(
    config: CoordinatorConfig,
    client_ca: Issued,
    common_name: str,
    days: int,
    *,
    token: str,
    role: str,
    address: str,
    path: Path,
) -> Issued:
    """A client certificate with a fresh key, written with the CA and address as an invite."""
    _check_dialable(address)
    issued = tls.issue_client_with_key(client_ca, common_name, days=days)
    save_invite(
        Invite(
            coordinator=address,
            ca_certificate=ca_bundle(config).decode(),
            token=token,
            role=role,
            enrolment_certificate=issued.certificate.decode(),
            enrolment_key=issued.private_key.decode(),
        ),
        path,
    )
    return issued


def write_invite(
    config: CoordinatorConfig,
    client_ca: Issued,
    token: str,
    role: str,
    address: str,
    path: Path,
) -> dict[str, str]:
    """Write an invite for ``token``: its enrolment certificate is CN ``enrol:<token id>``."""
    name = tls.enrolment_common_name(token_id(token))
    enrol = _save(
        config,
        client_ca,
        name,
        tls.ENROLMENT_DAYS,
        token=token,
        role=role,
        address=address,
        path=path,
    )
    return {
        "coordinator": address,
        "enrolment_certificate": name,
        "expires": tls.not_after(enrol.certificate).isoformat(),
    }


def write_registrar_invite(
    config: CoordinatorConfig, client_ca: Issued, registrar_id: str, address: str, path: Path
) -> dict[str, str]:
    """Credentials for a registrar of the installed manifest: a client certificate with CN
    ``registrar:<id>`` (and its key) to pass the TLS gate; its calls are then signed with the
    registrar's own identity key, which the manifest names (coordinator/auth.py)."""
    name = registrar_caller(registrar_id)
    issued = _save(
        config,
        client_ca,
        name,
        tls.CLIENT_DAYS,
        token="",
        role=REGISTRAR_ROLE,
        address=address,
        path=path,
    )
    return {
        "coordinator": address,
        "certificate": name,
        "expires": tls.not_after(issued.certificate).isoformat(),
    }


def check_insecure(config: CoordinatorConfig) -> None:
    """Plaintext is for loopback demos only: refuse it on any other address, warn on loopback."""
    if not is_loopback(config.listen):
        raise CoordinatorError(
            f"refusing to serve plaintext (insecure) on {config.listen}: only a loopback "
            "address (127.0.0.1, ::1, localhost) may be served without TLS"
        )
    log.warning(
        "serving PLAINTEXT gRPC without TLS (insecure mode): for loopback demos only",
        extra={"listen": config.listen},
    )


def _read(config: CoordinatorConfig, key: str, value: str, what: str) -> bytes:
    if not value:
        raise CoordinatorError(
            f"{config.home / 'coordinator.toml'}: {key} is not set (run `coordinator init`, "
            "point it at your PEM file, or set insecure = true for a loopback demo)"
        )
    try:
        return tls.read_pem(config.tls_path(value), what)
    except TlsError as error:
        raise CoordinatorError(f"{key}: {error}") from None


def load_client_ca(config: CoordinatorConfig) -> Issued:
    """The client CA certificate and key (signs enrolment and participant certificates)."""
    return Issued(
        _read(config, "tls_client_ca_file", config.tls_client_ca_file, "client CA certificate"),
        _read(config, "tls_client_ca_key_file", config.tls_client_ca_key_file, "client CA key"),
    )


def ca_bundle(config: CoordinatorConfig) -> bytes:
    """What participants verify the coordinator with: the CA file next to the server cert.

    With `coordinator init` material this is ``tls/ca.pem`` (one CA signs both sides). With
    an operator's own PKI, ``tls/server-ca.pem`` in the home, if present, is used instead.
    """
    own = config.home / TLS_DIR / "server-ca.pem"
    if own.exists():
        return tls.read_pem(own, "server CA certificate")
    return _read(config, "tls_client_ca_file", config.tls_client_ca_file, "CA certificate")


def load_server_material(config: CoordinatorConfig) -> ServerMaterial:
    """Read every TLS file, each failure one line naming the file."""
    material = ServerMaterial(
        _read(config, "tls_cert_file", config.tls_cert_file, "server certificate"),
        _read(config, "tls_key_file", config.tls_key_file, "server key"),
        load_client_ca(config),
    )
    try:
        tls.load_private_key(material.client_ca.private_key)
        tls.load_certificate(material.client_ca.certificate)
        tls.load_certificate(material.certificate)
    except TlsError as error:
        raise CoordinatorError(f"TLS files in {config.home}: {error}") from None
    return material
