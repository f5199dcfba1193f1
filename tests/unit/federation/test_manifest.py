"""The federation manifest: structure, every trustee's signature, fingerprint, organisations."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon import tls
from fedcarbon.audit import signing
from fedcarbon.federation.errors import ManifestError
from fedcarbon.federation.legal_id import lei_with_check_digits
from fedcarbon.federation.manifest import (
    Manifest,
    ManifestRegistrar,
    ManifestTrustee,
    load_manifest,
    min_organisations_among,
    parse_manifest,
    sign_manifest,
)


def lei(n: int) -> str:
    return "LEI:" + lei_with_check_digits(f"TESTLEI{n:011d}")


def _trustee(key: Ed25519PrivateKey, n: int, legal_id: str | None = None) -> ManifestTrustee:
    return ManifestTrustee(
        f"trustee-{n}",
        f"Org {n}",
        legal_id or lei(n),
        signing.public_key_bytes(key),
        bytes([n]) * 32,
        f"127.0.0.1:{7000 + n}" if n == 1 else "",
    )


@pytest.fixture
def keys() -> list[Ed25519PrivateKey]:
    return [signing.generate_signing_key() for _ in range(3)]


@pytest.fixture
def unsigned(keys: list[Ed25519PrivateKey]) -> Manifest:
    registrar = ManifestRegistrar(
        "chamber", "Chamber", signing.public_key_bytes(Ed25519PrivateKey.generate())
    )
    return Manifest(
        "test", 1, tuple(_trustee(k, i + 1) for i, k in enumerate(keys)), (registrar,), 2
    )


def _signed(manifest: Manifest, keys: list[Ed25519PrivateKey]) -> Manifest:
    for key in keys:
        manifest = sign_manifest(manifest, key)
    return manifest


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document))
    return path


def test_a_manifest_signed_by_every_trustee_loads(
    tmp_path: Path, unsigned: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    signed = _signed(unsigned, keys)
    loaded = load_manifest(_write(tmp_path, signed.to_document()))
    assert loaded == signed and loaded.fingerprint == unsigned.fingerprint


def test_the_fingerprint_is_sha256_of_the_canonical_body(unsigned: Manifest) -> None:
    import hashlib

    body = json.dumps(unsigned.body(), sort_keys=True, separators=(",", ":")).encode()
    assert unsigned.fingerprint == hashlib.sha256(body).hexdigest()


def test_a_missing_signature_names_the_trustee(
    tmp_path: Path, unsigned: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    partly = _signed(unsigned, keys[:2])
    with pytest.raises(ManifestError, match="not signed yet by trustee\\(s\\) trustee-3"):
        load_manifest(_write(tmp_path, partly.to_document()))


def test_a_change_after_signing_breaks_the_signatures(
    tmp_path: Path, unsigned: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    document = _signed(unsigned, keys).to_document()
    document["min_attestations"] = 1
    with pytest.raises(ManifestError, match="changed after it signed"):
        load_manifest(_write(tmp_path, document))


def test_a_swapped_trustee_key_changes_the_fingerprint(
    tmp_path: Path, unsigned: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    """The operator replaces a trustee's key by its own and signs in its place."""
    mine = signing.generate_signing_key()
    trustees = (_trustee(mine, 1), *unsigned.trustees[1:])
    forged = _signed(replace(unsigned, trustees=trustees), [mine, *keys[1:]])
    document = forged.to_document()
    # It can only pass off the forged manifest with a different fingerprint than the real one.
    assert forged.fingerprint != unsigned.fingerprint
    assert load_manifest(_write(tmp_path, document)).fingerprint == forged.fingerprint


def test_a_signature_by_an_outsider_is_refused(
    tmp_path: Path, unsigned: Manifest, keys: list[Ed25519PrivateKey]
) -> None:
    document = _signed(unsigned, keys).to_document()
    outsider = signing.generate_signing_key()
    document["signatures"].append(
        {
            "identity_key": signing.public_key_bytes(outsider).hex(),
            "signature": signing.sign(
                outsider, unsigned.canonical_body(), context=b"fedcarbon.v1.manifest"
            ).hex(),
        }
    )
    with pytest.raises(ManifestError, match="not a listed trustee"):
        load_manifest(_write(tmp_path, document))


def test_signing_with_a_key_not_listed_is_refused(unsigned: Manifest) -> None:
    with pytest.raises(ManifestError, match="not a trustee of the manifest"):
        sign_manifest(unsigned, signing.generate_signing_key())


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: d.update(kind="other"), "kind is 'other'"),
        (lambda d: d.update(version="1"), "version must be an integer"),
        (lambda d: d.update(version=0), "version must be >= 1"),
        (lambda d: d.update(min_attestations=5), "min_attestations must be between 1 and the 4"),
        (lambda d: d.update(trustees=[]), "names no trustee"),
        (
            lambda d: d["trustees"][0].update(identity_key="abc"),
            r"trustees\[0\].identity_key is not hex",
        ),
        (lambda d: d["trustees"][0].update(identity_key="ab" * 31), "must be 32 bytes"),
        (
            lambda d: d["trustees"][1].update(legal_id="LEI:TESTLEI0000000000299"),
            r"trustees\[1\].legal_id",
        ),
        (lambda d: d["trustees"][1].update(trustee_id="trustee-1"), "ids listed twice"),
        (lambda d: d["trustees"][0].update(extra=1), "unknown fields"),
        (lambda d: d.pop("registrars"), "lacks \\['registrars'\\]"),
        (
            lambda d: d["registrars"][0].update(identity_key=d["trustees"][0]["identity_key"]),
            "listed twice",
        ),
    ],
)
def test_malformed_manifests_name_the_field(unsigned: Manifest, change, why: str) -> None:  # type: ignore[no-untyped-def]
    document = unsigned.to_document()
    change(document)
    with pytest.raises(ManifestError, match=why):
        parse_manifest(document, "m.json")


