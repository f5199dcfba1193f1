"""`fedcarbon audit`: check the transparency log's evidence from the command line.

Anyone holding a receipt, a log export or two tree heads can check them here without trusting
the coordinator: the checks are the pure functions of fedcarbon.audit.receipts, and this module
only reads files, runs them and reports. The `check_*_file` functions return a
`VerificationReport` (or raise a typed error) so other commands can reuse them.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fedcarbon.audit import encoding
from fedcarbon.audit.errors import AuditError, AuditFormatError, VerificationError
from fedcarbon.audit.merkle import leaf_hash
from fedcarbon.audit.receipts import (
    ConsistencyEvidence,
    ConsistencyProof,
    LogExport,
    Receipt,
    verify_consistency_evidence,
    verify_log_export,
    verify_receipt,
)
from fedcarbon.audit.signing import PUBLIC_KEY_BYTES
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.errors import FedcarbonError

app = typer.Typer(
    name="audit",
    help=(
        "Check the transparency log: every accepted submission is logged in an append-only "
        "Merkle tree whose signed tree head you can verify yourself."
    ),
    no_args_is_help=True,
)
verify_app = typer.Typer(
    help=(
        "Verify a receipt (your submission is in the log), a whole log export, or two tree "
        "heads (the log was only appended to). Exit code 0 means valid, 1 means not."
    ),
    no_args_is_help=True,
)
app.add_typer(verify_app, name="verify")

MAX_FILE_BYTES = 256 * 1024 * 1024  # a log export of ~a million entries fits; refuse worse


@dataclass(frozen=True)
class VerificationReport:
    """What was verified: the object's kind, the facts now proven, and the checks that passed."""

    kind: str
    facts: list[tuple[str, str | int]]
    checks: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """Machine-readable success line for --json."""
        payload: dict[str, object] = {"valid": True, "kind": self.kind, "checks": self.checks}
        payload.update(dict(self.facts))
        return json.dumps(payload, sort_keys=True)


def load_log_key(spec: str) -> bytes:
    """The log's raw 32-byte Ed25519 public key from a file (raw, hex or PEM) or a hex string.

    Raises:
        AuditFormatError: naming the argument and why it is not a key.
    """
    path = Path(spec)
    if path.is_file():
        data = path.read_bytes()
        if len(data) == PUBLIC_KEY_BYTES:
            return data
        text = data.decode("utf-8", errors="replace").strip()
        where = f"--log-key {spec}"
    else:
        text = spec.strip()
        where = "--log-key"
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except ValueError as err:
            raise AuditFormatError(f"{where}: not a readable PEM public key ({err})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise AuditFormatError(f"{where}: PEM key is not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != PUBLIC_KEY_BYTES:
        raise AuditFormatError(
            f"{where}: expected a file holding the log's Ed25519 public key (32 raw bytes, 64 hex "
            "characters or PEM) or 64 hex characters"
        )
    return raw


def _read(path: Path, what: str) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise AuditFormatError(f"{path}: {what} file is larger than {MAX_FILE_BYTES} bytes")
        return path.read_bytes()
    except OSError as err:
        raise AuditFormatError(f"{path}: cannot read {what} file ({err.strerror})") from None


def _head_facts(head: TreeHead, prefix: str = "") -> list[tuple[str, str | int]]:
    return [
        (f"{prefix}log_id", head.log_id),
        (f"{prefix}tree_size", head.tree_size),
        (f"{prefix}root_hash", head.root_hash.hex()),
        (f"{prefix}timestamp_ms", head.timestamp_ms),
    ]


def check_receipt_file(
    path: Path, log_key: bytes, *, log_id: str | None = None
) -> VerificationReport:
    """Read and verify a receipt file; raise AuditError naming what failed."""
    receipt = Receipt.from_json(_read(path, "receipt"))
    verify_receipt(receipt, log_key, log_id=log_id)
    return VerificationReport(
        kind="receipt",
        facts=[
            *_head_facts(receipt.tree_head),
            ("leaf_index", receipt.leaf_index),
            ("leaf_hash", leaf_hash(receipt.entry).hex()),
        ],
        checks=["tree_head_signature", "leaf_index_in_range", "inclusion_proof"],
    )


def check_log_file(path: Path, log_key: bytes | None = None) -> VerificationReport:
    """Read a log export, recompute its root and check its signed tree head."""
    export = LogExport.from_json(_read(path, "log"))
    verify_log_export(export, log_key)
    checks = ["tree_size", "root_hash", "tree_head_signature"]
    if log_key is not None:
        checks.insert(0, "public_key")
    return VerificationReport(
        kind="log",
        facts=[
            *_head_facts(export.tree_head),
            ("public_key", export.public_key.hex()),
            ("key_pinned", "yes" if log_key is not None else "no (key taken from the file)"),
        ],
        checks=checks,
    )


def check_consistency_files(
    old_path: Path, new_path: Path, proof_path: Path, log_key: bytes
) -> VerificationReport:
    """Read two tree heads and a consistency proof; check the log only appended between them."""
    old = TreeHead.from_dict(encoding.loads(_read(old_path, "tree head"), "old_head"), "old_head")
    new = TreeHead.from_dict(encoding.loads(_read(new_path, "tree head"), "new_head"), "new_head")
    proof = ConsistencyProof.from_json(_read(proof_path, "consistency proof"))
    evidence = ConsistencyEvidence.from_parts(old, new, proof)
    verify_consistency_evidence(evidence, log_key)
    return VerificationReport(
        kind="consistency",
        facts=[*_head_facts(old, "old_"), *_head_facts(new, "new_")[1:]],
        checks=["tree_head_signatures", "same_log", "sizes_and_times_ordered", "consistency"],
    )


def _report_ok(report: VerificationReport, as_json: bool) -> None:
    if as_json:
        typer.echo(report.to_json())
        return
    table = Table(title=f"[bold green]valid[/] {report.kind}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in report.facts:
        table.add_row(name, escape(str(value)))
    table.add_row("checks passed", ", ".join(report.checks), style="green")
    Console().print(table)


def _report_failure(kind: str, err: AuditError, as_json: bool) -> None:
    check = err.check if isinstance(err, VerificationError) else "format"
    if as_json:
        payload = {"valid": False, "kind": kind, "check": check, "error": str(err)}
        typer.echo(json.dumps(payload, sort_keys=True))
    else:
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]invalid {kind}[/] ({check}): {escape(str(err))}", highlight=False
        )


