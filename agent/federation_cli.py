"""``fedcarbon trustee manifest ...`` and ``fedcarbon trustee approve``: the federation's roster.

Trustees write the federation manifest together (each exports its entry, one drafts, every
trustee signs) and attest members; a registrar named in the manifest attests with the same
command from any home holding its identity key (``identity.pem``). None of this goes
through the operator: the coordinator only stores and forwards attestations.
"""

import json
import time
from pathlib import Path
from typing import Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent import store
from agent.client import CoordinatorClient
from agent.config import load_config
from agent.errors import AgentError
from agent.gossip import create_certificate
from agent.identity import load_or_create_encryption_key, x25519_public_bytes
from fedcarbon import tls
from fedcarbon.audit import signing
from fedcarbon.audit.errors import AuditError
from fedcarbon.console import fail, print_json, table
from fedcarbon.errors import FedcarbonError
from fedcarbon.federation.attestation import attest, attesters_of
from fedcarbon.federation.errors import ManifestError
from fedcarbon.federation.legal_id import normalise_legal_id
from fedcarbon.federation.manifest import (
    Manifest,
    ManifestRegistrar,
    ManifestTrustee,
    check_structure,
    load_manifest,
    parse_manifest,
    sign_manifest,
)
from fedcarbon.invite import load_invite, registrar_caller, registrar_credentials
from fedcarbon.transport import ClientCredentials, home_credentials

manifest_app = typer.Typer(
    help="Write, sign and pin the federation manifest (trustees and registrars).",
    no_args_is_help=True,
)

HOME = typer.Option(
    Path("fedcarbon-trustee"),
    "--home",
    envvar="FEDCARBON_TRUSTEE_HOME",
    help="A trustee home, or any directory holding a registrar's identity.pem.",
)
JSON = typer.Option(False, "--json", help="Print JSON.")


def _identity(home: Path, create: bool = False) -> Any:
    path = home / "identity.pem"
    if not path.exists() and not create:
        fail(f"{path}: no identity key here")
    try:
        if not path.exists():
            key = signing.generate_signing_key()
            signing.save_private_key(key, path)
            return key
        return signing.load_private_key(path)
    except AuditError as error:
        fail(str(error))


def _enrolled_id(home: Path) -> str:
    if not (home / "agent.toml").exists():
        return ""
    enrolled = store.enrolment(store.open_store(load_config(home).database_url))
    return enrolled.participant_id if enrolled else ""


def _gossip_certificate(home: Path, endpoint: str) -> bytes:
    """This trustee's gossip certificate for ``endpoint``'s host, made if it has none yet."""
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--gossip must be host:port, got {endpoint!r}")
    try:
        return create_certificate(home, [tls.host_of(endpoint)]).certificate
    except AgentError as error:
        fail(str(error))


@manifest_app.command("entry")
def entry(
    home: Path = HOME,
    legal_id: str = typer.Option("", "--legal-id", help="Trustees: the organisation's LEI etc."),
    gossip: str = typer.Option(
        "",
        help="Trustees: host:port of this trustee's gossip endpoint; its self-signed TLS "
        "certificate (tls/gossip.pem, made if missing) goes into the entry.",
    ),
    registrar_id: str = typer.Option(
        "", "--registrar", help="Write a registrar entry with this id (creates identity.pem)."
    ),
    organisation: str = typer.Option("", help="Organisation name (default: from agent.toml)."),
    out: Path | None = typer.Option(None, help="Write the entry here instead of stdout."),
) -> None:
    """Export this trustee's (or registrar's) public entry for the manifest draft."""
    key = _identity(home, create=bool(registrar_id))
    document: dict[str, str]
    if registrar_id:
        if not organisation:
            fail("--organisation is required for a registrar entry")
        document = ManifestRegistrar(
            registrar_id, organisation, signing.public_key_bytes(key)
        ).to_document()
    else:
        trustee_id = _enrolled_id(home)
        if not trustee_id:
            fail(f"{home}: not an enrolled trustee; run `fedcarbon trustee init` first")
        try:
            canonical = normalise_legal_id(legal_id)
        except FedcarbonError as error:
            fail(f"--legal-id: {error}")
        encryption = load_or_create_encryption_key(home / "encryption.pem")
        certificate = _gossip_certificate(home, gossip) if gossip else b""
        document = ManifestTrustee(
            trustee_id,
            organisation or load_config(home).organisation,
            canonical,
            signing.public_key_bytes(key),
            x25519_public_bytes(encryption),
            gossip,
            certificate.decode(),
        ).to_document()
    text = json.dumps(document, indent=2) + "\n"
    if out:
        out.write_text(text)
        typer.echo(f"entry written to {out}")
    else:
        typer.echo(text, nl=False)


