"""The pinned federation manifest on a live federation (issue 12).

- The agent shows the manifest fingerprint; changing it is an explicit, logged act.
- An operator that enrols itself as the key holders (tokens it issues to itself) is refused
  by the agent before anything is encrypted: its trustees are not in the pinned manifest.
- A registrar named in the manifest attests from a home holding only its identity key.
- `fedcarbon audit verify manifest` checks every trustee's signature.
"""

import json
from pathlib import Path

import pytest

from agent.client import CoordinatorClient
from agent.demo_data import demo_legal_id
from agent.errors import AgentError
from fedcarbon.audit import signing
from fedcarbon.cli import app
from fedcarbon.federation.manifest import load_manifest
from fedcarbon.invite import load_invite, registrar_credentials
from tests.integration.conftest import KEY_BITS, Federation, company

pytestmark = pytest.mark.slow


def test_agent_init_pins_and_campaigns_show_the_fingerprint(federation: Federation) -> None:
    federation.add_agent(company("castings"))
    federation.open_campaign("shown")
    fingerprint = load_manifest(federation.manifest_path).fingerprint
    (row,) = federation.cli_json("agent", "campaigns", "--home", federation.agent_home("castings"))
    assert row["manifest_fingerprint"] == fingerprint and row["status"] == "ok"
    out = federation.cli("agent", "campaigns", "--home", federation.agent_home("castings"))
    assert f"fingerprint {fingerprint}" in out


def _new_version(fed: Federation, *, registrar: Path | None = None) -> Path:
    """The trustees publish version 2 (optionally naming a registrar), all signing it."""
    old = json.loads(fed.ensure_manifest().read_text())
    entries = []
    for index, trustee in enumerate(old["trustees"]):
        path = fed.root / f"v2-trustee-{index}.json"
        path.write_text(json.dumps(trustee))
        entries += ["--trustee", str(path)]
    if registrar is not None:
        entries += ["--registrar", str(registrar)]
    draft = fed.root / "manifest-v2.json"
    fed.cli(
        "trustee", "manifest", "draft", "--federation", old["federation"], "--version", "2",
        *entries, "--min-attestations", "2", "--out", str(draft),
    )  # fmt: skip
    for index in range(len(fed.trustees)):
        fed.cli("trustee", "manifest", "sign", str(draft), "--home", str(fed.trustee_home(index)))
    return draft


def test_a_manifest_change_is_explicit_and_logged(federation: Federation) -> None:
    federation.add_agent(company("castings"))
    home = federation.agent_home("castings")
    same = federation.cli(
        "agent", "manifest", "update", str(federation.manifest_path), "--yes", "--home", home,
        expect=1,
    )  # fmt: skip
    assert "already pinned" in same
    v2 = _new_version(federation)
    changed = federation.cli_json("agent", "manifest", "update", str(v2), "--home", home)
    v1_fingerprint = load_manifest(federation.manifest_path).fingerprint
    assert changed == {
        "old_fingerprint": v1_fingerprint,
        "new_fingerprint": load_manifest(v2).fingerprint,
    }
    history = federation.cli_json("agent", "manifest", "history", "--home", home)
    assert [(h["old_fingerprint"], h["new_fingerprint"]) for h in history] == [
        ("", v1_fingerprint),
        (v1_fingerprint, load_manifest(v2).fingerprint),
    ]
    older = federation.cli(
        "agent", "manifest", "update", str(federation.manifest_path), "--yes", "--home", home,
        expect=1,
    )  # fmt: skip
    assert "not newer than the pinned version 2" in older


def test_an_update_needs_confirmation(federation: Federation) -> None:
    federation.add_agent(company("castings"))
    v2 = _new_version(federation)
    result = federation.runner.invoke(
        app,
        ["agent", "manifest", "update", str(v2), "--home", federation.agent_home("castings")],
        input="n\n",
    )
    assert result.exit_code == 1 and "Pin this manifest?" in result.output
    history = federation.cli_json(
        "agent", "manifest", "history", "--home", federation.agent_home("castings")
    )
    assert len(history) == 1


