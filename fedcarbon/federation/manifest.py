"""The federation manifest: who the trustees and registrars are, signed by every trustee.

An agent pins the manifest out of band (a file or a URL its owner chooses) and from then on
accepts only campaign keys held by its trustees, spread over enough distinct organisations;
the coordinator cannot change it (privacy model point 7). A JSON document:

    {"kind": "fedcarbon.federation-manifest.v1", "federation": "...", "version": 1,
     "trustees": [{"trustee_id", "organisation", "legal_id", "identity_key" (hex Ed25519),
                   "encryption_key" (hex X25519), "gossip" ("host:port" or ""),
                   "gossip_certificate" (PEM, optional)}],
     "registrars": [{"registrar_id", "organisation", "identity_key"}],
     "min_attestations": 2,
     "signatures": [{"identity_key", "signature"}]}

Every listed trustee signs the canonical JSON of everything but "signatures" (sorted keys,
no whitespace) with Ed25519 under the context ``fedcarbon.v1.manifest`` (RFC 8032; framing
in fedcarbon/audit/signing.py). The fingerprint is the hex SHA-256 of that canonical body.

``gossip_certificate`` is the trustee's own self-signed TLS certificate for its gossip
endpoint (docs/tls.md, "Gossip"): clients trust exactly that certificate, never the
operator's CA. It is written only when present, so manifests signed before the field existed
keep their canonical body, fingerprint and signatures.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon import tls
from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.federation.errors import LegalIdError, ManifestError
from fedcarbon.federation.legal_id import normalise_legal_id

MANIFEST_KIND = "fedcarbon.federation-manifest.v1"
MANIFEST_CONTEXT = b"fedcarbon.v1.manifest"
_BODY_KEYS = {"kind", "federation", "version", "trustees", "registrars", "min_attestations"}
_TRUSTEE_KEYS = {"trustee_id", "organisation", "legal_id", "identity_key", "encryption_key"}
_REGISTRAR_KEYS = {"registrar_id", "organisation", "identity_key"}


@dataclass(frozen=True)
class ManifestTrustee:
    trustee_id: str
    organisation: str
    legal_id: str
    identity_key: bytes
    encryption_key: bytes
    gossip: str = ""
    # PEM of the self-signed certificate the gossip endpoint presents ("" if none published).
    gossip_certificate: str = ""

    def to_document(self) -> dict[str, str]:
        document = {
            "trustee_id": self.trustee_id,
            "organisation": self.organisation,
            "legal_id": self.legal_id,
            "identity_key": self.identity_key.hex(),
            "encryption_key": self.encryption_key.hex(),
            "gossip": self.gossip,
        }
        if self.gossip_certificate:  # absent, not "": older signed manifests stay valid
            document["gossip_certificate"] = self.gossip_certificate
        return document


@dataclass(frozen=True)
class ManifestRegistrar:
    registrar_id: str
    organisation: str
    identity_key: bytes

    def to_document(self) -> dict[str, str]:
        return {
            "registrar_id": self.registrar_id,
            "organisation": self.organisation,
            "identity_key": self.identity_key.hex(),
        }


@dataclass(frozen=True)
class Manifest:
    federation: str
    version: int
    trustees: tuple[ManifestTrustee, ...]
    registrars: tuple[ManifestRegistrar, ...] = ()
    min_attestations: int = 1
    signatures: tuple[tuple[bytes, bytes], ...] = ()  # (identity key, signature)

    def body(self) -> dict[str, Any]:
        return {
            "kind": MANIFEST_KIND,
            "federation": self.federation,
            "version": self.version,
            "trustees": [t.to_document() for t in self.trustees],
            "registrars": [r.to_document() for r in self.registrars],
            "min_attestations": self.min_attestations,
        }

    def canonical_body(self) -> bytes:
        """What trustees sign: sorted keys, no whitespace, UTF-8."""
        return json.dumps(
            self.body(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.canonical_body()).hexdigest()

    def to_document(self) -> dict[str, Any]:
        return self.body() | {
            "signatures": [
                {"identity_key": key.hex(), "signature": sig.hex()} for key, sig in self.signatures
            ]
        }

    def to_json(self) -> str:
        return json.dumps(self.to_document(), indent=2, ensure_ascii=False) + "\n"

    def trustee_by_key(self, identity_key: bytes) -> ManifestTrustee | None:
        return next((t for t in self.trustees if t.identity_key == identity_key), None)

    def attesters(self) -> dict[bytes, str]:
        """Identity key -> id of everyone whose attestation counts: trustees and registrars."""
        found = {t.identity_key: t.trustee_id for t in self.trustees}
        found.update({r.identity_key: r.registrar_id for r in self.registrars})
        return found

    def gossip_endpoints(self) -> list[str]:
        return [t.gossip for t in self.trustees if t.gossip]

    def gossip_certificates(self) -> dict[str, bytes]:
        """Gossip endpoint -> the PEM certificate its trustee published for it."""
        return {
            t.gossip: t.gossip_certificate.encode()
            for t in self.trustees
            if t.gossip and t.gossip_certificate
        }

    def unsigned_by(self) -> list[str]:
        """Trustee ids whose signature is still missing."""
        signed = {key for key, _ in self.signatures}
        return [t.trustee_id for t in self.trustees if t.identity_key not in signed]


def _text(value: object, where: str, *, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise ManifestError(f"{where} must be a non-empty string, got {value!r}")
    return value.strip()


def _key(value: object, where: str) -> bytes:
    text = _text(value, where)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ManifestError(f"{where} is not hex: {text[:80]!r}") from None
    if len(raw) != 32:
        raise ManifestError(f"{where} must be 32 bytes (64 hex digits), got {len(raw)} bytes")
    return raw


def _object(value: object, where: str, allowed: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestError(f"{where} must be an object")
    missing = allowed - set(value)
    unknown = set(value) - allowed - optional
    if missing:
        raise ManifestError(f"{where} lacks {sorted(missing)}")
    if unknown:
        raise ManifestError(f"{where} has unknown fields {sorted(unknown)}")
    return value


def _trustee(value: object, where: str) -> ManifestTrustee:
    item = _object(value, where, _TRUSTEE_KEYS, {"gossip", "gossip_certificate"})
    try:
        legal_id = normalise_legal_id(_text(item["legal_id"], f"{where}.legal_id"))
    except LegalIdError as error:
        raise ManifestError(f"{where}.legal_id: {error}") from None
    if legal_id != item["legal_id"]:
        raise ManifestError(f"{where}.legal_id must be written canonically as {legal_id!r}")
    gossip = _text(item.get("gossip", ""), f"{where}.gossip", required=False)
    return ManifestTrustee(
        trustee_id=_text(item["trustee_id"], f"{where}.trustee_id"),
        organisation=_text(item["organisation"], f"{where}.organisation"),
        legal_id=legal_id,
        identity_key=_key(item["identity_key"], f"{where}.identity_key"),
        encryption_key=_key(item["encryption_key"], f"{where}.encryption_key"),
        gossip=gossip,
        gossip_certificate=_gossip_certificate(item, gossip, where),
    )


def _gossip_certificate(item: dict[str, Any], gossip: str, where: str) -> str:
    """The entry's gossip certificate, checked to be usable as the endpoint's only trust root."""
    if "gossip_certificate" not in item:
        return ""
    where = f"{where}.gossip_certificate"
    pem = item["gossip_certificate"]
    if not isinstance(pem, str) or not pem.strip():
        raise ManifestError(f"{where} must be a PEM certificate (leave the field out for none)")
    if not gossip:
        raise ManifestError(f"{where} is given but gossip (the endpoint it is for) is empty")
    try:
        if not tls.is_self_signed(pem.encode()):
            raise ManifestError(
                f"{where} must be self-signed: clients trust exactly this certificate "
                "(`fedcarbon trustee gossip-certificate` makes one)"
            )
        host = tls.host_of(gossip)
        if not tls.covers(pem.encode(), host):
            raise ManifestError(
                f"{where} is not valid for {host!r} (it names "
                f"{', '.join(tls.subject_alt_names(pem.encode())) or 'no host'}); "
                "clients dialling the gossip endpoint would refuse it"
            )
    except tls.TlsError as error:
        raise ManifestError(f"{where}: {error}") from None
    return pem


def _registrar(value: object, where: str) -> ManifestRegistrar:
    item = _object(value, where, _REGISTRAR_KEYS, set())
    return ManifestRegistrar(
        registrar_id=_text(item["registrar_id"], f"{where}.registrar_id"),
        organisation=_text(item["organisation"], f"{where}.organisation"),
        identity_key=_key(item["identity_key"], f"{where}.identity_key"),
    )


def check_structure(manifest: Manifest, source: str = "manifest") -> None:
    """Unique ids and keys, at least one trustee, a reachable min_attestations."""
    if not manifest.federation.strip():
        raise ManifestError(f"{source}: federation name is empty")
    if manifest.version < 1:
        raise ManifestError(f"{source}: version must be >= 1, got {manifest.version}")
    if not manifest.trustees:
        raise ManifestError(f"{source}: names no trustee")
    ids = [t.trustee_id for t in manifest.trustees] + [r.registrar_id for r in manifest.registrars]
    keys = [t.identity_key for t in manifest.trustees] + [
        r.identity_key for r in manifest.registrars
    ]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ManifestError(f"{source}: ids listed twice: {twice}")
    if len(set(keys)) != len(keys):
        raise ManifestError(f"{source}: an identity key is listed twice")
    if not 1 <= manifest.min_attestations <= len(keys):
        raise ManifestError(
            f"{source}: min_attestations must be between 1 and the {len(keys)} trustees and "
            f"registrars, got {manifest.min_attestations}"
        )


def parse_manifest(document: object, source: str = "manifest") -> Manifest:
    """A Manifest from its JSON document, structure checked, signatures NOT verified."""
    if not isinstance(document, dict):
        raise ManifestError(f"{source}: not a JSON object")
    body = _object(document, source, _BODY_KEYS, {"signatures"})
    if body["kind"] != MANIFEST_KIND:
        raise ManifestError(f"{source}: kind is {body['kind']!r}, expected {MANIFEST_KIND!r}")
    version = body["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise ManifestError(f"{source}: version must be an integer, got {version!r}")
    minimum = body["min_attestations"]
    if not isinstance(minimum, int) or isinstance(minimum, bool):
        raise ManifestError(f"{source}: min_attestations must be an integer, got {minimum!r}")
    for name in ("trustees", "registrars"):
        if not isinstance(body[name], list):
            raise ManifestError(f"{source}: {name} must be a list")
    signatures = document.get("signatures", [])
    if not isinstance(signatures, list):
        raise ManifestError(f"{source}: signatures must be a list")
    sigs = []
    for index, item in enumerate(signatures):
        where = f"{source}: signatures[{index}]"
        entry = _object(item, where, {"identity_key", "signature"}, set())
        text = _text(entry["signature"], f"{where}.signature")
        try:
            sigs.append((_key(entry["identity_key"], f"{where}.identity_key"), bytes.fromhex(text)))
        except ValueError:
            raise ManifestError(f"{where}.signature is not hex") from None
    manifest = Manifest(
        federation=_text(body["federation"], f"{source}: federation"),
        version=version,
        trustees=tuple(
            _trustee(t, f"{source}: trustees[{i}]") for i, t in enumerate(body["trustees"])
        ),
        registrars=tuple(
            _registrar(r, f"{source}: registrars[{i}]") for i, r in enumerate(body["registrars"])
        ),
        min_attestations=minimum,
        signatures=tuple(sigs),
    )
    check_structure(manifest, source)
    return manifest


def verify_signatures(manifest: Manifest, source: str = "manifest") -> None:
    """Every listed trustee signed the canonical body, and nobody else did."""
    body = manifest.canonical_body()
    seen: set[bytes] = set()
    for key, signature in manifest.signatures:
        trustee = manifest.trustee_by_key(key)
        if trustee is None:
            raise ManifestError(f"{source}: signed by {key.hex()[:16]}..., not a listed trustee")
        if key in seen:
            raise ManifestError(f"{source}: {trustee.trustee_id} signed twice")
        seen.add(key)
        try:
            signing.verify(key, body, signature, context=MANIFEST_CONTEXT)
        except SignatureError as error:
            raise ManifestError(
                f"{source}: signature of trustee {trustee.trustee_id} does not verify ({error}); "
                "the manifest was changed after it signed"
            ) from None
    missing = manifest.unsigned_by()
    if missing:
        raise ManifestError(f"{source}: not signed yet by trustee(s) {', '.join(missing)}")


def manifest_from_json(text: str, source: str = "manifest") -> Manifest:
    """Parse and verify every signature (what an agent pins)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(f"{source}: not valid JSON ({error})") from None
    manifest = parse_manifest(document, source)
    verify_signatures(manifest, source)
    return manifest


