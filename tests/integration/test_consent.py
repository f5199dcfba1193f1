"""Consent per request: visible, revocable until submission, enforced by the agent."""

import pytest

from tests.integration.conftest import Federation, company

pytestmark = pytest.mark.slow


def test_consent_is_visible_revocable_until_submission_and_enforced(
    federation: Federation,
) -> None:
    federation.add_agent(company("alpine"))
    home = federation.agent_home("alpine")
    federation.open_campaign("asks", extra=("--distribution", "scope1_kgco2e:0:5000000"))

    (row,) = federation.cli_json("agent", "consent", "list", "--home", home)
    assert row["consent"] == "not decided"
    assert row["asks"] == "benchmark: participants, scope1_kgco2e (distribution)"

    federation.cli("agent", "consent", "revoke", "asks", "--home", home)
    refused = federation.submit("alpine", "asks", expect=1)
    assert "consent revoked" in refused
    skipped = federation.cli_json("agent", "submit", "--all-open", "--home", home)
    assert "consent revoked" in skipped["skipped"]["asks"] and skipped["submitted"] == []

    federation.cli("agent", "consent", "grant", "asks", "--home", home)
    federation.submit("alpine", "asks")
    too_late = federation.cli("agent", "consent", "revoke", "asks", "--home", home, expect=1)
    assert "already submitted (log entry" in too_late and "cannot be withdrawn" in too_late
    (row,) = federation.cli_json("agent", "consent", "list", "--home", home)
    assert row["consent"] == "submitted"


def test_with_require_consent_nothing_is_submitted_without_a_grant(
    federation: Federation,
) -> None:
    federation.add_agent(company("rhein"))
    home = federation.agent_home("rhein")
    config = federation.root / "agents" / "rhein" / "agent.toml"
    config.write_text(
        config.read_text().replace("require_consent = false", "require_consent = true")
    )
    federation.open_campaign("needs-consent")
    refused = federation.submit("rhein", "needs-consent", expect=1)
    assert "no consent given and [policy] require_consent is true" in refused
    federation.cli("agent", "consent", "grant", "needs-consent", "--home", home)
    federation.submit("rhein", "needs-consent")


def test_consent_for_an_unknown_campaign_is_refused_by_name(federation: Federation) -> None:
    federation.add_agent(company("alpine"))
    home = federation.agent_home("alpine")
    out = federation.cli("agent", "consent", "grant", "no-such", "--home", home, expect=1)
    assert "no-such" in out
