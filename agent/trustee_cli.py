"""``fedcarbon trustee``: hold campaign keys (or key shares) and decrypt released aggregates only.

A trustee never opens a port: it polls the coordinator for aggregates awaiting decryption,
re-verifies each one from the signed submissions, and answers with a signed share or a
signed refusal that says why.
"""

import json
import time
from pathlib import Path

import typer
from sqlmodel import Session

from agent import store
from agent.client import CoordinatorClient
from agent.config import load_config, write_config
from agent.errors import AgentError
from agent.federation_cli import approve, manifest_app
from agent.identity import (
    load_or_create_encryption_key,
    load_or_create_identity,
    x25519_public_bytes,
)
from agent.trustee import KeyRing, answer, make_noise, verify_log_completeness
from fedcarbon.campaign import key_to_document
from fedcarbon.console import fail, print_json
from fedcarbon.crypto.errors import CryptoError
from fedcarbon.crypto.vector import MIN_KEY_BITS
from fedcarbon.decryption import DecryptionShare, NoiseShare
from fedcarbon.errors import FedcarbonError

app = typer.Typer(
    help="Key holders: create campaign keys, verify aggregates, decrypt releases only.",
    no_args_is_help=True,
)

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
    coordinator: str = typer.Option(..., help="Coordinator address, host:port."),
    token: str = typer.Option(..., help="A trustee enrolment token from the operator."),
    home: Path = HOME,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a trustee home with identity and encryption keys, and enrol."""
    if (home / "agent.toml").exists():
        fail(f"{home / 'agent.toml'} already exists")
    write_config(home, organisation=organisation, coordinator=coordinator, role="trustee")
    config = load_config(home)
    identity = load_or_create_identity(config.identity_key_path)
    encryption = load_or_create_encryption_key(home / "encryption.pem")
    try:
        with CoordinatorClient(config.coordinator) as client:
            result = client.enrol(
                token=token,
                organisation=organisation,
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


@app.command()
def keygen(
    campaign_id: str = typer.Option(..., "--campaign", help="The one campaign the key is for."),
    out: Path = typer.Option(..., help="Where to write the campaign key (public part, JSON)."),
    bits: int = typer.Option(MIN_KEY_BITS, help="Paillier modulus size (>= 2048 for real use)."),
    home: Path = HOME,
) -> None:
    """Create a single-holder campaign key; the private key stays in this home."""
    trustee_id, _ = _me(home)
    if bits < MIN_KEY_BITS:
        typer.secho(f"warning: {bits}-bit keys are for tests only", fg="yellow", err=True)
    key = KeyRing(home).create_single_key(bits, trustee_id, campaign_id)
    document = key_to_document(key) | {"campaign_id": campaign_id}
    out.write_text(json.dumps(document, indent=2) + "\n")
    typer.echo(f"campaign key written to {out} ({key.bits}-bit, held by {trustee_id})")


@app.command()
def ceremony(
    campaign_id: str = typer.Option(..., "--campaign", help="The campaign the key is for."),
    trustee: list[str] = typer.Option(..., help="Trustee participant id, in share order (repeat)."),
    threshold: int = typer.Option(..., help="How many trustees must cooperate to decrypt (t)."),
    coordinator: str = typer.Option(
        ..., help="Coordinator address, to fetch trustees' public keys."
    ),
    out: Path = typer.Option(..., help="Where to write the public key and the sealed shares."),
    bits: int = typer.Option(MIN_KEY_BITS, help="Paillier modulus size (>= 2048 for real use)."),
) -> None:
    """Deal a t-of-n threshold Paillier key (Damgard-Jurik 2001, s = 1) as a one-off dealer.

    Each share is sealed to its trustee's own X25519 key (HPKE, RFC 9180), so the coordinator
    that forwards it cannot read it. The dealer sees the secret while this command runs and
    erases it before exiting: run it where the trustees accept that trust (docs/threshold.md).
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from fedcarbon.campaign import CampaignKey, KeyScheme
    from fedcarbon.crypto import sealing
    from fedcarbon.crypto import threshold as tp

    if len(set(trustee)) != len(trustee):
        fail("a trustee is named twice")
    try:
        with CoordinatorClient(coordinator) as client:
            known = {t.trustee_id: t for t in client.list_trustees()}
    except AgentError as error:
        fail(str(error))
    missing = [t for t in trustee if t not in known or not known[t].encryption_public_key]
    if missing:
        fail(f"not enrolled as trustees (or without an encryption key): {', '.join(missing)}")
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
    ) as progress:
        task = progress.add_task(f"searching two {bits // 2}-bit safe primes", total=None)
        try:
            public, shares = tp.generate_threshold_key(
                bits,
                len(trustee),
                threshold,
                allow_insecure_size=bits < MIN_KEY_BITS,
                progress=lambda tried: progress.update(
                    task,
                    description=f"searching two {bits // 2}-bit safe primes: {tried} candidates",
                ),
            )
        except CryptoError as error:
            fail(str(error))
    sealed = {
        tid: sealing.seal_key_share(share, known[tid].encryption_public_key, campaign_id).hex()
        for tid, share in zip(trustee, shares, strict=True)
    }
    del shares  # the dealer keeps nothing: only sealed shares leave this process
    key = CampaignKey(KeyScheme.THRESHOLD, public.n, tuple(trustee), threshold, public.to_bytes())
    document = key_to_document(key) | {"campaign_id": campaign_id, "sealed_shares": sealed}
    out.write_text(json.dumps(document, indent=2) + "\n")
    typer.echo(
        f"{threshold}-of-{len(trustee)} key for {campaign_id} written to {out} "
        f"({public.n.bit_length()}-bit n, fingerprint {public.fingerprint[:16]}); "
        "the dealer's p, q, d and polynomial were "
        "erased with this process"
    )


