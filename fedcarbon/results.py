"""Released statistics as domain values, and the trustees' signatures that vouch for them."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.campaign import Campaign, CampaignState

RESULT_CONTEXT = b"fedcarbon.v1.result"


@dataclass(frozen=True, slots=True)
class MetricResult:
    name: str
    unit: str
    scale: int
    sum_fixed: int

    @property
    def sum(self) -> Decimal:
        return Decimal(self.sum_fixed).scaleb(-self.scale)

    def mean(self, contributors: int) -> Decimal:
        return self.sum / contributors if contributors else Decimal(0)


@dataclass(frozen=True, slots=True)
class ResultSignature:
    """A trustee's Ed25519 signature over a released result (``result_message``)."""

    trustee_id: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class CampaignResult:
    campaign_id: str
    state: CampaignState
    contributors: int
    metrics: tuple[MetricResult, ...] = ()
    released_unix_ms: int = 0
    reason: str = ""
    aggregate_digest: bytes = b""
    epsilon: float = 0.0
    delta: float = 0.0
    nonzero: tuple[int, ...] = ()
    signatures: tuple[ResultSignature, ...] = ()

    def metric(self, name: str) -> MetricResult:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"campaign {self.campaign_id!r} released no metric {name!r}")


def result_message(result: CampaignResult, campaign_digest: bytes) -> bytes:
    """What trustees sign: the campaign's terms digest and every released figure.

    The coordinator's timestamps are left out (they are not the trustees' to vouch for);
    everything a reader acts on (contributors, per-metric sums and non-zero counts, the
    aggregate and the privacy parameters) is in.
    """
    lines = [
        result.campaign_id,
        campaign_digest.hex(),
        result.aggregate_digest.hex(),
        str(result.contributors),
        repr(result.epsilon),
        repr(result.delta),
        ",".join(str(count) for count in result.nonzero),
        *(f"{m.name}={m.sum_fixed}/{m.scale}" for m in result.metrics),
    ]
    return "\n".join(lines).encode()


def sign_result(
    identity: Ed25519PrivateKey, trustee_id: str, result: CampaignResult, campaign_digest: bytes
) -> ResultSignature:
    message = result_message(result, campaign_digest)
    return ResultSignature(trustee_id, signing.sign(identity, message, context=RESULT_CONTEXT))


def signing_trustees(result: CampaignResult, campaign: Campaign) -> tuple[list[str], list[str]]:
    """(trustees whose signature verifies, problems) against the key holders' own identity keys.

    The identity keys come from the campaign's signed key statements, which the agent has
    checked against its pinned federation manifest: the coordinator cannot add a signer.
    """
    keys = dict(campaign.key.holders())
    message = result_message(result, campaign.digest)
    valid: list[str] = []
    problems: list[str] = []
    for entry in result.signatures:
        key = keys.get(entry.trustee_id)
        if key is None:
            problems.append(f"{entry.trustee_id!r} is not a key holder of the campaign")
            continue
        try:
            signing.verify(key, message, entry.signature, context=RESULT_CONTEXT)
        except SignatureError as error:
            problems.append(f"signature of {entry.trustee_id!r}: {error}")
            continue
        if entry.trustee_id not in valid:
            valid.append(entry.trustee_id)
    return valid, problems


def signatures_sufficient(result: CampaignResult, campaign: Campaign) -> Sequence[str]:
    """Problems that stop a reader from trusting the result (empty: at least t trustees signed)."""
    valid, problems = signing_trustees(result, campaign)
    if len(valid) < campaign.key.threshold:
        problems.append(f"{len(valid)} valid trustee signature(s); {campaign.key.threshold} needed")
    return problems
