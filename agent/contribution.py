"""Turning a footprint into what leaves the building: encoded, packed, encrypted, signed.

The steps are the DESIGN.md data flow: Footprint -> campaign metric vector -> fixed-point
integers at the schema's scale -> offset slot values and non-zero indicators -> Shamir
shares, packed per trustee -> Paillier ciphertexts under each trustee's own key, each with a
proof of plaintext knowledge -> a SubmissionBody bound to the campaign digest -> Ed25519
signature (fedcarbon.shares, docs/threshold.md).
"""

import secrets
import time
from dataclasses import dataclass
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon import serde, shares
from fedcarbon.accounting.engine import Footprint
from fedcarbon.campaign import Campaign
from fedcarbon.crypto import vector
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.crypto.errors import EncodingError
from fedcarbon.errors import MetricError
from fedcarbon.metrics import metric_values
from fedcarbon.submission import (
    SignedSubmission,
    SubmissionBody,
    sign_body,
    submission_proof_context,
)

NONCE_BYTES = 16


@dataclass(frozen=True)
class Contribution:
    """The plaintext side of a submission: it never leaves the agent."""

    campaign: Campaign
    values: dict[str, Decimal]
    fixed: list[int]
    slot_values: list[int]
    indicators: list[int]


def prepare(
    footprint: Footprint, campaign: Campaign, *, buyer_name: str | None = None
) -> Contribution:
    """Compute, encode and pack the campaign's metrics; refuse values outside their bounds."""
    values = metric_values(footprint, campaign, buyer_name=buyer_name)
    fixed = []
    for metric in campaign.metrics:
        encoded = to_fixed(values[metric.name], metric.scale, name=metric.name)
        if not metric.min <= encoded <= metric.max:
            raise MetricError(
                f"campaign {campaign.campaign_id!r}: {metric.name} = {values[metric.name]} "
                f"{metric.unit} is outside the campaign's bounds "
                f"[{Decimal(metric.min).scaleb(-metric.scale)}, "
                f"{Decimal(metric.max).scaleb(-metric.scale)}]"
            )
        fixed.append(encoded)
    try:
        slot_values = shares.offset_values(campaign, fixed)
    except EncodingError as error:
        raise MetricError(f"campaign {campaign.campaign_id!r}: {error}") from None
    return Contribution(campaign, values, fixed, slot_values, shares.indicators(fixed))


DAY_MS = 86_400_000


def day_of(unix_ms: int) -> int:
    """Round a time down to 00:00 UTC of its day: the log is public, and a submission's
    millisecond would help link it to the network traffic or the organisation that sent it."""
    return unix_ms - unix_ms % DAY_MS


def encrypt_and_sign(
    contribution: Contribution,
    participant_id: str,
    identity: Ed25519PrivateKey,
    pools: shares.CampaignPools | None = None,
) -> SignedSubmission:
    """The signed submission; ``pools`` (filled while the footprint was computed) make the
    encryption and proofs a few multiplications."""
    campaign = contribution.campaign
    moduli = campaign.moduli
    context = submission_proof_context(campaign.digest, participant_id)
    plaintexts = shares.share_vector(campaign, contribution.slot_values, contribution.indicators)
    ciphertexts, proofs = shares.encrypt(campaign, plaintexts, context, pools)
    body = SubmissionBody(
        campaign_id=campaign.campaign_id,
        participant_id=participant_id,
        campaign_digest=campaign.digest,
        ciphertexts=tuple(vector.to_bytes(ciphertexts, moduli)),
        nonce=secrets.token_bytes(NONCE_BYTES),
        created_unix_ms=day_of(int(time.time() * 1000)),
        proofs=tuple(proofs),
    )
    return sign_body(identity, serde.body_to_bytes(body))