def _collect_shares(
    client: CoordinatorClient, trustee_id: str, identity: object, home: Path, ring: KeyRing
) -> list[str]:
    """Open and store sealed shares addressed to this trustee; return the campaigns received."""
    from fedcarbon.crypto import sealing
    from fedcarbon.crypto import threshold as tp

    received = []
    encryption = load_or_create_encryption_key(home / "encryption.pem")
    for campaign_id, blob in client.sealed_shares(trustee_id, identity).items():  # type: ignore[arg-type]
        campaign = client.get_campaign(campaign_id)
        if ring.has_share(campaign):
            continue
        if trustee_id not in campaign.key.trustee_ids:
            continue
        index = campaign.key.trustee_ids.index(trustee_id) + 1
        try:
            share = sealing.open_key_share(blob, encryption, campaign_id, index)
            if share.public.to_bytes() != campaign.key.threshold_public_key:
                raise CryptoError("the sealed share is for another key")
            if not tp.verification_keys_consistent(share.public):
                raise CryptoError(
                    "the key's verification keys do not come from one polynomial of degree t-1"
                )
            ring.store_share(share, campaign_id)  # refuses a key already bound elsewhere
        except CryptoError as error:
            typer.secho(
                f"warning: campaign {campaign_id}: key share refused: {error}",
                fg="yellow",
                err=True,
            )
            continue
        received.append(campaign_id)
    return received


def _log_entries(client: CoordinatorClient, size: int) -> list[bytes]:
    entries: list[bytes] = []
    while len(entries) < size:
        page = client.entries(len(entries), min(size, len(entries) + 1000))
        if not page:
            break
        entries.extend(page)
    return entries


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
            with CoordinatorClient(config.coordinator) as client:  # type: ignore[attr-defined]
                for campaign_id in _collect_shares(client, trustee_id, identity, home, ring):
                    if not as_json:
                        typer.echo(f"{campaign_id}: key share received and checked")
                for campaign_id, phase in client.decryption_tasks(trustee_id, identity):
                    bundle = client.get_aggregate(campaign_id)
                    entries = _log_entries(client, bundle.tree_head.tree_size)
                    problems = verify_log_completeness(bundle, entries, log_key)
                    if manifest is None:
                        problems.append(
                            "this trustee has no federation manifest pinned, so it cannot "
                            "check who the contributors are (`fedcarbon trustee manifest pin`)"
                        )
                    try:
                        if phase == "noise":
                            reply = make_noise(bundle, ring, trustee_id, problems, manifest)
                        else:
                            reply = answer(bundle, ring, trustee_id, problems, manifest)
                    except CryptoError as error:  # e.g. no key made for this campaign
                        reply = DecryptionShare(
                            campaign_id, trustee_id, bundle.digest, (), f"cannot decrypt: {error}"
                        )
                    if isinstance(reply, NoiseShare):
                        state = client.submit_noise(reply, identity)
                        outcome = "encrypted noise share sent"
                    else:
                        state = client.submit_share(reply, identity)
                        outcome = f"refused: {reply.refusal}" if reply.refusal else "share sent"
                    answered.append(
                        {
                            "campaign_id": campaign_id,
                            "phase": phase,
                            "outcome": outcome,
                            "state": state.value,
                        }
                    )
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
