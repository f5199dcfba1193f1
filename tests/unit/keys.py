"""Small, real dealer-free campaign keys for unit tests (generated once per process, cached)."""

from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from phe import paillier

from fedcarbon.campaign import CampaignKey
from fedcarbon.trustee_keys import KeyStatement, sign_statement

UNIT_KEY_BITS = 512  # unit tests only; integration tests use 2048 (STYLE.md)


@cache
def trustee_identity(trustee_id: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@cache
def trustee_keypair(
    trustee_id: str, campaign_id: str, bits: int = UNIT_KEY_BITS
) -> tuple[paillier.PaillierPublicKey, paillier.PaillierPrivateKey]:
    public, private = paillier.generate_paillier_keypair(n_length=bits)
    return public, private


def shared_key(
    trustees: tuple[str, ...], threshold: int = 2, campaign_id: str = "c1"
) -> CampaignKey:
    """A campaign key whose statements each trustee signed for ``campaign_id``."""
    return CampaignKey(
        tuple(_statement(t, campaign_id) for t in trustees),
        threshold,
    )


@cache
def _statement(trustee_id: str, campaign_id: str) -> KeyStatement:
    private = trustee_keypair(trustee_id, campaign_id)[1]
    return sign_statement(trustee_identity(trustee_id), campaign_id, trustee_id, private)


def private_keys(
    trustees: tuple[str, ...], campaign_id: str = "c1"
) -> dict[str, paillier.PaillierPrivateKey]:
    return {t: trustee_keypair(t, campaign_id)[1] for t in trustees}
