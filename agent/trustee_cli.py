"""``fedcarbon trustee``: make per-campaign keys, and open released aggregates only.

A trustee opens no port for the protocol (only the optional gossip endpoint): it polls the
coordinator for aggregates awaiting it, re-verifies each one from the signed submissions and
the log, and answers with signed openings of its own block or a signed refusal that says why.
"""

import json
import time
from pathlib import Path

import typer
from sqlmodel import Session

from agent import store
from agent.client import CoordinatorClient, connect, enrol_home, renew_home_certificate
from agent.client_options import client_options
from agent.config import load_config, write_config
from agent.errors import AgentError
from agent.federation_cli import approve, manifest_app
from agent.gossip import (
    CERT_FILE,
    check_view,
    create_certificate,
    exchange_all,
    load_certificate,
    peers,
    problems,
    serve,
)
from agent.identity import (
    load_or_create_encryption_key,
    load_or_create_identity,
    x25519_public_bytes,
)
from agent.trustee import (
    KeyRing,
    answer,
    check_release,
    make_noise,
    prefetch,
    sign_release,
)
from fedcarbon import tls
from fedcarbon.audit import signing
from fedcarbon.audit.errors import AuditError
from fedcarbon.audit.gossip import GossipCheck
from fedcarbon.audit.treehead import TreeHead, verify_tree_head
from fedcarbon.campaign import CampaignState
from fedcarbon.console import fail, print_json
from fedcarbon.crypto.errors import CryptoError
from fedcarbon.crypto.vector import MIN_KEY_BITS
from fedcarbon.decryption import DecryptionShare, NoiseShare
from fedcarbon.errors import FedcarbonError
from fedcarbon.federation.manifest import Manifest
from fedcarbon.homes import as_before
from fedcarbon.invite import install_invite, load_invite
from fedcarbon.trustee_keys import statement_to_document

app = typer.Typer(
    help="Key holders: make per-campaign keys, verify aggregates, open releases only.",
    no_args_is_help=True,
)

app.callback()(client_options)
app.add_typer(manifest_app, name="manifest")
app.command("approve")(approve)

HOME = typer.Option(
    Path("fedcarbon-trustee"),
    "--home",
    envvar="FEDCARBON_TRUSTEE_HOME",
    help="Directory with agent.toml, identity and encryption keys, key shares.",
)


