"""``fedcarbon agent``: the supplier's side. Computes locally, shows what leaves, submits.

Everything runs on the participant's premises; only ciphertexts, the participant id, the
campaign digest, a nonce and a signature are ever sent (see ``fedcarbon agent preview``).
"""

import json
import time
from pathlib import Path
from typing import Any

import typer
from sqlmodel import Session

from agent import exchange, store
from agent.client import CoordinatorClient, connect, enrol_home, renew_home_certificate
from agent.client_options import client_options
from agent.collect import Collection, collect, footprint_for
from agent.config import AgentConfig, load_config, write_config
from agent.consent import app as consent_app
from agent.consent import consent_refusal
from agent.contribution import Contribution, encrypt_and_sign, prepare
from agent.errors import AgentError
from agent.footprint_cli import register as register_footprint_commands
from agent.gossip import check_view, exchange_all
from agent.gossip import peers as gossip_peers
from agent.identity import load_or_create_identity
from agent.ledger import Ledger, differencing_refusals, load_ledger, record_joined, unchecked
from agent.mappings_cli import app as mappings_app
from agent.mappings_cli import audit_entry, mapped_rows
from agent.options import HOME, JSON
from agent.policy import manifest_refusals, period_label, refusals
from agent.report import report_command
from agent.upstream import app as upstream_app
from fedcarbon import serde, shares
from fedcarbon.accounting.errors import AccountingError
from fedcarbon.audit import signing
from fedcarbon.audit.errors import AuditError
from fedcarbon.audit.receipts import (
    ConsistencyEvidence,
    Receipt,
    verify_consistency_evidence,
    verify_receipt,
)
from fedcarbon.audit.treehead import verify_tree_head
from fedcarbon.campaign import Campaign, CampaignState
from fedcarbon.console import fail, print_json, show_result, table
from fedcarbon.crypto import vector
from fedcarbon.errors import FedcarbonError
from fedcarbon.evidence import ResultEvidence, to_document
from fedcarbon.federation.attestation import attesters_of
from fedcarbon.federation.legal_id import normalise_legal_id
from fedcarbon.federation.manifest import Manifest, load_manifest
from fedcarbon.homes import as_before
from fedcarbon.invite import Invite, install_invite, load_invite
from fedcarbon.submission import SignedSubmission

app = typer.Typer(
    help="The supplier's agent: compute your footprint locally, preview exactly what leaves, "
    "submit it encrypted, keep the receipts.",
    no_args_is_help=True,
)

app.callback()(client_options)
app.command("report")(report_command)
app.add_typer(consent_app, name="consent")
app.add_typer(upstream_app, name="upstream")

register_footprint_commands(app)  # footprint, pact export (agent/footprint_cli.py)
app.add_typer(mappings_app, name="mappings")
app.add_typer(exchange.app, name="cbam")
manifest_app = typer.Typer(
    help="The federation manifest this agent pinned: who may hold campaign keys and attest.",
    no_args_is_help=True,
)
app.add_typer(manifest_app, name="manifest")
_USER_ERRORS = (AgentError, FedcarbonError, AccountingError, AuditError, OSError, ValueError)


def _load(home: Path) -> AgentConfig:
    try:
        return load_config(home)
    except AgentError as error:
        fail(str(error))


def _enrolment(config: AgentConfig) -> store.Enrolment:
    found = store.enrolment(store.open_store(config.database_url))
    if found is None:
        fail(f"{config.home}: not enrolled yet; run `fedcarbon agent enrol --token ...`")
    return found


def _enrol(config: AgentConfig, token: str, legal_id: str = "") -> store.Enrolment:
    identity = load_or_create_identity(config.identity_key_path)
    legal_id = normalise_legal_id(legal_id) if legal_id else config.legal_id
    result = enrol_home(config, token=token, identity=identity, legal_id=legal_id)
    row = store.Enrolment(
        participant_id=result.participant_id,
        coordinator=config.coordinator,
        role=result.role,
        log_id=result.log_id,
        log_public_key=result.log_public_key,
        enrolled_unix_ms=int(time.time() * 1000),
        legal_id=legal_id,
    )
    with Session(store.open_store(config.database_url)) as session:
        session.merge(row)
        session.commit()
    return row


