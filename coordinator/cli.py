"""``fedcarbon coordinator``: run the server and operate campaigns (platform operators).

Operator commands work directly on the coordinator's database (``--home`` holds the config,
the SQLite file by default and the log key), so run them on the coordinator host. Each one
that changes something appends a line to ``HOME/actions.log`` (coordinator/actions.py).
"""

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import typer

from coordinator import actions, campaigns, enrolment, membership, pki
from coordinator.config import CoordinatorConfig, load_config, write_config
from coordinator.errors import CoordinatorError
from coordinator.server import load_or_create_log_key, serve_forever
from coordinator.store import migrate as migrate_store
from coordinator.store import now_ms, open_engine
from coordinator.telemetry import configure_logging
from fedcarbon.campaign import (
    CampaignKey,
    CampaignKind,
    CampaignState,
    MetricSpec,
    new_campaign,
)
from fedcarbon.console import fail, print_json, show_result, table
from fedcarbon.errors import FedcarbonError, StoreError
from fedcarbon.federation.manifest import Manifest, load_manifest
from fedcarbon.homes import as_before
from fedcarbon.metrics import CATALOGUE, base_spec, distribution_specs, supply_chain_specs
from fedcarbon.trustee_keys import statement_from_document

app = typer.Typer(
    help="Run the coordinator and operate campaigns: enrolment tokens, campaigns, releases.",
    no_args_is_help=True,
)
campaign_app = typer.Typer(
    help="Create, list, close campaigns and read their results.", no_args_is_help=True
)
token_app = typer.Typer(help="Issue single-use enrolment tokens.", no_args_is_help=True)
manifest_app = typer.Typer(
    help="The federation manifest this coordinator checks attestations against.",
    no_args_is_help=True,
)
app.add_typer(campaign_app, name="campaign")
app.add_typer(token_app, name="token")
app.add_typer(manifest_app, name="manifest")

HOME = typer.Option(
    Path("fedcarbon-coordinator"),
    "--home",
    envvar="FEDCARBON_COORDINATOR_HOME",
    help="Directory with coordinator.toml, the log key and (by default) the SQLite database.",
)
JSON = typer.Option(False, "--json", help="Print JSON instead of tables.")


def _config(home: Path) -> CoordinatorConfig:
    try:
        return load_config(home)
    except CoordinatorError as error:
        fail(str(error))


def _engine(home: Path):  # type: ignore[no-untyped-def]
    """The store, with every campaign state change committed through it logged as the CLI's."""
    if not (home / "coordinator.toml").exists():
        fail(f"{home}: no coordinator here; run `fedcarbon coordinator init --home {home}` first")
    engine = open_engine(_config(home).effective_database_url)
    actions.follow(engine, home, "cli")
    return engine