@app.command()
def init(
    organisation: str = typer.Option(..., help="The trustee organisation's name."),
    coordinator: str | None = typer.Option(
        None, help="Coordinator address, host:port (default: from --invite)."
    ),
    token: str | None = typer.Option(
        None, help="A trustee enrolment token (with --insecure; otherwise use --invite)."
    ),
    invite: Path | None = typer.Option(
        None, "--invite", help="Trustee invite file from the operator: enrol over TLS."
    ),
    insecure: bool = typer.Option(
        False, "--insecure", help="Plaintext to a loopback coordinator serving --insecure."
    ),
    home: Path = HOME,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a trustee home with identity, encryption and TLS keys, and enrol."""
    if (home / "agent.toml").exists():
        fail(f"{home / 'agent.toml'} already exists")
    invited = None
    if invite is not None:
        try:
            invited = load_invite(invite)
        except FedcarbonError as error:
            fail(str(error))
        if invited.role != "trustee":
            fail(f"invite {invite} is for a {invited.role}, not a trustee")
        if insecure or token:
            fail("--invite holds the token and is for TLS; leave out --token and --insecure")
        coordinator, token = coordinator or invited.coordinator, invited.token
    elif not coordinator or not token:
        fail("--invite FILE is required (or --coordinator and --token with --insecure)")
    elif not insecure:
        fail("enrolling over TLS needs the operator's invite (--invite FILE)")
    with as_before(home):  # a full disk leaves no half-made home
        write_config(
            home,
            organisation=organisation,
            coordinator=coordinator,
            role="trustee",
            insecure=insecure,
        )
        if invited is not None:
            install_invite(invited, home)
        config = load_config(home)
        identity = load_or_create_identity(config.identity_key_path)
        encryption = load_or_create_encryption_key(home / "encryption.pem")
    try:
        result = enrol_home(
            config,
            token=token,
            identity=identity,
            encryption_public_key=x25519_public_bytes(encryption),
        )
    except AgentError as error:
        fail(f"enrolment failed: {error}")
    if result.role != "trustee":
        fail(f"the token enrolled this home as {result.role}, not trustee")
    with Session(store.open_store(config.database_url)) as session:
        session.merge(
            store.Enrolment(
                participant_id=result.participant_id,
                coordinator=coordinator,
                role=result.role,
                log_id=result.log_id,
                log_public_key=result.log_public_key,
                enrolled_unix_ms=int(time.time() * 1000),
            )
        )
        session.commit()
    if as_json:
        print_json(
            {"participant_id": result.participant_id, "role": result.role, "home": str(home)}
        )
    else:
        typer.echo(f"trustee enrolled as {result.participant_id}")


def _me(home: Path) -> tuple[str, object]:
    try:
        config = load_config(home)
    except AgentError as error:
        fail(str(error))
    enrolled = store.enrolment(store.open_store(config.database_url))
    if enrolled is None or enrolled.role != "trustee":
        fail(f"{home}: not an enrolled trustee; run `fedcarbon trustee init` first")
    return enrolled.participant_id, config


@app.command("renew-certificate")
def renew_certificate(
    home: Path = HOME,
    as_json: bool = typer.Option(False, "--json", help="Print the expiry as JSON."),
) -> None:
    """Get a new TLS client certificate (and key) before the current one expires."""
    _, config = _me(home)
    try:
        expires = renew_home_certificate(config)  # type: ignore[arg-type]
    except (AgentError, FedcarbonError) as error:
        fail(str(error))
    if as_json:
        print_json({"expires": expires})
    else:
        typer.echo(f"new client certificate installed in {home / 'tls'}; it expires {expires}")


@app.command()
def keygen(
    campaign_id: str = typer.Option(..., "--campaign", help="The one campaign the key is for."),
    out: Path = typer.Option(..., help="Where to write the signed key statement (JSON)."),
    bits: int = typer.Option(MIN_KEY_BITS, help="Paillier modulus size (>= 2048 for real use)."),
    show: bool = typer.Option(
        False, "--show", help="Write the statement of the key made earlier, make none."
    ),
    home: Path = HOME,
) -> None:
    """Make this trustee's own Paillier key for one campaign and write its signed statement.

    Dealer-free (docs/threshold.md): the private key is created here and never leaves this
    home; the operator collects every trustee's statement and opens the campaign with them
    (`coordinator campaign create --key-statement FILE ...`). Nobody ever holds a key that
    opens a whole value.
    """
    trustee_id, config = _me(home)
    identity = load_or_create_identity(config.identity_key_path)  # type: ignore[attr-defined]
    if bits < MIN_KEY_BITS:
        typer.secho(f"warning: {bits}-bit keys are for tests only", fg="yellow", err=True)
    ring = KeyRing(home)
    try:
        if show:
            statement = ring.statement(trustee_id, campaign_id)
        else:
            statement = ring.create_key(bits, trustee_id, campaign_id, identity)
    except CryptoError as error:
        fail(str(error))
    out.write_text(json.dumps(statement_to_document(statement), indent=2) + "\n")
    typer.echo(
        f"key statement for {campaign_id} written to {out} ({statement.bits}-bit, held by "
        f"{trustee_id}; the private key stays in {home / 'keys'})"
    )


def _gossip_check(
    client: CoordinatorClient,
    config: object,
    head: TreeHead,
    log_key: bytes,
    manifest: Manifest | None = None,
) -> GossipCheck | None:
    """Compare the head the bundle is bound to with every head seen elsewhere (split views).

    Heads come from this trustee's own gossip store (what agents and trustees posted to its
    endpoint) and from the peers in ``gossip``; the coordinator must prove each a prefix.
    """
    engine = store.open_store(config.database_url)  # type: ignore[attr-defined]
    received, failures = exchange_all(
        peers(config, manifest),  # type: ignore[arg-type]
        log_key,
        [head],
    )
    for failure in failures:
        typer.secho(f"warning: {failure}", fg="yellow", err=True)
    try:
        verify_tree_head(head, log_key)
    except AuditError:
        return None  # check_release already refuses this head
    return check_view(engine, log_key, head, received, client.consistency_proof)


def _prefetch(client: CoordinatorClient, ring: KeyRing, log_key: bytes) -> int:
    """Verify new submissions to campaigns this trustee holds a key in, as they arrive
    (agent/trustee.py: prefetch), up to the coordinator's current signed tree head."""
    verified, problems = prefetch(
        ring,
        client.tree_head(),
        log_key,
        client.entries,
        client.get_campaign,
        lambda: {member.participant_id: member.identity_key for member, _ in client.members()},
    )
    for problem in problems:
        typer.secho(f"warning: prefetch: {problem}", fg="yellow", err=True)
    return verified