@app.command()
def init(
    organisation: str = typer.Option(..., help="Your organisation's name."),
    coordinator: str | None = typer.Option(
        None, help="Coordinator address, host:port (default: from --invite)."
    ),
    home: Path = HOME,
    role: str = typer.Option("supplier", help="supplier or buyer."),
    sector: str = typer.Option("", help="Sector, e.g. machining (used for benchmark cohorts)."),
    region: str = typer.Option("", help="ISO 3166-1 alpha-2 country code."),
    size_band: str = typer.Option("", help="Size band, e.g. sme or large."),
    activities: str | None = typer.Option(
        None, help="Activity CSV to read (configures the csv adapter)."
    ),
    token: str | None = typer.Option(
        None, help="Enrolment token (with --insecure): enrol right away."
    ),
    invite: Path | None = typer.Option(
        None,
        "--invite",
        help="Invite file from the operator (coordinator address, CA, token): enrol over TLS.",
    ),
    insecure: bool = typer.Option(
        False, "--insecure", help="Plaintext to a loopback coordinator serving --insecure (demos)."
    ),
    customer: list[str] = typer.Option(
        [], help="PARTICIPANT_ID=NAME: how a buyer appears as `customer` in your data (repeat)."
    ),
    legal_id: str = typer.Option(
        "",
        "--legal-id",
        help="Your organisation's legal identifier: LEI:<20 chars>, VAT:<CC><number> or "
        "CRN:<CC>:<number>; trustees or registrars attest it before you count towards k.",
    ),
    manifest: Path | None = typer.Option(
        None,
        "--manifest",
        help="The federation manifest to pin (from a source you trust, not the coordinator).",
    ),
    as_json: bool = JSON,
) -> None:
    """Create an agent home (agent.toml, identity key), pin the manifest, optionally enrol."""
    if (home / "agent.toml").exists():
        fail(f"{home / 'agent.toml'} already exists; edit it or choose another --home")
    pinned: Manifest | None = None
    invited: Invite | None = None
    try:
        legal_id = normalise_legal_id(legal_id) if legal_id else ""
        pinned = load_manifest(manifest) if manifest else None
        invited = load_invite(invite) if invite else None
    except FedcarbonError as error:
        fail(str(error))
    coordinator, token, role = _from_invite(invited, coordinator, token, role, insecure)
    aliases = {}
    for item in customer:
        pid, sep, name = item.partition("=")
        if not sep or not pid.strip() or not name.strip():
            fail(f"--customer {item!r}: expected PARTICIPANT_ID=NAME")
        aliases[pid.strip()] = name.strip()
    with as_before(home):  # a full disk or a bad store leaves no half-made home
        path = write_config(
            home,
            organisation=organisation,
            coordinator=coordinator,
            role=role,
            sector=sector,
            region=region,
            size_band=size_band,
            activities=activities,
            customers=aliases,
            legal_id=legal_id,
            insecure=insecure,
        )
        if invited is not None:
            install_invite(invited, home)
        config = _load(home)
        identity = load_or_create_identity(config.identity_key_path)
        document: dict[str, Any] = {
            "home": str(home),
            "config": str(path),
            "identity_key": signing.public_key_bytes(identity).hex(),
        }
        if pinned is not None:
            engine = store.open_store(config.database_url)
            store.pin_manifest(engine, pinned, str(manifest), int(time.time() * 1000))
            document["manifest_fingerprint"] = pinned.fingerprint
    if token:
        try:
            enrolled = _enrol(config, token)
        except _USER_ERRORS as error:
            fail(f"enrolment failed: {error}")
        document |= {"participant_id": enrolled.participant_id, "role": enrolled.role}
    if as_json:
        print_json(document)
        return
    typer.echo(f"agent home ready: {path}")
    typer.echo(
        f"identity key {document['identity_key']}: give it to your registrar or trustees "
        "through a channel you trust, so they can attest you"
    )
    if pinned is not None:
        typer.echo(
            f"pinned manifest {pinned.federation} v{pinned.version}, fingerprint "
            f"{pinned.fingerprint} (compare it with the one your trustees publish)"
        )
    if token:
        typer.echo(f"enrolled as {document['participant_id']} ({document['role']})")


