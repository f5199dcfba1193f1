"""CBAM operator-to-importer exchange on loopback with a real coordinator (issue 16).

An operator computes its goods' SEE, sends the communication sealed to the importer through
the coordinator, and the importer opens it and declares with it. The coordinator's database
(SQLite file and WAL) must hold only ciphertext: canary figures (the SEE values in every
textual and binary form they could take, the installation's name, id and a process figure)
are searched for; positive controls (the sealed blob and the message id, which are meant to
be stored) show the search finds what is there.
"""

import json
import struct
from pathlib import Path

import pytest
from sqlmodel import Session, select

from agent.errors import CoordinatorUnavailable
from agent.exchange import ExchangeClient
from coordinator.exchange import ExchangeMessageRow
from fedcarbon.audit import signing
from fedcarbon.audit.receipts import Receipt, verify_log_export, verify_receipt
from fedcarbon.audit.remote import RemoteLog
from fedcarbon.audit.signing import generate_signing_key
from fedcarbon.cbam.envelope import MAX_SEALED_BYTES
from fedcarbon.transport import home_credentials
from tests.integration.conftest import Federation, company

pytestmark = pytest.mark.slow

PROCESS_CANARY = 91234.5678
INSTALLATION = f"""
[installation]
id = "CANARY-INST-7731"
name = "Canary Steelworks Qx7"
country = "IN"
period = "2026"
electricity_emission_factor = 0.7123

[[source_streams]]
name = "blast furnace gas"
method = "measured"
measured_t_co2e = {PROCESS_CANARY}
process = "bf"

[[processes]]
name = "bf"
good = "Pig iron"
cn_code = "7201"
activity_level = 73456.789
electricity_consumed_mwh = 1234.5

[[processes]]
name = "hrc"
good = "Hot-rolled coil"
cn_code = "7208"
route = "C"
activity_level = 51234.5
electricity_consumed_mwh = 8765.4

[[processes.precursors]]
source = "bf"
amount = 60123.4
"""


def _needles(value: float) -> list[bytes]:
    texts = {repr(value), f"{value:.10g}", f"{value:.8f}", f"{value:.7g}"}
    return [t.encode() for t in texts] + [struct.pack("<d", value), struct.pack(">d", value)]


def _database_bytes(fed: Federation) -> bytes:
    home = fed.coordinator_home
    return b"".join(
        path.read_bytes()
        for path in (home / "coordinator.sqlite", home / "coordinator.sqlite-wal")
        if path.exists()
    )