@app.command("gossip-certificate")
def gossip_certificate(
    host: list[str] = typer.Option(
        ..., "--host", help="A name or address clients dial the gossip endpoint by (repeat)."
    ),
    renew: bool = typer.Option(
        False, "--renew", help="Replace the certificate and key (then publish a new manifest)."
    ),
    home: Path = HOME,
) -> None:
    """Make this trustee's own TLS certificate for its gossip endpoint (self-signed).

    Clients trust exactly this certificate, published in the manifest every trustee signs
    (`trustee manifest entry --gossip HOST:PORT` makes it too), never the operator's CA.
    """
    _me(home)
    try:
        issued = create_certificate(home, host, renew=renew)
    except AgentError as error:
        fail(str(error))
    typer.echo(
        f"gossip certificate {home / CERT_FILE} for "
        f"{', '.join(tls.subject_alt_names(issued.certificate))}, "
        f"SHA-256 {tls.fingerprint(issued.certificate)}"
    )


def _published_elsewhere(home: Path, config: object, served: bytes) -> str:
    """A warning if this trustee's entry in its pinned manifest names another certificate."""
    try:
        manifest = store.pinned_manifest(store.open_store(config.database_url))  # type: ignore[attr-defined]
        identity = load_or_create_identity(config.identity_key_path)  # type: ignore[attr-defined]
    except FedcarbonError:
        return ""
    mine = manifest.trustee_by_key(signing.public_key_bytes(identity)) if manifest else None
    if mine is None or mine.gossip_certificate.encode() == served:
        return ""
    return (
        f"warning: the pinned manifest (v{manifest.version}) publishes "  # type: ignore[union-attr]
        f"{'another' if mine.gossip_certificate else 'no'} gossip certificate for this trustee: "
        "clients that pinned it will refuse this endpoint until a new manifest version "
        "carrying this certificate is signed and pinned"
    )


@app.command()
def gossip(
    listen: str = typer.Option("127.0.0.1:7443", help="host:port to serve gossip on."),
    insecure: bool = typer.Option(
        False, "--insecure", help="Serve plaintext without TLS (loopback addresses only)."
    ),
    home: Path = HOME,
) -> None:
    """Serve the gossip endpoint: keep the log heads others saw, return the ones seen here.

    Over TLS with this trustee's own certificate (tls/gossip.pem, see `gossip-certificate`).
    """
    _, config = _me(home)
    enrolled = store.enrolment(store.open_store(config.database_url))  # type: ignore[attr-defined]
    assert enrolled is not None  # _me checked it
    engine = store.open_store(config.database_url)  # type: ignore[attr-defined]
    try:
        certificate = None if insecure else load_certificate(home)
        if certificate is None and not insecure:
            fail(
                f"{home / CERT_FILE}: no gossip certificate; make one with `fedcarbon trustee "
                "gossip-certificate --host HOST` (or `trustee manifest entry --gossip "
                "HOST:PORT`) and publish it in the manifest, or serve --insecure on a "
                "loopback address for a demo"
            )
        server = serve(engine, enrolled.log_public_key, listen, certificate)
    except AgentError as error:
        fail(str(error))
    if certificate is None:
        typer.secho("warning: serving gossip in plaintext (--insecure)", fg="yellow", err=True)
        transport = "plaintext"
    else:
        transport = f"TLS, certificate SHA-256 {tls.fingerprint(certificate.certificate)}"
        warning = _published_elsewhere(home, config, certificate.certificate)
        if warning:
            typer.secho(warning, fg="yellow", err=True)
    typer.echo(f"gossip endpoint listening on port {server.port} ({transport}; Ctrl-C stops it)")
    try:
        server.server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(1)