@manifest_app.command("draft")
def draft(
    federation: str = typer.Option(..., help="The federation's name."),
    version: int = typer.Option(1, help="Manifest version; raise it for every change."),
    trustee: list[Path] = typer.Option(..., help="A trustee entry file (repeat)."),
    registrar: list[Path] = typer.Option([], help="A registrar entry file (repeat)."),
    min_attestations: int = typer.Option(
        2, help="Distinct trustees or registrars that must attest a member before it counts."
    ),
    out: Path = typer.Option(..., help="Where to write the unsigned manifest."),
) -> None:
    """Assemble an unsigned manifest from the entries; every trustee then signs it."""
    try:
        document = {
            "kind": "fedcarbon.federation-manifest.v1",
            "federation": federation,
            "version": version,
            "trustees": [json.loads(path.read_text()) for path in trustee],
            "registrars": [json.loads(path.read_text()) for path in registrar],
            "min_attestations": min_attestations,
            "signatures": [],
        }
        manifest = parse_manifest(document, str(out))
    except (OSError, json.JSONDecodeError, FedcarbonError) as error:
        fail(str(error))
    out.write_text(manifest.to_json())
    typer.echo(
        f"draft written to {out} (fingerprint {manifest.fingerprint}); each of the "
        f"{len(manifest.trustees)} trustees now runs `fedcarbon trustee manifest sign {out}`"
    )


def _read_unverified(file: Path) -> Manifest:
    try:
        return parse_manifest(json.loads(file.read_text()), str(file))
    except (OSError, json.JSONDecodeError) as error:
        fail(f"{file}: {error}")
    except FedcarbonError as error:
        fail(str(error))


