"""Small, real threshold keys for unit tests (generated once per process, cached)."""

from functools import cache

from fedcarbon.campaign import CampaignKey, KeyScheme
from fedcarbon.crypto.threshold import ThresholdPublicKey, generate_threshold_key


@cache
def threshold_public_key(parties: int = 3, threshold: int = 2) -> ThresholdPublicKey:
    public, _ = generate_threshold_key(512, parties, threshold, allow_insecure_size=True)
    return public


def threshold_campaign_key(trustees: tuple[str, ...], threshold: int = 2) -> CampaignKey:
    """A consistent t-of-n campaign key (n, threshold and trustee count all agree)."""
    public = threshold_public_key(len(trustees), threshold)
    return CampaignKey(KeyScheme.THRESHOLD, public.n, trustees, threshold, public.to_bytes())
