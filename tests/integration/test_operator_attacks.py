"""Issue 12, attack 3: the operator makes itself the trustees of a campaign and reads a figure.

The operator issues itself trustee tokens, enrols two trustee homes it controls, makes both
campaign keys and opens a 2-of-2 campaign. Without a pinned federation manifest, a supplier's
default policy sees "2-of-2" and a valid signature on every key statement, and submits; the
operator then opens the supplier's own submission straight from the public log with both of
its keys. With the manifest pinned, the agent refuses the campaign before encrypting anything.
"""

from decimal import Decimal

import pytest

from agent.trustee import KeyRing
from fedcarbon import serde, shares
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.crypto.opening import Opening
from tests.integration.conftest import Federation, company

pytestmark = pytest.mark.slow


def _operator_trustees(fed: Federation) -> list[str]:
    """Two trustee identities the operator enrols for itself with tokens it issued."""
    ids = []
    for name in ("operator-trustee-a", "operator-trustee-b"):
        document = fed.cli_json(
            "trustee", "init", "--home", str(fed.root / name), "--organisation", name,
            "--invite", str(fed.invite("trustee")),
        )  # fmt: skip
        ids.append(str(document["participant_id"]))
    return ids


def _open_rigged_campaign(fed: Federation) -> None:
    statements = []
    for name in ("operator-trustee-a", "operator-trustee-b"):
        path = fed.root / f"rigged.{name}.json"
        fed.cli(
            "trustee", "keygen", "--campaign", "rigged", "--out", str(path), "--bits", "2048",
            "--home", str(fed.root / name),
        )  # fmt: skip
        statements += ["--key-statement", str(path)]
    fed.operator(
        "campaign", "create", "--id", "rigged", "--kind", "benchmark", *statements,
        "--threshold", "2", "--period-start", "2024-01-01", "--period-end", "2024-12-31",
        "--metric", "scope1_kgco2e", "--k", "3",
    )  # fmt: skip


def _operator_reads_the_log(fed: Federation, trustee_ids: list[str]) -> int:
    """Open the first logged submission with both operator-held keys: the victim's figure."""
    with fed.client() as client:
        campaign = client.get_campaign("rigged")
        entry = client.entries(0, 1)[0]
    body = serde.body_from_bytes(serde.signed_from_entry(entry).body)
    opened = {}
    for index, (trustee_id, name) in enumerate(
        zip(trustee_ids, ("operator-trustee-a", "operator-trustee-b"), strict=True)
    ):
        blobs = KeyRing(fed.root / name).open_part(campaign, trustee_id, body.ciphertexts, "values")
        n = campaign.key.moduli[index]
        opened[index] = [Opening.from_bytes(b, n).plaintext for b in blobs]
    totals = shares.reconstruct(campaign, opened)
    assert totals is not None
    return totals[0] + campaign.metrics[0].min


def test_without_the_manifest_check_the_operator_reads_a_figure_from_the_log(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack, as it works when the agent trusts whatever key holders it is shown: the
    defence removed, the operator recovers the victim's figure to the gram. With it (the
    default policy), the victim refuses before encrypting anything:
    tests/integration/test_manifest.py::test_an_operator_holding_the_key_itself_is_refused_before_encryption
    and the test below."""
    import agent.cli

    monkeypatch.setattr(agent.cli, "manifest_refusals", lambda *_: [])
    fed = federation
    fed.add_agent(company("castings"))
    trustee_ids = _operator_trustees(fed)
    _open_rigged_campaign(fed)
    preview = fed.cli_json("agent", "preview", "rigged", "--home", fed.agent_home("castings"))
    figure = preview["stays_here_encrypted_before_sending"]["scope1_kgco2e"]["fixed_point"]
    fed.submit("castings", "rigged")
    assert _operator_reads_the_log(fed, trustee_ids) == figure
    assert figure == to_fixed(
        Decimal(preview["stays_here_encrypted_before_sending"]["scope1_kgco2e"]["value"]), 3
    )


def test_with_the_pinned_manifest_the_victim_refuses_and_nothing_is_logged(
    federation: Federation,
) -> None:
    fed = federation
    fed.add_agent(company("castings"))
    trustee_ids = _operator_trustees(fed)
    _open_rigged_campaign(fed)
    refused = fed.submit("castings", "rigged", expect=1)
    for trustee_id in trustee_ids:
        assert f"key holder {trustee_id} is not a trustee of the pinned manifest" in refused
    with fed.client() as client:
        assert client.tree_head().tree_size == 0  # nothing of the victim's ever left