def test_an_operator_holding_the_key_itself_is_refused_before_encryption(
    federation: Federation,
) -> None:
    """Attack 3 of issue 12 as far as the manifest goes: the operator enrols itself as two
    trustees and makes the campaign key theirs. The victim's default policy refuses it."""
    federation.add_agent(company("nordstahl"))
    federation.ensure_manifest()
    honest = list(federation.trustees)
    federation.trustees = [
        federation.add_trustee("operator-trustee-a"),
        federation.add_trustee("operator-trustee-b"),
    ]
    statements = []
    for name in ("operator-trustee-a", "operator-trustee-b"):
        path = federation.root / f"rigged.{name}.json"
        federation.cli(
            "trustee", "keygen", "--campaign", "rigged", "--out", str(path),
            "--bits", str(KEY_BITS), "--home", str(federation.root / name),
        )  # fmt: skip
        statements += ["--key-statement", str(path)]
    federation.operator(
        "campaign", "create", "--id", "rigged", "--kind", "benchmark", *statements,
        "--threshold", "2", "--period-start", "2024-01-01", "--period-end", "2024-12-31",
        "--metric", "scope1_kgco2e",
    )  # fmt: skip
    refused = federation.submit("nordstahl", "rigged", expect=1)
    for trustee_id in federation.trustees:
        assert f"key holder {trustee_id} is not a trustee of the pinned manifest" in refused
    assert "declined by local policy" in refused
    federation.trustees = honest
    receipts = federation.cli_json(
        "agent", "receipts", "--home", federation.agent_home("nordstahl")
    )
    assert receipts == []  # nothing was encrypted or sent


def test_a_registrar_attests_from_a_home_with_only_its_identity_key(
    federation: Federation,
) -> None:
    registrar_home = federation.root / "chamber"
    registrar_home.mkdir()
    entry = federation.root / "chamber.entry.json"
    federation.cli(
        "trustee", "manifest", "entry", "--home", str(registrar_home), "--registrar", "chamber",
        "--organisation", "Chamber of Commerce", "--out", str(entry),
    )  # fmt: skip
    assert sorted(p.name for p in registrar_home.iterdir()) == ["identity.pem"]
    v2 = _new_version(federation, registrar=entry)
    federation.operator("manifest", "install", str(v2))
    for index in range(len(federation.trustees)):
        federation.cli(
            "trustee", "manifest", "pin", str(v2), "--home", str(federation.trustee_home(index))
        )
    federation.manifest_path.write_text(v2.read_text())  # what new agents pin
    federation.add_agent(company("castings"))  # attested by trustee-1 and trustee-2
    home = federation.root / "agents" / "alpine"
    document = federation.cli_json(
        "agent", "init", "--home", str(home), "--organisation", "Alpine", "--invite",
        str(federation.invite("supplier")),
        "--legal-id", demo_legal_id("alpine"), "--manifest", str(v2),
    )  # fmt: skip
    pid = document["participant_id"]
    federation.attest(pid, trustees=1)
    # A registrar does not enrol: the operator writes it TLS credentials, and it signs its
    # calls with the identity key the installed manifest names.
    invite = federation.root / "chamber.invite.json"
    federation.operator(
        "manifest", "registrar-invite", "--registrar", "chamber", "--out", str(invite),
        "--coordinator-address", federation.address,
    )  # fmt: skip
    assert sorted(p.name for p in registrar_home.iterdir()) == ["identity.pem"]
    done = federation.cli_json(
        "trustee", "approve", "--participant", pid, "--yes", "--home", str(registrar_home),
        "--invite", str(invite), "--manifest", str(v2),
    )  # fmt: skip
    assert done == [{"participant_id": pid, "attested": True, "count": 2}]
    # With those credentials a registrar reads members and attests, and nothing else.
    key = signing.load_private_key(registrar_home / "identity.pem")
    with CoordinatorClient(
        federation.address, registrar_credentials(load_invite(invite), key)
    ) as client:
        assert client.members(pid)
        with pytest.raises(AgentError, match="PERMISSION_DENIED"):
            client.list_campaigns()
    # A registrar id the manifest does not name is nobody.
    other = signing.generate_signing_key()
    with (
        CoordinatorClient(
            federation.address, registrar_credentials(load_invite(invite), other)
        ) as client,
        pytest.raises(AgentError, match="UNAUTHENTICATED"),
    ):
        client.members(pid)
    listed = federation.cli_json(
        "coordinator", "participants", "--home", str(federation.coordinator_home)
    )
    assert {p["participant_id"]: p["attestations"] for p in listed}[pid] == 2