def test_not_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("{not json")
    with pytest.raises(ManifestError, match=r"m\.json: not valid JSON"):
        load_manifest(path)


def test_lookups(unsigned: Manifest, keys: list[Ed25519PrivateKey]) -> None:
    first = signing.public_key_bytes(keys[0])
    assert unsigned.trustee_by_key(first) == unsigned.trustees[0]
    assert unsigned.trustee_by_key(b"\x00" * 32) is None
    assert set(unsigned.attesters().values()) == {"trustee-1", "trustee-2", "trustee-3", "chamber"}
    assert unsigned.gossip_endpoints() == ["127.0.0.1:7001"]


@pytest.mark.parametrize(
    ("threshold", "organisations", "expected"),
    [
        (2, ["a", "b", "c"], 2),
        (2, ["a", "a", "b"], 1),  # one organisation holds two of the three: alone it decrypts
        (3, ["a", "a", "b"], 2),
        (1, ["a", "b"], 1),
        (3, ["a", "b", "c", "c", "c"], 1),
        (4, ["a", "b", "c", "c", "c"], 2),
        (3, ["a", "a", "b", "b", "c"], 2),
    ],
)
def test_min_organisations_among(threshold: int, organisations: list[str], expected: int) -> None:
    assert min_organisations_among(threshold, organisations) == expected


def test_min_organisations_among_refuses_impossible_thresholds() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        min_organisations_among(4, ["a", "b", "c"])
    with pytest.raises(ValueError, match=">= 1"):
        min_organisations_among(0, ["a"])


# Gossip certificates (docs/tls.md, "Gossip"): each trustee publishes the self-signed
# certificate of its gossip endpoint; every trustee's signature covers it.


def _with_gossip_certificate(manifest: Manifest, pem: bytes) -> Manifest:
    first = replace(manifest.trustees[0], gossip_certificate=pem.decode())
    return replace(manifest, trustees=(first, *manifest.trustees[1:]))


def test_a_gossip_certificate_is_signed_with_the_manifest(
    unsigned: Manifest, keys: list[Ed25519PrivateKey], tmp_path: Path
) -> None:
    pem = tls.self_signed_server(["127.0.0.1"]).certificate
    signed = _signed(_with_gossip_certificate(unsigned, pem), keys)
    loaded = load_manifest(_write(tmp_path, signed.to_document()))
    assert loaded.gossip_certificates() == {"127.0.0.1:7001": pem}
    assert loaded.fingerprint != _signed(unsigned, keys).fingerprint
    # Swapping in another certificate (an impostor's) breaks every trustee's signature.
    document = signed.to_document()
    document["trustees"][0]["gossip_certificate"] = tls.self_signed_server(
        ["127.0.0.1"]
    ).certificate.decode()
    with pytest.raises(ManifestError, match="does not verify"):
        load_manifest(_write(tmp_path, document))


def test_a_manifest_without_gossip_certificates_keeps_loading(
    unsigned: Manifest, keys: list[Ed25519PrivateKey], tmp_path: Path
) -> None:
    """A manifest signed before the field existed: same body, fingerprint and signatures."""
    signed = _signed(unsigned, keys)
    document = signed.to_document()
    assert all("gossip_certificate" not in t for t in document["trustees"])
    loaded = load_manifest(_write(tmp_path, document))
    assert loaded == signed and loaded.fingerprint == signed.fingerprint
    assert loaded.gossip_certificates() == {}
    assert loaded.gossip_endpoints() == ["127.0.0.1:7001"]


@pytest.mark.parametrize(
    ("certificate", "gossip", "why"),
    [
        ("", "127.0.0.1:7001", "must be a PEM certificate"),
        ("not a certificate", "127.0.0.1:7001", "not a PEM certificate"),
        ("self", "", "gossip \\(the endpoint it is for\\) is empty"),
        ("self", "trustee-a.example:7001", "not valid for 'trustee-a.example'"),
        ("ca-issued", "127.0.0.1:7001", "must be self-signed"),
    ],
)
def test_an_unusable_gossip_certificate_is_refused(
    unsigned: Manifest, certificate: str, gossip: str, why: str
) -> None:
    if certificate == "self":
        certificate = tls.self_signed_server(["127.0.0.1"]).certificate.decode()
    elif certificate == "ca-issued":
        certificate = tls.issue_server(tls.create_ca("operator CA")).certificate.decode()
    document = unsigned.to_document()
    document["trustees"][0].update(gossip=gossip, gossip_certificate=certificate)
    with pytest.raises(ManifestError, match=rf"trustees\[0\]\.gossip_certificate.*{why}"):
        parse_manifest(document, "m.json")
