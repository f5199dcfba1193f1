"""Result evidence: who vouches for a release, checked against the reader's manifest."""

from tests.unit.test_shares import CAMPAIGN, TRUSTEES


def test_result_evidence_refuses_key_holders_outside_the_readers_manifest() -> None:
    from fedcarbon.evidence import ResultEvidence
    from fedcarbon.federation.manifest import Manifest, ManifestTrustee
    from fedcarbon.results import CampaignResult
    from tests.unit.keys import trustee_identity

    def trustee(name: str) -> ManifestTrustee:
        key = trustee_identity(name).public_key().public_bytes_raw()
        return ManifestTrustee(name, name, f"LEI:{name}", key, b"\x01" * 32, "")

    result = CampaignResult(CAMPAIGN.campaign_id, CAMPAIGN.state, 3)
    evidence = ResultEvidence(CAMPAIGN, result)
    full = Manifest("f", 1, tuple(trustee(t) for t in TRUSTEES))
    partial = Manifest("f", 1, (trustee("t1"),))
    assert not [p for p in evidence.problems(full) if "not a trustee of manifest" in p]
    outside = [p for p in evidence.problems(partial) if "not a trustee of manifest" in p]
    assert len(outside) == 2 and "key holder t2" in outside[0]