def test_someone_outside_the_manifest_cannot_approve(federation: Federation) -> None:
    federation.add_agent(company("castings"))
    stranger = federation.root / "stranger"
    stranger.mkdir()
    federation.cli(
        "trustee", "manifest", "entry", "--home", str(stranger), "--registrar", "x",
        "--organisation", "X",
    )  # fmt: skip
    out = federation.cli(
        "trustee", "approve", "--yes", "--home", str(stranger), "--coordinator",
        federation.address, "--manifest", str(federation.manifest_path), expect=1,
    )  # fmt: skip
    assert "neither a trustee nor a registrar" in out


def test_audit_verify_manifest(federation: Federation) -> None:
    federation.ensure_manifest()
    report = federation.cli_json("audit", "verify", "manifest", str(federation.manifest_path))
    assert report["valid"] is True
    document = json.loads(federation.manifest_path.read_text())
    document["min_attestations"] = 1
    tampered = federation.root / "tampered.json"
    tampered.write_text(json.dumps(document))
    result = federation.runner.invoke(
        app,
        ["audit", "verify", "manifest", str(tampered), "--json"],
    )
    assert result.exit_code == 1
    failure = json.loads(result.stdout)
    assert failure["valid"] is False and "changed after it signed" in failure["error"]


def test_hostile_attestations_and_enrolments_are_refused_naming_why(
    federation: Federation,
) -> None:
    from dataclasses import replace

    from agent.errors import CoordinatorUnavailable
    from fedcarbon.audit import signing
    from fedcarbon.federation.attestation import attest
    from fedcarbon.v1 import coordinator_pb2

    pid = federation.add_agent(company("castings"))
    trustee_key = signing.load_private_key(federation.trustee_home(2) / "identity.pem")
    with federation.client() as client:
        ((member, _),) = client.members(pid)
        other = replace(member, legal_id=demo_legal_id("someone-else"))
        with pytest.raises(CoordinatorUnavailable, match="another identity key, legal id"):
            client.submit_attestation(attest(trustee_key, other))
        forged = replace(attest(trustee_key, member), signature=bytes(64))
        with pytest.raises(CoordinatorUnavailable, match="does not verify"):
            client.submit_attestation(forged)
        with pytest.raises(CoordinatorUnavailable, match="keys must be 32 bytes"):
            client._call(
                client._participants.SubmitAttestation,
                coordinator_pb2.Attestation(participant_id=pid, attester_key=b"x"),
            )
        with pytest.raises(CoordinatorUnavailable, match="unknown participant"):
            client.members("nobody")
        identity = signing.generate_signing_key()
        with pytest.raises(CoordinatorUnavailable, match="check digits are wrong"):
            client.enrol(
                token=federation.token("supplier"),
                organisation="Bad Id GmbH",
                identity=identity,
                legal_id="LEI:5493001KJTIIGC8Y1R13",
            )
        with pytest.raises(CoordinatorUnavailable, match="must be sent as 'VAT:DE123456789'"):
            client.enrol(
                token=federation.token("supplier"),
                organisation="Lowercase GmbH",
                identity=identity,
                legal_id="vat:de 123456789",
            )
    bad = federation.cli(
        "agent", "init", "--home", str(federation.root / "bad"), "--organisation", "Bad",
        "--coordinator", federation.address, "--legal-id", "LEI:5493001KJTIIGC8Y1R13",
        expect=1,
    )  # fmt: skip
    assert "LEI check digits are wrong" in bad


def test_an_agent_declines_while_it_is_not_attested_enough(federation: Federation) -> None:
    """Its contribution would not count, and trustees would refuse the whole aggregate."""
    home = federation.root / "agents" / "fresh"
    document = federation.cli_json(
        "agent", "init", "--home", str(home), "--organisation", "Fresh GmbH", "--invite",
        str(federation.invite("supplier")),
        "--legal-id", demo_legal_id("fresh"), "--manifest", str(federation.ensure_manifest()),
    )  # fmt: skip
    federation.open_campaign("early")

    def status() -> str:
        (row,) = federation.cli_json("agent", "campaigns", "--home", str(home))
        return str(row["status"])

    assert "attested by 0 of the 2 trustees or registrars" in status()
    federation.attest(document["participant_id"], trustees=1)
    assert "attested by 1 of the 2" in status()
    federation.attest(document["participant_id"], trustees=2)
    assert status() == "ok"