def _answered(campaign_id: str, phase: str, outcome: str, state: CampaignState) -> dict[str, str]:
    """One line of `trustee run --json`: what was done for a campaign, and its state after."""
    return {"campaign_id": campaign_id, "phase": phase, "outcome": outcome, "state": state.value}


@app.command()
def run(
    home: Path = HOME,
    once: bool = typer.Option(False, "--once", help="Answer what is pending, then exit."),
    interval: float = typer.Option(5.0, help="Seconds between polls."),
    as_json: bool = typer.Option(
        False, "--json", help="Print what was answered as JSON (with --once)."
    ),
) -> None:
    """Poll for aggregates to decrypt; verify each one, then answer with a share or a refusal."""
    trustee_id, config = _me(home)
    identity = load_or_create_identity(config.identity_key_path)  # type: ignore[attr-defined]
    ring = KeyRing(home)
    engine = store.open_store(config.database_url)  # type: ignore[attr-defined]
    enrolled = store.enrolment(engine)
    log_key = enrolled.log_public_key if enrolled else b""
    try:
        manifest = store.pinned_manifest(engine)
    except FedcarbonError as error:
        fail(str(error))
    answered: list[dict[str, str]] = []
    while True:
        try:
            with connect(config) as client:  # type: ignore[arg-type]
                _prefetch(client, ring, log_key)
                for campaign_id, phase in client.decryption_tasks(trustee_id, identity):
                    # Without the submissions: they come from the verified log view.
                    bundle = client.get_aggregate(campaign_id, without_submissions=True)
                    verdict = check_release(bundle, ring, client.entries, log_key, manifest)
                    if phase == "sign":
                        try:
                            signature = sign_release(bundle, identity, trustee_id, verdict)
                        except CryptoError as error:
                            outcome = f"not signed: {error}"
                            state = bundle.campaign.state
                        else:
                            state = client.submit_result_signature(signature, campaign_id)
                            outcome = "released result checked and signed"
                        answered.append(_answered(campaign_id, phase, outcome, state))
                        if not as_json:
                            typer.echo(f"{campaign_id}: {outcome}")
                        continue
                    part = "indicators" if phase == "indicators" else "values"
                    reasons = []
                    if manifest is None:
                        reasons.append(
                            "this trustee has no federation manifest pinned, so it cannot "
                            "check who the contributors are (`fedcarbon trustee manifest pin`)"
                        )
                    seen = _gossip_check(client, config, bundle.tree_head, log_key, manifest)
                    if seen is not None and seen.ahead and not seen.forks:
                        # A head seen elsewhere is newer than the bundle's: ask again at the
                        # next poll rather than refuse (an honest log may just have grown).
                        typer.secho(
                            f"warning: {campaign_id}: " + "; ".join(problems(seen)),
                            fg="yellow",
                            err=True,
                        )
                        continue
                    reasons += problems(seen) if seen is not None else []
                    verdict = verdict.refusing(*reasons)
                    try:
                        if phase == "noise":
                            reply = make_noise(bundle, ring, trustee_id, verdict)
                        else:
                            reply = answer(bundle, ring, trustee_id, verdict, part)
                    except CryptoError as error:  # e.g. no key made for this campaign
                        reply = DecryptionShare(
                            campaign_id,
                            trustee_id,
                            bundle.digest,
                            (),
                            f"cannot decrypt: {error}",
                            part,
                        )
                    if isinstance(reply, NoiseShare):
                        state = client.submit_noise(reply, identity)
                        outcome = "encrypted noise share sent"
                    else:
                        state = client.submit_share(reply, identity)
                        outcome = f"refused: {reply.refusal}" if reply.refusal else f"{part} opened"
                    answered.append(_answered(campaign_id, phase, outcome, state))
                    if not as_json:
                        typer.echo(f"{campaign_id}: {outcome} (campaign now {state.value})")
        except (AgentError, CryptoError) as error:
            if once:
                fail(str(error))
            typer.secho(f"warning: {error}", fg="yellow", err=True)
        if once:
            break
        time.sleep(interval)
    if as_json:
        print_json(answered)