def _from_invite(
    invited: Invite | None,
    coordinator: str | None,
    token: str | None,
    role: str,
    insecure: bool,
) -> tuple[str, str | None, str]:
    """Coordinator, token and role: from the invite, or from the options (plaintext only)."""
    if invited is not None:
        if insecure:
            fail("--invite is for a coordinator serving TLS; leave out --insecure")
        if token:
            fail("--invite already holds the token; leave out --token")
        return coordinator or invited.coordinator, invited.token, invited.role
    if coordinator is None:
        fail("--coordinator is required (or --invite FILE from the operator)")
    if token and not insecure:
        fail(
            "enrolling over TLS needs the invite the operator issued (--invite FILE); "
            "--token alone works only with --insecure (a plaintext loopback demo)"
        )
    return coordinator, token, role


@app.command()
def enrol(
    token: str | None = typer.Option(None, help="Single-use token from the operator."),
    invite: Path | None = typer.Option(
        None, "--invite", help="Invite file from the operator (holds the token)."
    ),
    legal_id: str = typer.Option(
        "", "--legal-id", help="Legal identifier to enrol with (default: legal_id in agent.toml)."
    ),
    home: Path = HOME,
) -> None:
    """Enrol with the coordinator using an invite (or, plaintext, a token) and this agent's
    identity key."""
    config = _load(home)
    if invite is not None:
        try:
            invited = load_invite(invite)
        except FedcarbonError as error:
            fail(str(error))
        install_invite(invited, home)
        token = invited.token
    if not token:
        fail("--invite FILE (or, against an --insecure coordinator, --token) is required")
    try:
        enrolled = _enrol(config, token, legal_id)
    except _USER_ERRORS as error:
        fail(f"enrolment failed: {error}")
    typer.echo(f"enrolled as {enrolled.participant_id} ({enrolled.role})")


def _pinned(config: AgentConfig) -> Manifest | None:
    try:
        return store.pinned_manifest(store.open_store(config.database_url))
    except FedcarbonError as error:
        fail(str(error))


def _declines(
    config: AgentConfig,
    me: store.Enrolment,
    client: CoordinatorClient,
    campaign: Campaign,
    manifest: Manifest | None,
    ledger: Ledger,
) -> list[str]:
    """Every reason to decline a campaign: the local policy, the pinned manifest (who holds
    the keys, as their signed key statements say), this agent's attestation, and the
    differencing guard (agent/ledger.py)."""
    reasons = refusals(
        campaign,
        config.policy,
        me.participant_id,
        store.spent(store.open_store(config.database_url)),
    )
    return (
        reasons
        + manifest_refusals(
            campaign.key.holders(),
            campaign.key.threshold,
            manifest,
            config.policy.min_threshold,
        )
        + _unattested(client, me, manifest)
        + differencing_refusals(campaign, ledger, config.policy.min_contributors)
    )


def _unattested(
    client: CoordinatorClient, me: store.Enrolment, manifest: Manifest | None
) -> list[str]:
    """Not yet attested enough: the contribution would not count and would fail the campaign
    for everyone (trustees refuse an aggregate with an unattested contributor)."""
    if manifest is None:
        return []
    found = client.members(me.participant_id)
    attesters = {
        key
        for member, attestations in found
        for key in attesters_of(manifest, member, attestations)
    }
    if len(attesters) >= manifest.min_attestations:
        return []
    return [
        f"this participant is attested by {len(attesters)} of the {manifest.min_attestations} "
        "trustees or registrars of the manifest it needs (ask them: `fedcarbon trustee approve`)"
    ]


@manifest_app.command("show")
def manifest_show(home: Path = HOME, as_json: bool = JSON) -> None:
    """Show the pinned manifest: its fingerprint, trustees and registrars."""
    manifest = _pinned(_load(home))
    if manifest is None:
        fail("no manifest pinned; `fedcarbon agent manifest update FILE`")
    if as_json:
        print_json(manifest.to_document() | {"fingerprint": manifest.fingerprint})
        return
    typer.echo(
        f"{manifest.federation} v{manifest.version}, fingerprint {manifest.fingerprint}; "
        f"a member counts once {manifest.min_attestations} of these attest it"
    )
    table(
        "Trustees and registrars",
        ["id", "organisation", "legal id", "role", "identity key"],
        [
            [t.trustee_id, t.organisation, t.legal_id, "trustee", t.identity_key.hex()[:16]]
            for t in manifest.trustees
        ]
        + [
            [r.registrar_id, r.organisation, "", "registrar", r.identity_key.hex()[:16]]
            for r in manifest.registrars
        ],
    )


