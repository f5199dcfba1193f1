"""Trustees verify submissions as they arrive, once, so release work does not grow with N
(issue 14): a live federation on loopback, trustees polling while the campaign is open."""

from decimal import Decimal
from pathlib import Path

import pytest

from agent import trustee as trustee_module
from agent.demo_data import records_for
from agent.verified import VerifiedSubmissions, verified_key
from fedcarbon import shares
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.campaign import Campaign
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.submission import SignedSubmission
from tests.integration.conftest import Federation, company

pytestmark = pytest.mark.slow

MEMBERS = ("nordstahl", "castings", "alpine")


def test_submissions_are_verified_while_open_and_not_again_at_release(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in MEMBERS:
        federation.add_agent(company(key))
    federation.open_campaign("inc", metrics=("scope1_kgco2e", "participants"))
    for key in MEMBERS[:2]:
        federation.submit(key, "inc")
    # Trustees poll while the campaign is open: nothing to open yet, but they verify what the
    # log shows so far, and then only what arrived since.
    federation.run_trustees(rounds=1)
    for index in range(3):
        assert len(VerifiedSubmissions(federation.trustee_home(index), "inc")) == 2
    federation.submit(MEMBERS[2], "inc")
    federation.run_trustees(rounds=1)
    for index in range(3):
        assert len(VerifiedSubmissions(federation.trustee_home(index), "inc")) == 3

    # From now on, no submission's proofs are checked again: count what goes to the checker.
    checked: list[int] = []
    real_unproven = shares.unproven

    def counting(campaign: Campaign, vectors: list[tuple[object, ...]]) -> list[int]:
        checked.append(len(vectors))
        return real_unproven(campaign, vectors)  # type: ignore[arg-type]

    monkeypatch.setattr(trustee_module.shares, "unproven", counting)
    federation.operator("campaign", "close", "inc")
    federation.run_trustees()
    result = federation.cli_json(
        "coordinator", "campaign", "result", "inc", "--home", str(federation.coordinator_home)
    )
    assert result["state"] == "released"
    expected = sum(
        to_fixed(Decimal(repr(compute_footprint(records_for(company(k))).scope1_kgco2e)), 3)
        for k in MEMBERS
    )
    assert to_fixed(Decimal(str(result["metrics"]["scope1_kgco2e"]["sum"])), 3) == expected
    # Submissions' proofs: none re-checked (noise shares, if any, are other calls).
    assert sum(checked) == 0, checked


def test_a_changed_submission_is_not_taken_as_verified(tmp_path: Path) -> None:
    """The cache names exactly what was checked: another key, body or signature misses."""
    signed = SignedSubmission(b"body", b"signature")
    cache = VerifiedSubmissions(tmp_path, "c1")
    key = verified_key(b"digest", b"identity", signed)
    cache.add([key])
    reloaded = VerifiedSubmissions(tmp_path, "c1")
    assert key in reloaded
    for other in (
        verified_key(b"digest2", b"identity", signed),
        verified_key(b"digest", b"identity2", signed),
        verified_key(b"digest", b"identity", SignedSubmission(b"body2", b"signature")),
        verified_key(b"digest", b"identity", SignedSubmission(b"body", b"signature2")),
    ):
        assert other not in reloaded
    assert key not in VerifiedSubmissions(tmp_path, "c2")  # per campaign
    # A line cut short by a crash is ignored, the rest kept.
    path = next((tmp_path / "verified").iterdir())
    path.write_text(path.read_text() + key[:20])
    again = VerifiedSubmissions(tmp_path, "c1")
    assert key in again and len(again) == 1