@manifest_app.command("sign")
def sign(
    file: Path = typer.Argument(..., help="The manifest to sign (updated in place)."),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Add this trustee's signature after reading the manifest's content and fingerprint."""
    manifest = _read_unverified(file)
    try:
        for key, _ in manifest.signatures:  # signatures already there must still hold
            if manifest.trustee_by_key(key) is None:
                raise ManifestError(f"{file}: signed by a key that is not a listed trustee")
        signed = sign_manifest(manifest, _identity(home))
        check_structure(signed, str(file))
    except FedcarbonError as error:
        fail(str(error))
    file.write_text(signed.to_json())
    missing = signed.unsigned_by()
    if as_json:
        print_json({"fingerprint": signed.fingerprint, "unsigned_by": missing})
        return
    typer.echo(f"signed {signed.federation} v{signed.version}, fingerprint {signed.fingerprint}")
    typer.echo(f"still to sign: {', '.join(missing)}" if missing else "every trustee has signed it")


@manifest_app.command("pin")
def pin(
    file: Path = typer.Argument(..., help="The manifest, signed by every trustee."),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Pin the manifest in this trustee's home: contributors are checked against it."""
    try:
        manifest = load_manifest(file)
        config = load_config(home)
    except (FedcarbonError, AgentError) as error:
        fail(str(error))
    engine = store.open_store(config.database_url)
    old = store.pin_manifest(engine, manifest, str(file), int(time.time() * 1000))
    if as_json:
        print_json({"old_fingerprint": old, "new_fingerprint": manifest.fingerprint})
    else:
        typer.echo(f"manifest pinned: {old or 'none'} -> {manifest.fingerprint}")


def _approver_manifest(home: Path, manifest_file: Path | None) -> Manifest:
    try:
        if manifest_file is not None:
            return load_manifest(manifest_file)
        if (home / "agent.toml").exists():
            pinned = store.pinned_manifest(store.open_store(load_config(home).database_url))
            if pinned is not None:
                return pinned
    except (FedcarbonError, AgentError) as error:
        fail(str(error))
    fail(f"{home}: no manifest pinned here; pass --manifest FILE")


def _registrar_credentials(
    registrar_id: str, key: Ed25519PrivateKey, invite: Path | None, insecure: bool
) -> tuple[ClientCredentials, str]:
    """A registrar's credentials and the address its invite names ("" when insecure)."""
    caller = registrar_caller(registrar_id)
    if insecure:
        return ClientCredentials(participant_id=caller, identity=key, insecure=True), ""
    if invite is None:
        fail(
            f"registrar {registrar_id}: pass --invite FILE (the operator writes it with "
            "`fedcarbon coordinator manifest registrar-invite`), or --insecure for a plaintext "
            "loopback coordinator"
        )
    try:
        loaded = load_invite(invite)
        credentials = registrar_credentials(loaded, key)
    except FedcarbonError as error:
        fail(str(error))
    if credentials.participant_id != caller:
        fail(
            f"invite {invite} is for {credentials.participant_id!r}, but this identity key is "
            f"registrar {registrar_id!r} of the manifest"
        )
    return credentials, loaded.coordinator


def _credentials(home: Path) -> ClientCredentials:
    """The home's own credentials: approving reads members and stores attestations, which the
    coordinator answers for an enrolled trustee only."""
    if not (home / "agent.toml").exists():
        fail(
            f"{home}: not an enrolled trustee home; the coordinator answers member lists and "
            "attestations only to enrolled trustees (docs/tls.md)"
        )
    try:
        return home_credentials(home)
    except FedcarbonError as error:
        fail(str(error))


def approve(
    participant: str = typer.Option("", help="Only this participant id (default: every one)."),
    home: Path = HOME,
    coordinator: str = typer.Option(
        "", help="Coordinator host:port (default: from agent.toml in --home)."
    ),
    manifest_file: Path | None = typer.Option(
        None, "--manifest", help="The federation manifest (default: the one pinned in --home)."
    ),
    yes: bool = typer.Option(
        False, "--yes", help="Attest without asking (only after checking out of band)."
    ),
    invite: Path | None = typer.Option(
        None,
        "--invite",
        help="A registrar's credentials (`coordinator manifest registrar-invite`): registrars "
        "do not enrol; their calls are signed with the identity key the manifest names.",
    ),
    insecure: bool = typer.Option(
        False, "--insecure", help="A registrar calling a plaintext loopback coordinator."
    ),
    as_json: bool = JSON,
) -> None:
    """Show each member's claimed legal identity and sign an attestation for it.

    Check out of band, before saying yes, that the organisation behind the legal id
    (a public register: GLEIF for LEIs, VIES for VAT numbers) confirms this identity key's
    fingerprint as its own. Works from a trustee home or any home holding a registrar's
    identity.pem; the manifest must name this key.
    """
    key = _identity(home)
    manifest = _approver_manifest(home, manifest_file)
    mine = signing.public_key_bytes(key)
    if mine not in manifest.attesters():
        fail(
            f"this identity key ({mine.hex()[:16]}...) is neither a trustee nor a registrar of "
            f"manifest {manifest.fingerprint[:16]}"
        )
    registrar = next((r for r in manifest.registrars if r.identity_key == mine), None)
    if registrar is not None and not (home / "agent.toml").exists():
        credentials, invited = _registrar_credentials(registrar.registrar_id, key, invite, insecure)
    else:
        credentials, invited = _credentials(home), ""
    address = (
        coordinator
        or invited
        or (load_config(home).coordinator if (home / "agent.toml").exists() else "")
    )
    if not address:
        fail("--coordinator is required outside a trustee home")
    done: list[dict[str, Any]] = []
    try:
        with CoordinatorClient(address, credentials) as client:
            for member, attestations in client.members(participant):
                if mine in attesters_of(manifest, member, attestations):
                    continue
                facts = [
                    ("participant", member.participant_id),
                    ("organisation", member.organisation),
                    ("legal id", member.legal_id or "(none claimed)"),
                    ("identity key", member.identity_key.hex()),
                    ("attested by", str(len(attesters_of(manifest, member, attestations)))),
                ]
                if not member.legal_id:
                    done.append({"participant_id": member.participant_id, "attested": False})
                    continue
                if not yes and not as_json:
                    table("Claimed identity", ["field", "value"], facts)
                    if not typer.confirm("Checked out of band; attest it?", default=False):
                        done.append({"participant_id": member.participant_id, "attested": False})
                        continue
                count = client.submit_attestation(attest(key, member))
                done.append(
                    {"participant_id": member.participant_id, "attested": True, "count": count}
                )
                if not as_json:
                    typer.echo(f"attested {member.participant_id} ({count} attestation(s) now)")
    except (AgentError, FedcarbonError) as error:
        fail(str(error))
    if as_json:
        print_json(done)
    elif not done:
        typer.echo("nothing to attest")