@manifest_app.command("update")
def manifest_update(
    file: Path = typer.Argument(..., help="The new manifest, from a source you trust."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Pin a new manifest: an explicit act of yours, logged with old and new fingerprints."""
    config = _load(home)
    try:
        new = load_manifest(file)
    except FedcarbonError as error:
        fail(str(error))
    old = _pinned(config)
    if old is not None and old.fingerprint == new.fingerprint:
        fail(f"{file} is the manifest already pinned ({new.fingerprint})")
    if old is not None and new.federation == old.federation and new.version <= old.version:
        fail(
            f"{file} is version {new.version} of {new.federation}, not newer than the pinned "
            f"version {old.version}"
        )
    if not yes and not as_json:
        typer.echo(f"pinned now: {old.fingerprint if old else 'none'}")
        typer.echo(f"new:        {new.fingerprint} ({new.federation} v{new.version})")
        for t in new.trustees:
            typer.echo(f"  trustee {t.trustee_id}: {t.organisation} ({t.legal_id})")
        for r in new.registrars:
            typer.echo(f"  registrar {r.registrar_id}: {r.organisation}")
        typer.confirm("Pin this manifest?", abort=True)
    engine = store.open_store(config.database_url)
    previous = store.pin_manifest(engine, new, str(file), int(time.time() * 1000))
    if as_json:
        print_json({"old_fingerprint": previous, "new_fingerprint": new.fingerprint})
    else:
        typer.echo(f"manifest pinned: {previous or 'none'} -> {new.fingerprint}")


@manifest_app.command("history")
def manifest_history(home: Path = HOME, as_json: bool = JSON) -> None:
    """Every pin of a manifest in this agent, with time and old/new fingerprints."""
    config = _load(home)
    rows = store.manifest_changes(store.open_store(config.database_url))
    items = [
        {
            "changed_unix_ms": r.changed_unix_ms,
            "old_fingerprint": r.old_fingerprint,
            "new_fingerprint": r.new_fingerprint,
            "source": r.source,
        }
        for r in rows
    ]
    if as_json:
        print_json(items)
        return
    table(
        "Manifest changes",
        ["when (ms)", "old", "new", "from"],
        [
            [
                r.changed_unix_ms,
                r.old_fingerprint[:16] or "none",
                r.new_fingerprint[:16],
                r.source,
            ]
            for r in rows
        ],
    )


@app.command("renew-certificate")
def renew_certificate(home: Path = HOME, as_json: bool = JSON) -> None:
    """Get a new TLS client certificate (and key) before the current one expires."""
    config = _load(home)
    _enrolment(config)
    try:
        expires = renew_home_certificate(config)
    except _USER_ERRORS as error:
        fail(str(error))
    if as_json:
        print_json({"expires": expires})
    else:
        typer.echo(f"new client certificate installed in {home / 'tls'}; it expires {expires}")


@app.command()
def migrate(home: Path = HOME, as_json: bool = JSON) -> None:
    """Bring a store made by an earlier version up to date (also done at every start)."""
    from sqlalchemy import create_engine

    config = _load(home)
    engine = create_engine(config.database_url)
    try:
        added = store.migrate(engine)
    finally:
        engine.dispose()
    store.open_store(config.database_url).dispose()
    if as_json:
        print_json({"added_columns": added})
    else:
        typer.echo("added: " + ", ".join(added) if added else "the store is up to date")


@app.command()
def campaigns(home: Path = HOME, as_json: bool = JSON) -> None:
    """List the coordinator's campaigns and whether this agent's policy accepts each."""
    config = _load(home)
    me = _enrolment(config)
    engine = store.open_store(config.database_url)
    manifest = _pinned(config)
    try:
        with connect(config) as client:
            found = client.list_campaigns()
            ledger = load_ledger(engine, client, me.log_public_key)
            declines = {
                c.campaign_id: _declines(config, me, client, c, manifest, ledger) for c in found
            }
    except AgentError as error:
        fail(str(error))
    submitted = {s.campaign_id for s in store.submissions(engine)}
    rows: list[dict[str, Any]] = []
    for c in found:
        reasons = declines[c.campaign_id]
        status = (
            "submitted"
            if c.campaign_id in submitted
            else ("ok" if not reasons else "; ".join(reasons))
        )
        rows.append(
            {
                "campaign_id": c.campaign_id,
                "kind": c.kind.value,
                "state": c.state.value,
                "k": c.min_contributors,
                "key": f"{c.key.threshold}-of-{len(c.key.trustee_ids)}",
                "key_fingerprint": c.key.fingerprint,
                "metrics": [m.name for m in c.metrics],
                "status": status,
                "cohort_checked_by": "trustees" if unchecked(c) else "agent and trustees",
                "manifest_fingerprint": manifest.fingerprint if manifest else "",
            }
        )
    if as_json:
        print_json(rows)
        return
    typer.echo(
        f"pinned manifest: {manifest.federation} v{manifest.version}, "
        f"fingerprint {manifest.fingerprint}"
        if manifest
        else "no federation manifest pinned (`fedcarbon agent manifest update FILE`)"
    )
    table(
        "Campaigns",
        ["id", "kind", "state", "k", "key (fingerprint)", "this agent"],
        [
            [
                r["campaign_id"],
                r["kind"],
                r["state"],
                r["k"],
                f"{r['key']} ({r['key_fingerprint'][:16]})",
                r["status"],
            ]
            for r in rows
        ],
    )


def _prepare(config: AgentConfig, campaign: Campaign) -> tuple[Collection, Contribution]:
    collection = collect(config, campaign.period_start, campaign.period_end)
    if not collection.records:
        problems = "; ".join(f"{k}: {v}" for k, v in collection.failures.items())
        raise AgentError(
            f"no activity records for {period_label(campaign)}"
            + (f" ({problems})" if problems else "")
        )
    footprint = footprint_for(config, collection)
    return collection, prepare(
        footprint, campaign, buyer_name=config.customers.get(campaign.buyer_id)
    )


def _report_collection(collection: Collection) -> None:
    for name, why in collection.failures.items():
        typer.secho(f"warning: adapter {name} could not be read: {why}", fg="yellow", err=True)
    for rejected in collection.rejected[:20]:
        typer.secho(f"rejected: {rejected}", fg="yellow", err=True)
    if len(collection.rejected) > 20:
        typer.secho(
            f"... and {len(collection.rejected) - 20} more rejected rows", fg="yellow", err=True
        )


@app.command()
def preview(campaign_id: str, home: Path = HOME, as_json: bool = JSON) -> None:
    """Show exactly what would leave this machine for a campaign, and what stays."""
    config = _load(home)
    me = _enrolment(config)
    try:
        with connect(config) as client:
            campaign = client.get_campaign(campaign_id)
            ledger = load_ledger(store.open_store(config.database_url), client, me.log_public_key)
            reasons = _declines(config, me, client, campaign, _pinned(config), ledger)
        collection, contribution = _prepare(config, campaign)
    except _USER_ERRORS as error:
        fail(str(error))
    width = vector.ciphertext_length(min(campaign.key.moduli))
    trustees = len(campaign.key.trustee_ids)
    count = len(campaign.moduli)
    leaves = {
        "participant_id": me.participant_id,
        "campaign_id": campaign.campaign_id,
        "campaign_digest": campaign.digest.hex(),
        "ciphertexts": (
            f"{count} x {width} bytes of {campaign.key.bits}-bit Paillier: Shamir shares of "
            f"each value and of a non-zero flag per metric, one block per trustee ({trustees}), "
            "each under that trustee's own key"
        ),
        "key fingerprint": campaign.key.fingerprint[:16]
        + f" ({campaign.key.threshold}-of-{trustees}, dealer-free; compare out of band)",
        "proofs": f"{count} zero-knowledge proof(s) of plaintext knowledge",
        "nonce": "16 random bytes",
        "created": "the submission time (ms since 1970)",
        "signature": "Ed25519 over the above",
    }
    stays = {
        m.name: {"value": str(contribution.values[m.name]), "unit": m.unit, "fixed_point": fixed}
        for m, fixed in zip(campaign.metrics, contribution.fixed, strict=True)
    }
    if as_json:
        print_json(
            {
                "leaves_this_machine": leaves,
                "stays_here_encrypted_before_sending": stays,
                "records": len(collection.records),
                "rejected": [str(r) for r in collection.rejected],
                "adapter_failures": collection.failures,
                "policy_refusals": reasons,
                "mapped_lines": [audit_entry(u) for u in collection.mapped],
            }
        )
        return
    _report_collection(collection)
    if collection.mapped:
        table(
            "Spend lines mapped to a factor",
            ["record", "text", "naics6", "how", "by"],
            mapped_rows(collection.mapped),
        )
    table(f"Leaves this machine (campaign {campaign_id})", ["field", "value"], list(leaves.items()))
    table(
        "Stays here: your figures, only sent encrypted inside the ciphertexts",
        ["metric", "value", "unit", "fixed-point"],
        [[name, v["value"], v["unit"], v["fixed_point"]] for name, v in stays.items()],
    )
    typer.echo(
        f"{len(collection.records)} activity records read, {len(collection.rejected)} rejected"
    )
    if reasons:
        typer.secho("policy would refuse: " + "; ".join(reasons), fg="red")


def _submit_one(
    config: AgentConfig,
    me: store.Enrolment,
    client: CoordinatorClient,
    campaign: Campaign,
    allow_partial: bool = False,
) -> dict[str, Any]:
    engine = store.open_store(config.database_url)
    ledger = load_ledger(engine, client, me.log_public_key)
    reasons = _declines(config, me, client, campaign, _pinned(config), ledger)
    if reasons:
        raise AgentError(
            f"campaign {campaign.campaign_id}: declined by local policy: " + "; ".join(reasons)
        )
    earlier = store.pending(engine, campaign.campaign_id)
    refused = None if earlier is not None else consent_refusal(engine, campaign, config.policy)
    if refused:
        raise AgentError(refused)
    records = rejected = 0
    if earlier is not None:
        # A previous attempt was signed and maybe sent, but its reply never came back: resend
        # the very same bytes, which the coordinator counts once and answers with the receipt.
        signed = SignedSubmission(earlier.body, earlier.signature)
        values = json.loads(earlier.values_json)
    else:
        # The encryption's exponentiations need only the trustees' keys: they run on the
        # other core while the adapters are read and the footprint computed.
        with shares.CampaignPools(campaign) as pools:
            collection, contribution = _prepare(config, campaign)
            _report_collection(collection)
            if (collection.rejected or collection.failures) and not allow_partial:
                problems = [str(r) for r in collection.rejected[:10]]
                problems += [f"adapter {name}: {why}" for name, why in collection.failures.items()]
                more = len(collection.rejected) - 10
                raise AgentError(
                    f"campaign {campaign.campaign_id}: not submitted, the activity data is "
                    f"incomplete ({'; '.join(problems)}"
                    f"{f'; and {more} more' if more > 0 else ''}). Fix the source data, or "
                    "pass --allow-partial to submit a footprint without these rows."
                )
            identity = load_or_create_identity(config.identity_key_path)
            signed = encrypt_and_sign(contribution, me.participant_id, identity, pools)
        records, rejected = len(collection.records), len(collection.rejected)
        values = {k: str(v) for k, v in contribution.values.items()}
        store.save_pending(
            engine,
            store.PendingSubmission(
                campaign_id=campaign.campaign_id,
                body=signed.body,
                signature=signed.signature,
                values_json=json.dumps(values, sort_keys=True),
            ),
        )
    # Charged before sending: a submission that arrives but whose reply is lost still counts.
    record_joined(engine, campaign)
    store.record_spend(
        engine,
        store.BudgetSpend(
            campaign_id=campaign.campaign_id,
            period=period_label(campaign),
            kind=campaign.kind.value,
            epsilon=campaign.epsilon,
            delta=campaign.delta,
            spent_unix_ms=int(time.time() * 1000),
        ),
    )
    try:
        receipt, duplicate = client.submit(signed)
    except AgentError as error:
        if "already submitted" in str(error):
            # The coordinator holds another submission of ours for this campaign (sent from
            # here earlier, or from a copy of this home): this one can never count, so it is
            # not kept for a resend.
            store.clear_pending(engine, campaign.campaign_id)
        raise
    if receipt.entry != serde.signed_to_entry(signed):
        raise AgentError(
            f"campaign {campaign.campaign_id}: the coordinator's receipt is for another entry "
            "than this submission; do not trust this coordinator's log"
        )
    verify_receipt(receipt, me.log_public_key, log_id=me.log_id)
    store.save_submission(engine, campaign.campaign_id, receipt, values, int(time.time() * 1000))
    store.clear_pending(engine, campaign.campaign_id)
    # Tell the trustees which head this receipt is under, so a split view shows (best effort).
    peers = gossip_peers(config, _pinned(config))
    _, failures = exchange_all(peers, me.log_public_key, [receipt.tree_head])
    for failure in failures:
        typer.secho(f"warning: {failure}", fg="yellow", err=True)
    return {
        "campaign_id": campaign.campaign_id,
        "leaf_index": receipt.leaf_index,
        "tree_size": receipt.tree_head.tree_size,
        "duplicate": duplicate,
        "records": records,
        "rejected": rejected,
        "resent": earlier is not None,
    }


@app.command()
def submit(
    campaign_id: str | None = typer.Argument(
        None, help="Campaign to answer; omit with --all-open."
    ),
    all_open: bool = typer.Option(
        False, "--all-open", help="Answer every open campaign the policy accepts."
    ),
    allow_partial: bool = typer.Option(
        False, "--allow-partial", help="Submit even if some rows or adapters could not be read."
    ),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Compute, encrypt, sign and submit; verify and keep the log receipt."""
    config = _load(home)
    me = _enrolment(config)
    if not campaign_id and not all_open:
        fail("name a campaign or pass --all-open")
    done: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    try:
        with connect(config) as client:
            if campaign_id:
                targets = [client.get_campaign(campaign_id)]
            else:
                engine = store.open_store(config.database_url)
                submitted = {s.campaign_id for s in store.submissions(engine)}
                ledger = load_ledger(engine, client, me.log_public_key)
                targets = []
                manifest = _pinned(config)
                for c in client.list_campaigns(CampaignState.OPEN):
                    reasons = _declines(config, me, client, c, manifest, ledger)
                    if c.campaign_id in submitted:
                        continue
                    no_consent = consent_refusal(engine, c, config.policy)
                    if no_consent and store.pending(engine, c.campaign_id) is None:
                        reasons.append(no_consent)
                    if reasons:
                        skipped[c.campaign_id] = "; ".join(reasons)
                    else:
                        targets.append(c)
            for campaign in targets:
                done.append(_submit_one(config, me, client, campaign, allow_partial=allow_partial))
    except _USER_ERRORS as error:
        fail(str(error))
    if as_json:
        print_json({"submitted": done, "skipped": skipped})
        return
    for item in done:
        note = " (already accepted earlier; counted once)" if item["duplicate"] else ""
        typer.echo(
            f"submitted to {item['campaign_id']}: log entry {item['leaf_index']} "
            f"of {item['tree_size']}, receipt verified{note}"
        )
    for cid, why in skipped.items():
        typer.echo(f"skipped {cid}: {why}")


@app.command()
def receipts(
    home: Path = HOME,
    export: Path | None = typer.Option(
        None, help="Write each receipt as JSON into this directory."
    ),
    as_json: bool = JSON,
) -> None:
    """List stored submission receipts (verify one with `fedcarbon audit verify receipt`)."""
    config = _load(home)
    me = _enrolment(config)
    rows = store.submissions(store.open_store(config.database_url))
    if export:
        export.mkdir(parents=True, exist_ok=True)
        for row in rows:
            (export / f"{row.campaign_id}.receipt.json").write_text(row.receipt_json)
        (export / "log-key.hex").write_text(me.log_public_key.hex() + "\n")
    if as_json:
        print_json(
            [
                {
                    "campaign_id": r.campaign_id,
                    "submission_id": r.submission_id,
                    "leaf_index": r.leaf_index,
                }
                for r in rows
            ]
        )
        return
    table(
        "Receipts",
        ["campaign", "log entry", "submission id"],
        [[r.campaign_id, r.leaf_index, r.submission_id[:16] + "..."] for r in rows],
    )
    if export:
        typer.echo(f"receipts and the log key written to {export}")


@app.command()
def results(
    campaign_id: str,
    home: Path = HOME,
    evidence: Path | None = typer.Option(
        None, help="Also write the result with its proof (terms and trustee signatures) here."
    ),
    as_json: bool = JSON,
) -> None:
    """Fetch a campaign's released statistic and check which trustees vouch for it.

    The release is trusted only when at least t of the campaign's key holders signed these
    very figures (their identity keys come from the key statements the agent checked); the
    evidence file can be checked offline with `fedcarbon audit verify result`.
    """
    config = _load(home)
    try:
        with connect(config) as client:
            result = client.get_result(campaign_id)
            campaign = client.get_campaign(campaign_id)
    except _USER_ERRORS as error:
        fail(str(error))
    proof = ResultEvidence(campaign, result)
    problems = proof.problems(_pinned(config)) if result.metrics else []
    if evidence is not None:
        evidence.write_text(json.dumps(to_document(proof), indent=1) + "\n")
    show_result(
        result,
        as_json,
        campaign,
        trust={
            "signed_by": proof.signed_by,
            "threshold": campaign.key.threshold,
            "problems": problems,
        },
    )
    if problems and result.state is CampaignState.RELEASED:
        typer.secho(
            "warning: not (yet) vouched for by t trustees: " + "; ".join(problems),
            fg="yellow",
            err=True,
        )


@app.command("check-log")
def check_log(home: Path = HOME, as_json: bool = JSON) -> None:
    """Prove the coordinator's log only grew since each of your receipts (RFC 9162 consistency),
    and that it is the log the trustees' gossip endpoints saw (no split view)."""
    config = _load(home)
    me = _enrolment(config)
    engine = store.open_store(config.database_url)
    rows = store.submissions(engine)
    peers = gossip_peers(config, _pinned(config))
    checked = []
    try:
        with connect(config) as client:
            mine = [Receipt.from_json(row.receipt_json).tree_head for row in rows]
            received, failures = exchange_all(peers, me.log_public_key, [*mine, client.tree_head()])
            current = client.tree_head()  # after the exchange: at least every head gossiped
            verify_tree_head(current, me.log_public_key)
            for row in rows:
                receipt = Receipt.from_json(row.receipt_json)
                old = receipt.tree_head
                proof = client.consistency_proof(old.tree_size, current.tree_size)
                verify_consistency_evidence(
                    ConsistencyEvidence(old, current, proof), me.log_public_key
                )
                checked.append(
                    {
                        "campaign_id": row.campaign_id,
                        "receipt_tree_size": old.tree_size,
                        "current_tree_size": current.tree_size,
                        "consistent": True,
                    }
                )
            gossip = check_view(
                engine, me.log_public_key, current, received, client.consistency_proof
            )
    except _USER_ERRORS as error:
        fail(f"log check failed: {error}")
    forks = [json.loads(fork.to_json()) for fork in gossip.forks]
    summary = {
        "tree_size": current.tree_size,
        "root_hash": current.root_hash.hex(),
        "receipts": checked,
        "gossip": {
            "endpoints": [peer.endpoint for peer in peers],
            "unreachable": failures,
            "heads_received": len(received),
            "forks": forks,
            "ahead": [h.to_dict() for h in gossip.ahead],
        },
    }
    if as_json:
        print_json(summary)
    else:
        table(
            "The log only grew since each receipt",
            ["campaign", "receipt tree size", "now"],
            [[c["campaign_id"], c["receipt_tree_size"], c["current_tree_size"]] for c in checked],
        )
        typer.echo(
            f"current signed tree head: size {current.tree_size}, root {current.root_hash.hex()}"
        )
        typer.echo(
            f"gossip: {len(received)} head(s) from {len(peers) - len(failures)} of "
            f"{len(peers)} trustee endpoint(s) compared"
        )
        for failure in failures:
            typer.secho(f"warning: {failure}", fg="yellow", err=True)
        for fork in gossip.forks:
            typer.secho(f"FORK: {fork.reason}. Evidence (check it with the log key):", fg="red")
            typer.echo(fork.to_json())
    if gossip.forks:
        raise typer.Exit(1)