def test_operator_sends_sealed_figures_importer_declares_coordinator_sees_ciphertext(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    operator_id = fed.add_agent(company("nordstahl"), name="operator")
    importer_id = fed.add_agent(company("helix"), name="importer")
    operator, importer = fed.agent_home("operator"), fed.agent_home("importer")

    keys = fed.cli_json("agent", "cbam", "key", "--home", importer)
    operator_keys = fed.cli_json("agent", "cbam", "key", "--home", operator)

    installation = tmp_path / "installation.toml"
    installation.write_text(INSTALLATION)
    communication = tmp_path / "communication.json"
    computed = fed.cli_json(
        "cbam", "compute", str(installation), "--communication", str(communication)
    )
    see = [v for g in computed["goods"] for v in (g["see_direct"], g["see_indirect"])]

    # A fingerprint that is not the importer's: nothing is sent.
    wrong = "0" * 64
    refused = fed.cli(
        "agent", "cbam", "send", str(communication), "--to", importer_id,
        "--fingerprint", wrong, "--home", operator, expect=1,
    )  # fmt: skip
    assert "do not send" in refused

    sent = fed.cli_json(
        "agent", "cbam", "send", str(communication), "--to", importer_id,
        "--fingerprint", keys["exchange_key_fingerprint"], "--home", operator,
    )  # fmt: skip
    assert not sent["duplicate"]
    saved = json.loads(Path(sent["receipt"]).read_text())
    receipt = Receipt.from_dict(saved["receipt"])
    with RemoteLog(fed.address, home_credentials(Path(fed.agent_home("importer")))) as remote:
        head = remote.tree_head()
        log_key = fed.server.log.public_key
        verify_receipt(receipt, log_key)
        export = remote.export(log_key)
    verify_log_export(export, log_key)
    assert export.entries[receipt.leaf_index] == receipt.entry
    assert head.tree_size == receipt.leaf_index + 1

    out = tmp_path / "received"
    inbox = fed.cli_json(
        "agent", "cbam", "inbox", "--home", importer, "--out", str(out),
        "--pin", f"{operator_id}={operator_keys['identity_fingerprint']}",
    )  # fmt: skip
    (message,) = inbox["messages"]
    assert (message["sender"], message["pinned"]) == (operator_id, True)
    assert Path(message["file"]).read_bytes() == communication.read_bytes()

    customs = tmp_path / "customs.csv"
    customs.write_text(
        "year,cn_code,country,installation,net_mass_t\n2026,72083900,IND,CANARY-INST-7731,120\n"
    )
    declared = fed.cli_json("cbam", "declaration", str(customs), "--received", message["file"])
    (year,) = declared["years"]
    hrc = computed["goods"][1]
    assert year["embedded_t_co2e"] == pytest.approx(120 * hrc["see_direct"])

    database = _database_bytes(fed)
    sealed_blobs = [m for m in database.split(b"FCS\x01")[1:] if m]
    assert sealed_blobs, "positive control: the sealed blob is stored"
    assert sent["message_id"].encode() in database, "positive control: the message id is stored"
    plaintext = communication.read_bytes()
    assert all(any(n in plaintext for n in _needles(v)) for v in see if v > 0), (
        "positive control: the needles match how the figures are written"
    )
    canaries = [b"CANARY-INST-7731", b"Canary Steelworks Qx7", b"Hot-rolled coil"]
    canaries += _needles(PROCESS_CANARY) + [n for v in see if v > 0 for n in _needles(v)]
    leaked = [c for c in canaries if c in database]
    assert not leaked, f"plaintext in the coordinator's database: {leaked}"


def test_another_participant_gets_nothing_from_the_inbox(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    fed.add_agent(company("nordstahl"), name="operator")
    importer_id = fed.add_agent(company("helix"), name="importer")
    fed.add_agent(company("helix"), name="stranger")
    keys = fed.cli_json("agent", "cbam", "key", "--home", fed.agent_home("importer"))
    fed.cli_json("agent", "cbam", "key", "--home", fed.agent_home("stranger"))
    installation = tmp_path / "installation.toml"
    installation.write_text(INSTALLATION)
    communication = tmp_path / "communication.json"
    fed.cli("cbam", "compute", str(installation), "--communication", str(communication))
    args = ("agent", "cbam", "send", str(communication), "--to", importer_id, "--fingerprint")
    fed.cli_json(*args, keys["exchange_key_fingerprint"], "--home", fed.agent_home("operator"))
    stranger = fed.cli_json(
        "agent", "cbam", "inbox", "--home", fed.agent_home("stranger"),
        "--out", str(tmp_path / "s"),
    )  # fmt: skip
    assert stranger["messages"] == []


def test_exchange_refuses_forged_senders_and_unknown_recipients(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    operator_id = fed.add_agent(company("nordstahl"), name="operator")
    importer_id = fed.add_agent(company("helix"), name="importer")
    fed.cli_json("agent", "cbam", "key", "--home", fed.agent_home("importer"))
    impostor = generate_signing_key()
    with ExchangeClient(fed.address, home_credentials(Path(fed.agent_home("operator")))) as client:
        with pytest.raises(CoordinatorUnavailable, match=r"send signature.*UNAUTHENTICATED"):
            client.send(operator_id, importer_id, b"FCS\x01" + b"x" * 64, impostor)
        identity = signing.load_private_key(Path(fed.agent_home("operator")) / "identity.pem")
        with pytest.raises(CoordinatorUnavailable, match=r"not an enrolled participant.*NOT_FOUND"):
            client.send(operator_id, "nobody-00000000", b"FCS\x01" + b"x" * 64, identity)
        with pytest.raises(CoordinatorUnavailable, match="published no exchange key"):
            client.send(operator_id, operator_id, b"FCS\x01" + b"x" * 64, identity)
        with pytest.raises(CoordinatorUnavailable, match="sealed must hold"):
            client.send(operator_id, importer_id, b"x" * (MAX_SEALED_BYTES + 1), identity)
        with pytest.raises(CoordinatorUnavailable, match="inbox signature"):
            client.inbox(importer_id, impostor)


def test_a_tampered_blob_is_refused_by_the_importer(federation: Federation, tmp_path: Path) -> None:
    fed = federation
    operator_id = fed.add_agent(company("nordstahl"), name="operator")
    importer_id = fed.add_agent(company("helix"), name="importer")
    fed.cli_json("agent", "cbam", "key", "--home", fed.agent_home("importer"))
    identity = signing.load_private_key(Path(fed.agent_home("operator")) / "identity.pem")
    with ExchangeClient(fed.address, home_credentials(Path(fed.agent_home("operator")))) as client:
        # Well signed by the operator, but not a valid sealed box for the importer's key.
        client.send(operator_id, importer_id, b"FCS\x01" + bytes(range(256)), identity)
    result = fed.cli(
        "agent", "cbam", "inbox", "--home", fed.agent_home("importer"),
        "--out", str(tmp_path / "in"), expect=1,
    )  # fmt: skip
    assert "does not open" in result


def test_a_coordinator_cannot_steer_where_the_inbox_writes(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    fed.add_agent(company("nordstahl"), name="operator")
    importer_id = fed.add_agent(company("helix"), name="importer")
    keys = fed.cli_json("agent", "cbam", "key", "--home", fed.agent_home("importer"))
    installation = tmp_path / "installation.toml"
    installation.write_text(INSTALLATION)
    communication = tmp_path / "communication.json"
    fed.cli("cbam", "compute", str(installation), "--communication", str(communication))
    fed.cli_json(
        "agent", "cbam", "send", str(communication), "--to", importer_id,
        "--fingerprint", keys["exchange_key_fingerprint"], "--home", fed.agent_home("operator"),
    )  # fmt: skip
    # The operator of the coordinator runs the database: it rewrites the sender's id.
    with Session(fed.server.engine) as session:
        (row,) = session.exec(select(ExchangeMessageRow)).all()
        row.sender_id = "../../outside"
        session.add(row)
        session.commit()
    out = tmp_path / "in"
    result = fed.cli(
        "agent", "cbam", "inbox", "--home", fed.agent_home("importer"), "--out", str(out),
        expect=1,
    )  # fmt: skip
    assert "malformed sender id" in result
    assert not (tmp_path / "outside").exists() and not list(tmp_path.glob("**/outside*"))


def test_a_blob_swapped_in_the_database_is_not_in_the_log(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    fed.add_agent(company("nordstahl"), name="operator")
    importer_id = fed.add_agent(company("helix"), name="importer")
    keys = fed.cli_json("agent", "cbam", "key", "--home", fed.agent_home("importer"))
    installation = tmp_path / "installation.toml"
    installation.write_text(INSTALLATION)
    communication = tmp_path / "communication.json"
    fed.cli("cbam", "compute", str(installation), "--communication", str(communication))
    fed.cli_json(
        "agent", "cbam", "send", str(communication), "--to", importer_id,
        "--fingerprint", keys["exchange_key_fingerprint"], "--home", fed.agent_home("operator"),
    )  # fmt: skip
    # Whoever runs the database alters the stored blob after it was logged.
    with Session(fed.server.engine) as session:
        (row,) = session.exec(select(ExchangeMessageRow)).all()
        row.sealed = row.sealed[:-1] + bytes([row.sealed[-1] ^ 1])
        session.add(row)
        session.commit()
    result = fed.cli(
        "agent", "cbam", "inbox", "--home", fed.agent_home("importer"),
        "--out", str(tmp_path / "in"), expect=1,
    )  # fmt: skip
    assert "inclusion" in result, result


def test_a_campaign_is_still_released_when_the_log_holds_exchange_receipts(
    federation: Federation, tmp_path: Path
) -> None:
    """Trustees read the whole log before decrypting: an exchange receipt in it is a typed
    entry, not a malformed submission, so it must not make them refuse every campaign."""
    fed = federation
    importer_id = fed.add_agent(company("helix"), name="importer")
    members = ("nordstahl", "castings", "alpine")
    for key in members:
        fed.add_agent(company(key))
    keys = fed.cli_json("agent", "cbam", "key", "--home", fed.agent_home("importer"))
    installation = tmp_path / "installation.toml"
    installation.write_text(INSTALLATION)
    communication = tmp_path / "communication.json"
    fed.cli("cbam", "compute", str(installation), "--communication", str(communication))
    args = ("agent", "cbam", "send", str(communication), "--to", importer_id, "--fingerprint")
    fed.cli_json(*args, keys["exchange_key_fingerprint"], "--home", fed.agent_home("nordstahl"))
    fed.open_campaign("after-exchange")
    for key in members:
        fed.submit(key, "after-exchange")
    fed.operator("campaign", "close", "after-exchange")
    fed.run_trustees()
    result = fed.cli_json(
        "coordinator", "campaign", "result", "after-exchange", "--home", str(fed.coordinator_home)
    )
    assert result["state"] == "released", result["reason"]
