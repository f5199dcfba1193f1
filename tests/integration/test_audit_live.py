"""The transparency log audited from outside: fetched over gRPC, verified offline."""

import json

from tests.integration.conftest import Federation, company


def _three_submissions(fed: Federation) -> None:
    for key in ("nordstahl", "castings", "alpine"):
        fed.add_agent(company(key))
    fed.open_campaign("audited")
    for key in ("nordstahl", "castings", "alpine"):
        fed.submit(key, "audited")


def _log_key(fed: Federation, agent: str) -> str:
    out = fed.root / "receipts"
    fed.cli("agent", "receipts", "--home", fed.agent_home(agent), "--export", str(out))
    return (out / "log-key.hex").read_text().strip()


def test_fetched_log_verifies_and_holds_every_receipt(federation: Federation) -> None:
    _three_submissions(federation)
    key = _log_key(federation, "alpine")
    report = federation.cli_json(
        "audit",
        "fetch",
        "--home",
        federation.agent_home("alpine"),
        "--log-key",
        key,
        "--out",
        str(federation.root / "log"),
    )
    assert report["valid"] is True
    log = json.loads((federation.root / "log" / "log.json").read_text())
    assert log["tree_head"]["tree_size"] == 3
    receipt = federation.root / "receipts" / "audited.receipt.json"
    federation.cli("audit", "verify", "receipt", str(receipt), "--log-key", key)


def test_an_old_head_is_proven_a_prefix_of_the_current_log(federation: Federation) -> None:
    for key in ("nordstahl", "castings", "alpine"):
        federation.add_agent(company(key))
    federation.open_campaign("first")
    federation.submit("nordstahl", "first")
    key = _log_key(federation, "nordstahl")
    old_head = federation.root / "old-head.json"
    old_head.write_text(
        json.dumps(
            json.loads((federation.root / "receipts" / "first.receipt.json").read_text())[
                "tree_head"
            ]
        )
    )
    federation.submit("castings", "first")
    federation.submit("alpine", "first")
    report = federation.cli_json(
        "audit",
        "fetch",
        "--home",
        federation.agent_home("alpine"),
        "--log-key",
        key,
        "--out",
        str(federation.root / "log"),
        "--since",
        str(old_head),
    )
    assert report["valid"] is True
    checked = federation.cli_json(
        "agent", "check-log", "--home", federation.agent_home("nordstahl")
    )
    assert checked["tree_size"] == 3
    assert checked["receipts"][0]["receipt_tree_size"] == 1


def test_a_wrong_log_key_is_rejected(federation: Federation) -> None:
    _three_submissions(federation)
    out = federation.cli(
        "audit",
        "fetch",
        "--home",
        federation.agent_home("alpine"),
        "--log-key",
        "11" * 32,
        "--out",
        str(federation.root / "log"),
        expect=1,
    )
    assert "invalid" in out