@contextmanager
def _action(home: Path, action: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """An operator action, logged to HOME/actions.log (refused if that log is unwritable)."""
    with ExitStack() as stack:
        try:
            done = stack.enter_context(actions.operator_action(home, action, **fields))
        except CoordinatorError as error:
            fail(str(error))
        yield done


@app.command()
def init(
    home: Path = HOME,
    listen: str = typer.Option(
        "127.0.0.1:50051", help="host:port to listen on (port 0 = any free port)."
    ),
    database_url: str = typer.Option(
        "",
        help="SQLAlchemy URL; empty = embedded SQLite in --home. E.g. postgresql+psycopg://u@h/db",
    ),
    log_id: str = typer.Option(
        "fedcarbon-log", help="Name of this coordinator's transparency log."
    ),
    tls_hostname: list[str] = typer.Option(
        [],
        "--tls-hostname",
        help="Extra DNS name or IP address for the server certificate (repeat); localhost, "
        "127.0.0.1 and ::1 are always included.",
    ),
    insecure: bool = typer.Option(
        False,
        "--insecure",
        help="No TLS: serve plaintext (loopback addresses only; for demos).",
    ),
) -> None:
    """Create a coordinator home: configuration, database, log signing key, TLS CA and server
    certificate (in home/tls, unless --insecure)."""
    config = CoordinatorConfig(
        home=home, listen=listen, database_url=database_url, log_id=log_id, insecure=insecure
    )
    try:
        with as_before(home):  # a database that cannot be opened leaves no half-made home
            home.mkdir(parents=True, exist_ok=True)
            if insecure:
                try:
                    pki.check_insecure(config)
                except CoordinatorError as error:
                    fail(str(error))
            elif not (home / pki.CA_BUNDLE).exists():
                config = pki.create_home_pki(config, tls_hostname)
            else:
                config = pki.existing_home_pki(config)
            path = write_config(config)
            load_or_create_log_key(config.log_key_path)
            open_engine(config.effective_database_url).dispose()
    except StoreError as error:
        fail(f"{error} ({home} was left as it was)")
    typer.echo(f"coordinator home ready: {path}")


@app.command()
def serve(
    home: Path = HOME,
    listen: str | None = typer.Option(None, help="Override the configured host:port."),
    port_file: Path | None = typer.Option(None, help="Write the bound port here once listening."),
    log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR."),
    insecure: bool = typer.Option(
        False, "--insecure", help="Serve plaintext without TLS (loopback addresses only)."
    ),
) -> None:
    """Serve the gRPC API over mutual TLS (with health checking and reflection) until Ctrl-C
    or SIGTERM."""
    from dataclasses import replace

    config = _config(home)
    if listen:
        config = replace(config, listen=listen)
    if insecure:
        config = replace(config, insecure=True)
    configure_logging(log_level)
    try:
        serve_forever(config, port_file=port_file)
    except (OSError, FedcarbonError, CoordinatorError) as error:
        fail(str(error))


def _manifest(home: Path) -> Manifest | None:
    try:
        return membership.InstalledManifest(_config(home).manifest_path).get()
    except FedcarbonError as error:
        fail(str(error))


@manifest_app.command("install")
def manifest_install(
    file: Path = typer.Argument(..., help="The manifest, signed by every trustee."),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Verify a manifest and install it: attestations and k are checked against it."""
    try:
        manifest = load_manifest(file)
    except FedcarbonError as error:
        fail(str(error))
    config = _config(home)
    with _action(
        home,
        "manifest.install",
        federation=manifest.federation,
        version=manifest.version,
        fingerprint=manifest.fingerprint,
    ):
        config.manifest_path.write_text(manifest.to_json())
    if as_json:
        print_json({"fingerprint": manifest.fingerprint, "path": str(config.manifest_path)})
    else:
        typer.echo(
            f"manifest {manifest.federation} v{manifest.version} installed "
            f"(fingerprint {manifest.fingerprint}); k now counts attested legal entities"
        )


@manifest_app.command("registrar-invite")
def manifest_registrar_invite(
    registrar: str = typer.Option(..., "--registrar", help="The registrar id in the manifest."),
    out: Path = typer.Option(..., "--out", help="Where to write the registrar's invite."),
    coordinator_address: str = typer.Option(
        "",
        "--coordinator-address",
        help="host:port the registrar dials (default: configured listen).",
    ),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Write TLS credentials for a registrar the installed manifest names (it does not enrol).

    The registrar attests with `fedcarbon trustee approve --invite FILE --home H`, signing
    every call with its own identity key; the certificate only gets it through mutual TLS.
    """
    config = _config(home)
    manifest = _manifest(home)
    if manifest is None:
        fail("no federation manifest installed (`fedcarbon coordinator manifest install`)")
    if registrar not in {r.registrar_id for r in manifest.registrars}:
        fail(
            f"manifest {manifest.fingerprint[:16]} names no registrar {registrar!r} "
            f"(registrars: {', '.join(r.registrar_id for r in manifest.registrars) or 'none'})"
        )
    if config.insecure:
        fail("this coordinator serves plaintext (insecure): registrars need no credentials")
    with _action(home, "manifest.registrar-invite", registrar=registrar, invite=str(out)):
        try:
            made = pki.write_registrar_invite(
                config,
                pki.load_client_ca(config),
                registrar,
                coordinator_address or config.listen,
                out,
            )
        except (CoordinatorError, OSError) as error:
            fail(f"registrar invite {out}: {error}")
    if as_json:
        print_json({"registrar": registrar, "invite": str(out), **made})
    else:
        typer.echo(f"credentials for registrar {registrar} written to {out} (hand over privately)")


@app.command()
def migrate(home: Path = HOME, as_json: bool = JSON) -> None:
    """Bring a store made by an earlier version up to date (also done at every start)."""
    from sqlalchemy import create_engine

    with _action(home, "migrate") as done:
        engine = create_engine(_config(home).effective_database_url)
        try:
            added = migrate_store(engine)
        finally:
            engine.dispose()
        engine = open_engine(_config(home).effective_database_url)  # and any new tables
        stop = actions.follow(engine, home, "cli")
        try:
            retired = campaigns.retire_dealt_campaigns(engine)
        finally:
            stop()
            engine.dispose()
        done.update(added_columns=added, retired_campaigns=retired)
    if as_json:
        print_json({"added_columns": added, "retired_campaigns": retired})
    else:
        typer.echo("added: " + ", ".join(added) if added else "the store is up to date")
        if retired:
            typer.echo("retired (dealt keys): " + ", ".join(retired))


@token_app.command("issue")
def token_issue(
    role: str = typer.Option(..., help="supplier, buyer or trustee."),
    count: int = typer.Option(1, help="How many tokens."),
    label: str = typer.Option("", help="A note for the operator (who the tokens are for)."),
    invite: Path | None = typer.Option(
        None,
        "--invite",
        help="Write the token as an invite file (coordinator address, CA certificate, token, "
        "enrolment certificate): what `agent init --invite` / `trustee init --invite` read.",
    ),
    coordinator_address: str = typer.Option(
        "",
        "--coordinator-address",
        help="host:port participants dial, written into the invite (default: configured listen).",
    ),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Issue single-use enrolment tokens; hand each to one participant over a trusted channel."""
    with _action(
        home,
        "token.issue",
        role=role,
        count=count,
        label=label,
        invite=str(invite) if invite is not None else None,
    ):
        if invite is not None and count != 1:
            fail("--invite writes one token; use --count 1")
        engine = _engine(home)
        config = _config(home)
        if invite is not None and config.insecure:
            fail(
                "this coordinator serves plaintext (insecure): there is no CA to invite with; "
                "hand out the token and use `agent init --token ... --insecure`"
            )
        try:
            client_ca = pki.load_client_ca(config) if invite is not None else None
            tokens = enrolment.issue_tokens(engine, role, count, label)
        except CoordinatorError as error:
            fail(str(error))
        if invite is not None and client_ca is not None:
            try:
                made = pki.write_invite(
                    config, client_ca, tokens[0], role, coordinator_address or config.listen, invite
                )
            except (CoordinatorError, OSError) as error:
                fail(f"invite {invite}: {error}")
            if as_json:
                print_json({"role": role, "tokens": tokens, "invite": str(invite), **made})
            else:
                typer.echo(f"invite for one {role} written to {invite} (hand it over privately)")
            return
    if as_json:
        print_json({"role": role, "tokens": tokens})
    else:
        for token in tokens:
            typer.echo(token)


@app.command()
def participants(home: Path = HOME, as_json: bool = JSON) -> None:
    """List enrolled participants and their attestations (no figures are ever stored here)."""
    engine = _engine(home)
    rows = enrolment.list_participants(engine)
    counts = {
        row.participant_id: len(found)
        for row, found in membership.members(engine, [p.participant_id for p in rows])
    }
    if as_json:
        print_json(
            [
                {
                    "participant_id": p.participant_id,
                    "organisation": p.organisation,
                    "role": p.role,
                    "legal_id": p.legal_id,
                    "attestations": counts.get(p.participant_id, 0),
                    "sector": p.sector,
                    "region": p.region,
                    "size_band": p.size_band,
                }
                for p in rows
            ]
        )
        return
    table(
        "Participants",
        ["id", "organisation", "role", "legal id", "attestations", "sector", "region", "size"],
        [
            [
                p.participant_id,
                p.organisation,
                p.role,
                p.legal_id,
                counts.get(p.participant_id, 0),
                p.sector,
                p.region,
                p.size_band,
            ]
            for p in rows
        ],
    )


def _schema(
    metric: list[str], distribution: list[str], products: list[str]
) -> tuple[MetricSpec, ...]:
    """The campaign's slots: plain metrics, each distribution's base and derived slots, and a
    supply-chain breakdown by product (with the primary-data part) when products are named."""
    if not metric and not distribution and not products:
        raise ValueError("name at least one --metric, --distribution or --product")
    specs = [base_spec(m) for m in metric]
    extra = [spec for text in distribution for spec in distribution_specs(text)]
    if products:
        extra += supply_chain_specs(products)
    for spec in extra:
        if spec.name in {s.name for s in specs}:
            specs = [s for s in specs if s.name != spec.name]  # the derived request's bounds win
        specs.append(spec)
    return tuple(specs)


@app.command()
def status(home: Path = HOME, as_json: bool = JSON) -> None:
    """Campaigns, participation and releases for the operator; never a figure.

    Participation is counted from the accepted submissions (ids only); a release shows its
    state, contributor count, time and reason, not its sums.
    """
    from sqlmodel import Session

    engine = _engine(home)
    rows: list[dict[str, Any]] = []
    for c in campaigns.list_campaigns(engine):
        with Session(engine) as session:
            answered = campaigns.submission_count(session, c.campaign_id)
        result = campaigns.get_result(engine, c.campaign_id)
        rows.append(
            {
                "campaign_id": c.campaign_id,
                "kind": c.kind.value,
                "state": c.state.value,
                "period": f"{c.period_start}..{c.period_end}",
                "k": c.min_contributors,
                "invited": len(c.invited),
                "submissions": answered,
                "slots": len(c.metrics),
                "epsilon": c.epsilon,
                "released_unix_ms": result.released_unix_ms,
                "release_contributors": result.contributors,
                "reason": result.reason,
            }
        )
    if as_json:
        print_json({"campaigns": rows, "participants": len(enrolment.list_participants(engine))})
        return
    table(
        "Campaigns",
        ["id", "kind", "state", "k", "answered", "released", "note"],
        [
            [
                r["campaign_id"],
                r["kind"],
                r["state"],
                r["k"],
                f"{r['submissions']} of {r['invited']}" if r["invited"] else r["submissions"],
                time.strftime("%Y-%m-%d %H:%M", time.gmtime(r["released_unix_ms"] / 1000))
                if r["released_unix_ms"]
                else "-",
                r["reason"],
            ]
            for r in rows
        ],
    )


@campaign_app.command("create")
def campaign_create(
    campaign_id: str = typer.Option(
        ..., "--id", help="Campaign id: lowercase letters, digits, . _ -"
    ),
    kind: CampaignKind = typer.Option(
        ...,
        help="supply_chain (a buyer's Scope 3 over its suppliers) or benchmark (a cohort).",
    ),
    key_statement: list[Path] = typer.Option(
        ...,
        help="A trustee's signed key statement from `fedcarbon trustee keygen` (repeat, one per "
        "trustee, in share order).",
    ),
    threshold: int = typer.Option(
        2, help="How many of the trustees must open their shares to release anything (t)."
    ),
    metric: list[str] = typer.Option(
        [], help=f"Metric NAME or NAME:MIN:MAX to collect (repeat). Known: {', '.join(CATALOGUE)}."
    ),
    distribution: list[str] = typer.Option(
        [],
        help="Metric NAME or NAME:MIN:MAX whose distribution to release (repeat): adds x^2, a "
        "log-spaced histogram and, for intensities, numerator and denominator slots.",
    ),
    period_start: str = typer.Option(..., help="Reporting period start, YYYY-MM-DD."),
    period_end: str = typer.Option(..., help="Reporting period end (inclusive), YYYY-MM-DD."),
    title: str = typer.Option("", help="A human title."),
    min_contributors: int = typer.Option(
        3, "--k", help="Release nothing below this many contributors."
    ),
    max_contributors: int = typer.Option(10_000, help="Largest cohort the encoding is sized for."),
    buyer: str = typer.Option("", help="supply_chain: the buyer's participant id."),
    invite: list[str] = typer.Option(
        [], help="supply_chain: invited supplier participant id (repeat)."
    ),
    cohort: str = typer.Option("", help="benchmark: cohort label, e.g. machining/DE/sme/2024."),
    product: list[str] = typer.Option(
        [],
        help="supply_chain: break the buyer's total down by this product, PRODUCT or "
        "PRODUCT=SCOPE3_CATEGORY (repeat); adds delivered emissions and their primary-data part.",
    ),
    epsilon: float = typer.Option(
        0.0, help="Differential privacy epsilon for the release (0 = none)."
    ),
    delta: float = typer.Option(0.0, help="Differential privacy delta."),
    allow_weak: bool = typer.Option(
        False,
        "--allow-weak",
        help="Test federations only: accept a key below 2048 bits, threshold 1 or k < 3 "
        "(recorded with the campaign; agents' default policy still refuses it).",
    ),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Open a campaign that agents can answer."""
    with _action(
        home,
        "campaign.create",
        campaign=campaign_id,
        kind=kind.value,
        trustees=len(key_statement),
        threshold=threshold,
        k=min_contributors,
    ) as done:
        try:
            statements = []
            for path in key_statement:
                statement = statement_from_document(json.loads(path.read_text()), source=str(path))
                if statement.campaign_id != campaign_id:
                    fail(
                        f"{path} was made for campaign {statement.campaign_id!r}, not "
                        f"{campaign_id!r}: a key serves one campaign only"
                    )
                statements.append(statement)
            key = CampaignKey(tuple(statements), threshold)
            campaign = new_campaign(
                campaign_id=campaign_id,
                kind=kind,
                title=title or campaign_id,
                period_start=date.fromisoformat(period_start),
                period_end=date.fromisoformat(period_end),
                metrics=_schema(metric, distribution, product),
                key=key,
                min_contributors=min_contributors,
                max_contributors=max_contributors,
                epsilon=epsilon,
                delta=delta,
                buyer_id=buyer,
                invited=tuple(invite),
                cohort=cohort,
                created_unix_ms=now_ms(),
            )
            campaigns.create_campaign(_engine(home), campaign, allow_weak=allow_weak)
            done.update(
                slots=len(campaign.metrics),
                metrics=sorted({m.name.split(":")[0] for m in campaign.metrics}),
                epsilon=epsilon,
                weak_allowed=bool(campaigns.weaknesses(campaign)),
            )
        except (OSError, ValueError, FedcarbonError, CoordinatorError) as error:
            fail(str(error))
    if as_json:
        print_json(
            {
                "campaign_id": campaign.campaign_id,
                "digest": campaign.digest.hex(),
                "ciphertexts": campaign.packing.ciphertexts,
                "slot_bits": campaign.packing.slot_bits,
                "weak_allowed": bool(campaigns.weaknesses(campaign)),
            }
        )
    else:
        typer.echo(
            f"campaign {campaign.campaign_id} open: {len(campaign.metrics)} metrics in "
            f"{campaign.packing.ciphertexts} ciphertext(s) of {campaign.key.bits}-bit Paillier, "
            f"k = {campaign.min_contributors}"
        )


@campaign_app.command("list")
def campaign_list(
    state: CampaignState | None = typer.Option(None, help="Only campaigns in this state."),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """List campaigns and their states."""
    engine = _engine(home)
    found = campaigns.list_campaigns(engine, state)
    if as_json:
        print_json(
            [
                {
                    "campaign_id": c.campaign_id,
                    "kind": c.kind.value,
                    "state": c.state.value,
                    "k": c.min_contributors,
                    "title": c.title,
                    "weak_allowed": campaigns.weak_allowed(engine, c.campaign_id),
                }
                for c in found
            ]
        )
        return
    table(
        "Campaigns",
        ["id", "kind", "state", "k", "period", "title"],
        [
            [
                c.campaign_id,
                c.kind.value,
                c.state.value,
                c.min_contributors,
                f"{c.period_start}..{c.period_end}",
                c.title,
            ]
            for c in found
        ],
    )


@campaign_app.command("close")
def campaign_close(campaign_id: str, home: Path = HOME, as_json: bool = JSON) -> None:
    """Stop accepting submissions and aggregate; trustees then decrypt the aggregate only."""
    with _action(home, "campaign.close", campaign=campaign_id) as done:
        try:
            state, detail = campaigns.close_campaign(_engine(home), campaign_id, _manifest(home))
        except CoordinatorError as error:
            fail(str(error))
        done.update(state=state.value, detail=detail)
    if as_json:
        print_json({"campaign_id": campaign_id, "state": state.value, "detail": detail})
    else:
        typer.echo(f"campaign {campaign_id}: {state.value} ({detail})")


@campaign_app.command("result")
def campaign_result(campaign_id: str, home: Path = HOME, as_json: bool = JSON) -> None:
    """Show a campaign's released statistic (sums and means over contributors)."""
    try:
        engine = _engine(home)
        result = campaigns.get_result(engine, campaign_id)
        campaign = campaigns.get_campaign(engine, campaign_id)
    except CoordinatorError as error:
        fail(str(error))
    show_result(result, as_json, campaign)