def _run(kind: str, as_json: bool, work: Callable[[], VerificationReport]) -> None:
    """Run one verification, print the outcome, exit 1 on any failure (no traceback)."""
    try:
        report = work()
    except AuditError as err:
        _report_failure(kind, err, as_json)
        raise typer.Exit(1) from None
    _report_ok(report, as_json)


LogKeyOption = Annotated[
    str,
    typer.Option(
        "--log-key",
        metavar="KEY",
        help="The log's Ed25519 public key: a file (32 raw bytes, hex or PEM) or 64 hex chars.",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object instead of a table.")
]


@verify_app.command("receipt")
def verify_receipt_command(
    receipt: Annotated[
        Path, typer.Argument(metavar="RECEIPT.json", help="Receipt JSON file the log gave you.")
    ],
    log_key: LogKeyOption,
    log_id: Annotated[
        str | None, typer.Option("--log-id", help="Also require this log id.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check that a receipt proves your entry is in the log under a tree head the log signed."""
    _run(
        "receipt",
        as_json,
        lambda: check_receipt_file(receipt, load_log_key(log_key), log_id=log_id),
    )


@verify_app.command("log")
def verify_log_command(
    log: Annotated[
        Path,
        typer.Argument(metavar="LOG.json", help="Log export JSON file (every entry + tree head)."),
    ],
    log_key: Annotated[
        str | None,
        typer.Option(
            "--log-key",
            metavar="KEY",
            help="Pin the log's public key (file or hex); without it the file's own key is used.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the Merkle root from every entry and check the signed tree head over it."""
    _run(
        "log",
        as_json,
        lambda: check_log_file(log, load_log_key(log_key) if log_key else None),
    )


@verify_app.command("consistency")
def verify_consistency_command(
    old_head: Annotated[
        Path, typer.Argument(metavar="OLD_HEAD.json", help="The older signed tree head (JSON).")
    ],
    new_head: Annotated[
        Path, typer.Argument(metavar="NEW_HEAD.json", help="The newer signed tree head (JSON).")
    ],
    proof: Annotated[
        Path,
        typer.Option(
            "--proof", metavar="PROOF.json", help="Consistency proof JSON between the two sizes."
        ),
    ],
    log_key: LogKeyOption,
    as_json: JsonOption = False,
) -> None:
    """Check that the log at the newer head contains the older one unchanged (append-only)."""
    _run(
        "consistency",
        as_json,
        lambda: check_consistency_files(old_head, new_head, proof, load_log_key(log_key)),
    )


def check_result_file(path: Path, manifest_path: Path | None = None) -> VerificationReport:
    """Read a result evidence file (`agent results --evidence`) and check who vouches for it:
    t signatures by the campaign's key holders, who must be trustees of ``manifest_path``."""
    from fedcarbon.errors import FedcarbonError, WireError
    from fedcarbon.evidence import from_document
    from fedcarbon.federation.manifest import load_manifest

    try:
        evidence = from_document(_read(path, "result evidence"), source=str(path))
        manifest = load_manifest(manifest_path) if manifest_path is not None else None
    except (WireError, FedcarbonError) as err:
        raise AuditFormatError(str(err)) from None
    problems = evidence.problems(manifest)
    if problems:
        raise VerificationError("; ".join(problems), check="result_signatures")
    campaign, result = evidence.campaign, evidence.result
    return VerificationReport(
        kind="result",
        facts=[
            ("campaign_id", campaign.campaign_id),
            ("campaign_digest", campaign.digest.hex()),
            ("key_fingerprint", campaign.key.fingerprint),
            ("contributors", result.contributors),
            *((f"sum {m.name} ({m.unit})", str(m.sum)) for m in result.metrics),
            ("signed_by", ", ".join(evidence.signed_by)),
        ],
        checks=[
            "campaign_digest",
            "key_statements",
            *(["key_holders_in_manifest"] if manifest is not None else []),
            f"{campaign.key.threshold}_trustee_signatures",
        ],
    )


@verify_app.command("result")
def verify_result_command(
    evidence: Annotated[
        Path,
        typer.Argument(
            metavar="EVIDENCE.json", help="From `fedcarbon agent results CAMPAIGN --evidence F`."
        ),
    ],
    manifest: Annotated[
        Path | None,
        typer.Option(
            "--manifest", help="Your pinned federation manifest: key holders must be its trustees."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check that at least t of the campaign's trustees signed these very released figures."""
    _run("result", as_json, lambda: check_result_file(evidence, manifest))


@app.command("fetch")
def fetch_command(
    home: Annotated[
        Path,
        typer.Option(
            help="An enrolled agent or trustee home: the coordinator answers members only, so "
            "its TLS certificate and identity key authenticate the fetch.",
        ),
    ],
    log_key: Annotated[
        str, typer.Option(help="The log's public key you trust (file or 64 hex characters).")
    ],
    out: Annotated[Path, typer.Option(help="Directory to write log.json and tree-head.json into.")],
    since: Annotated[
        Path | None,
        typer.Option(help="An older tree-head file: also fetch proof that the log only grew."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    coordinator: Annotated[
        str, typer.Option(help="Coordinator address, host:port (default: the home's).")
    ] = "",
) -> None:
    """Download a coordinator's whole log and current tree head, then verify them here."""
    from fedcarbon.audit.remote import RemoteLog
    from fedcarbon.transport import home_credentials, home_settings

    def work() -> VerificationReport:
        key = load_log_key(log_key)
        try:
            credentials = home_credentials(home)
            address = coordinator or home_settings(home).coordinator
        except FedcarbonError as error:
            raise AuditError(str(error)) from None
        out.mkdir(parents=True, exist_ok=True)
        with RemoteLog(address, credentials) as remote:
            export = remote.export(key)
            (out / "log.json").write_text(export.to_json())
            (out / "tree-head.json").write_text(export.tree_head.to_json())
            report = check_log_file(out / "log.json", key)
            if since is not None:
                old = TreeHead.from_json(_read(since, "old tree head"))
                proof = remote.consistency(old.tree_size, export.tree_head.tree_size)
                (out / "consistency.json").write_text(proof.to_json())
                grown = check_consistency_files(
                    since, out / "tree-head.json", out / "consistency.json", key
                )
                report = VerificationReport(
                    "log and consistency", report.facts + grown.facts, report.checks + grown.checks
                )
        return report

    _run("fetched log", as_json, work)


def check_manifest_file(path: Path) -> VerificationReport:
    """A federation manifest: structure, and a valid signature of every listed trustee."""
    from fedcarbon.federation.errors import ManifestError
    from fedcarbon.federation.manifest import load_manifest

    try:
        manifest = load_manifest(path)
    except ManifestError as error:
        raise VerificationError(str(error), check="manifest_signatures") from None
    return VerificationReport(
        kind="manifest",
        facts=[
            ("federation", manifest.federation),
            ("version", manifest.version),
            ("fingerprint", manifest.fingerprint),
            ("trustees", ", ".join(f"{t.trustee_id} ({t.legal_id})" for t in manifest.trustees)),
            ("registrars", ", ".join(r.registrar_id for r in manifest.registrars) or "none"),
            ("min_attestations", manifest.min_attestations),
        ],
        checks=["structure", "legal_ids", "every_trustee_signed"],
    )


@verify_app.command("manifest")
def verify_manifest_command(
    manifest: Annotated[
        Path, typer.Argument(metavar="MANIFEST.json", help="A federation manifest file.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Check that every trustee a federation manifest lists has signed exactly this content."""
    _run("manifest", as_json, lambda: check_manifest_file(manifest))
