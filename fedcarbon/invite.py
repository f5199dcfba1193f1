"""Invites: what an operator hands a new participant so it can enrol over mutual TLS.

An invite is one JSON file carrying the coordinator's address, the federation's CA
certificate (to verify the coordinator), the single-use token and its role, and a
short-lived client certificate with key whose CN is ``enrol:<token id>``: mTLS is mandatory
on the coordinator's one port, so even enrolment presents a certificate, and the coordinator
accepts that certificate for that token's Enrol only. Hand it over like the token itself,
over a trusted channel; it is spent once used.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon import tls, transport
from fedcarbon.tls import TlsError, write_private

INVITE_VERSION = "fedcarbon.invite.v1"
REGISTRAR_ROLE = "registrar"
"""A registrar invite has no token (registrars do not enrol) and a long-lived certificate."""
REGISTRAR_PREFIX = "registrar:"
"""A registrar's caller id and certificate CN: this prefix and its id in the manifest."""


def registrar_caller(registrar_id: str) -> str:
    return f"{REGISTRAR_PREFIX}{registrar_id}"


@dataclass(frozen=True)
class Invite:
    coordinator: str
    ca_certificate: str
    token: str
    role: str
    enrolment_certificate: str
    enrolment_key: str
    version: str = INVITE_VERSION


def save_invite(invite: Invite, path: Path) -> None:
    """Write the invite readable by its owner only (it holds a private key and the token)."""
    write_private(path, (json.dumps(asdict(invite), indent=2) + "\n").encode())


def load_invite(path: Path) -> Invite:
    """Read an invite, naming the file and the field when something is wrong."""
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise TlsError(f"invite {path}: cannot read ({error.strerror or error})") from None
    except json.JSONDecodeError as error:
        raise TlsError(f"invite {path}: not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("version") != INVITE_VERSION:
        raise TlsError(f"invite {path}: not a {INVITE_VERSION} document")
    fields = ("coordinator", "ca_certificate", "token", "role")
    for name in (*fields, "enrolment_certificate", "enrolment_key"):
        if not isinstance(document.get(name), str):
            raise TlsError(f"invite {path}: field {name!r} must be a string")
    registrar = document["role"] == REGISTRAR_ROLE
    for name in fields:
        if not document[name] and not (registrar and name == "token"):
            raise TlsError(f"invite {path}: field {name!r} is empty")
    if registrar and not (document["enrolment_certificate"] and document["enrolment_key"]):
        raise TlsError(f"invite {path}: a registrar invite needs its certificate and key")
    return Invite(**document)


def registrar_credentials(
    invite: Invite, identity: Ed25519PrivateKey
) -> transport.ClientCredentials:
    """How a registrar of the manifest calls: the invite's certificate (CN ``registrar:<id>``)
    and call signatures with its own identity key, which the manifest names. A registrar
    never enrols; the coordinator knows it from the installed manifest."""
    if invite.role != REGISTRAR_ROLE:
        raise TlsError(f"this invite is for a {invite.role}, not for a registrar")
    return transport.ClientCredentials(
        ca_certificate=invite.ca_certificate.encode(),
        certificate=invite.enrolment_certificate.encode(),
        private_key=invite.enrolment_key.encode(),
        participant_id=tls.common_name(invite.enrolment_certificate.encode()),
        identity=identity,
    )


def install_invite(invite: Invite, home: Path) -> None:
    """Put the invite's CA and enrolment certificate where the home layout expects them."""
    (home / transport.TLS_DIR).mkdir(parents=True, exist_ok=True)
    (home / transport.CA_FILE).write_text(invite.ca_certificate)
    if invite.enrolment_certificate:
        (home / transport.ENROL_CERT_FILE).write_text(invite.enrolment_certificate)
        write_private(home / transport.ENROL_KEY_FILE, invite.enrolment_key.encode())
