"""What a trustee has already verified, so that release does not grow with N (issue 14).

A trustee checks every submission's signature and plaintext-knowledge proofs before it opens
anything (privacy model point 3). Those checks dominate its work, and they were repeated in
every release phase (noise, indicators, values, sign) and for every poll. Instead, each
submission is verified once, in a batch, when the trustee first sees it: while the campaign
is still open, from the public log (``trustee run`` prefetches), or at the latest in the first
release phase. What was verified is remembered in the trustee's own home as the SHA-256 of
exactly what was checked -- campaign digest, the identity key the signature was checked
against, signature and body -- so a later bundle that presents the same bytes skips the
checks, and one that changes any of them (another key, another body) is verified afresh.

The members' attestations (federation manifest, issue 12) are remembered the same way, in
one file for all campaigns: each was Ed25519-verified in every release round before.

The files are append-only, one hex digest per line; a line cut short by a crash is ignored,
which only costs a re-verification. The trustee's larger state (its log view,
agent/logview.py, and running aggregates, agent/tally.py) is kept as whole JSON files with a
checksum (``write_checked``, ``read_checked``): rewritten beside themselves and swapped in, and
read as absent when cut short or damaged, which only costs recomputing them from the log.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from fedcarbon.submission import SignedSubmission

_HEX_LEN = 64


def checksum(document: dict[str, Any]) -> str:
    """SHA-256 of the document's canonical JSON (sorted keys), its ``checksum`` field excluded."""
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def write_checked(path: Path, kind: str, document: dict[str, Any]) -> None:
    """Write ``document`` as format ``kind`` with its checksum, beside ``path``, fsync, then
    swap it in (``os.replace``): a trustee killed mid-write keeps the old file whole."""
    document = {"format": kind, **document}
    document["checksum"] = checksum(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(document, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_checked(path: Path, kind: str) -> dict[str, Any] | None:
    """The document ``write_checked`` wrote, or None if absent, cut short, damaged or of
    another format (never trusted: the caller recomputes)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        stored = document.pop("checksum")
        if stored != checksum(document) or document["format"] != kind:
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return document  # type: ignore[no-any-return]


def verified_key(campaign_digest: bytes, identity_key: bytes, signed: SignedSubmission) -> str:
    """The digest naming one successful check of ``signed`` under ``identity_key``."""
    digest = hashlib.sha256(b"fedcarbon.v1.verified\x00")
    for part in (campaign_digest, identity_key, signed.signature, signed.body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class _DigestFile:
    """A set of hex digests kept in one append-only file of the trustee's home."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._known: set[str] = set()
        # A line cut short by a crash: the next append starts on a fresh line, or its first
        # digest would be glued to the cut one and lost.
        self._cut = False
        if self._path.exists():
            text = self._path.read_text(encoding="ascii", errors="replace")
            self._cut = bool(text) and not text.endswith("\n")
            for line in text.splitlines():
                if len(line) == _HEX_LEN and all(c in "0123456789abcdef" for c in line):
                    self._known.add(line)

    def __contains__(self, key: str) -> bool:
        return key in self._known

    def __len__(self) -> int:
        return len(self._known)

    def add(self, keys: list[str]) -> None:
        """Remember ``keys`` (durably: written and fsynced before returning)."""
        new = [k for k in dict.fromkeys(keys) if k not in self._known]
        if not new:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="ascii") as handle:
            handle.write("\n" * self._cut + "".join(f"{k}\n" for k in new))
            handle.flush()
            os.fsync(handle.fileno())
        self._cut = False
        self._known.update(new)


class VerifiedSubmissions(_DigestFile):
    """The set of submissions this trustee verified for one campaign, kept in its home."""

    def __init__(self, home: Path, campaign_id: str) -> None:
        name = hashlib.sha256(campaign_id.encode()).hexdigest()[:32]
        super().__init__(home / "verified" / f"{name}.txt")


class VerifiedAttestations(_DigestFile):
    """The members' attestations this trustee found valid (``attestation_digest``), any campaign.

    Every release round checks each contributor's attestations; remembered, only the ones
    not seen before cost an Ed25519 verification. The digest covers attester key, the whole
    member record and the signature, so a changed record or signature is verified afresh.
    """

    def __init__(self, home: Path) -> None:
        super().__init__(home / "verified" / "attestations.txt")