def load_manifest(path: Path) -> Manifest:
    """Read a manifest file and verify all its signatures; errors name the file and field."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ManifestError(f"{path}: cannot read ({error.strerror or error})") from None
    return manifest_from_json(text, str(path))


def sign_manifest(manifest: Manifest, key: Ed25519PrivateKey) -> Manifest:
    """Add this trustee's signature (replacing an earlier one of the same key)."""
    public = signing.public_key_bytes(key)
    if manifest.trustee_by_key(public) is None:
        raise ManifestError(
            f"this identity key ({public.hex()[:16]}...) is not a trustee of the manifest"
        )
    signature = signing.sign(key, manifest.canonical_body(), context=MANIFEST_CONTEXT)
    others = tuple((k, s) for k, s in manifest.signatures if k != public)
    return replace(manifest, signatures=(*others, (public, signature)))


def min_organisations_among(threshold: int, organisations: Sequence[str]) -> int:
    """The fewest distinct organisations that together hold ``threshold`` of the key holders.

    ``organisations`` has one entry per key holder. Greedy, largest organisation first, is
    optimal here (each organisation's weight is its count of holders). A key whose t holders
    can all be found in one organisation has the value 1, whatever n is.
    """
    if threshold < 1:
        raise ValueError(f"threshold must be >= 1, got {threshold}")
    if threshold > len(organisations):
        raise ValueError(f"threshold {threshold} exceeds the {len(organisations)} key holders")
    held = 0
    for taken, (_, count) in enumerate(Counter(organisations).most_common(), start=1):
        held += count
        if held >= threshold:
            return taken
    raise AssertionError("unreachable: threshold <= number of holders")
