"""The one place protobuf messages and domain values meet (x_to_proto / x_from_proto).

Protobuf stays at the edge: servicers and clients call these, the core never sees a message.
Malformed input raises WireError naming the field.
"""

from datetime import date

from fedcarbon.audit.receipts import Receipt
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.campaign import (
    Campaign,
    CampaignKey,
    CampaignKind,
    CampaignState,
    MetricSpec,
    key_problems,
    planned_packing,
)
from fedcarbon.crypto.errors import CryptoError
from fedcarbon.crypto.packing import PackingLayout
from fedcarbon.decryption import DecryptionShare, NoiseShare
from fedcarbon.errors import FedcarbonError, WireError
from fedcarbon.federation.attestation import Attestation, Member
from fedcarbon.results import CampaignResult, MetricResult, ResultSignature
from fedcarbon.submission import SignedSubmission, SubmissionBody, entry_id
from fedcarbon.trustee_keys import KeyStatement
from fedcarbon.v1 import campaign_pb2, coordinator_pb2, result_pb2, submission_pb2

_KINDS = {
    CampaignKind.SUPPLY_CHAIN: campaign_pb2.CAMPAIGN_KIND_SUPPLY_CHAIN,
    CampaignKind.BENCHMARK: campaign_pb2.CAMPAIGN_KIND_BENCHMARK,
}
_STATES = {
    CampaignState.OPEN: campaign_pb2.CAMPAIGN_STATE_OPEN,
    CampaignState.AGGREGATED: campaign_pb2.CAMPAIGN_STATE_AGGREGATED,
    CampaignState.RELEASED: campaign_pb2.CAMPAIGN_STATE_RELEASED,
    CampaignState.FAILED: campaign_pb2.CAMPAIGN_STATE_FAILED,
}
_RETIRED_SCHEMES = (campaign_pb2.KEY_SCHEME_SINGLE_HOLDER, campaign_pb2.KEY_SCHEME_THRESHOLD)


def _reverse(table: dict) -> dict:  # type: ignore[type-arg]
    return {value: key for key, value in table.items()}


def int_to_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def state_to_proto(state: CampaignState) -> "campaign_pb2.CampaignState.ValueType":
    return _STATES[state]


def state_from_proto(state: "campaign_pb2.CampaignState.ValueType") -> CampaignState:
    try:
        return _reverse(_STATES)[state]  # type: ignore[no-any-return]
    except KeyError:
        raise WireError(f"campaign.state: unknown value {state}") from None


def campaign_to_proto(campaign: Campaign) -> campaign_pb2.Campaign:
    return campaign_pb2.Campaign(
        campaign_id=campaign.campaign_id,
        kind=_KINDS[campaign.kind],
        title=campaign.title,
        period_start=campaign.period_start.isoformat(),
        period_end=campaign.period_end.isoformat(),
        schema=campaign_pb2.MetricSchema(
            metrics=[
                campaign_pb2.Metric(
                    name=m.name,
                    unit=m.unit,
                    scale=m.scale,
                    min=m.min,
                    max=m.max,
                    description=m.description,
                )
                for m in campaign.metrics
            ]
        ),
        min_contributors=campaign.min_contributors,
        max_contributors=campaign.max_contributors,
        key=key_to_proto(campaign.key),
        packing=campaign_pb2.Packing(
            slot_bits=campaign.packing.slot_bits,
            slots_per_ciphertext=campaign.packing.slots_per_ciphertext,
            ciphertexts=campaign.packing.ciphertexts,
        ),
        privacy=campaign_pb2.PrivacyParams(epsilon=campaign.epsilon, delta=campaign.delta),
        buyer_id=campaign.buyer_id,
        invited_participants=list(campaign.invited),
        cohort=campaign.cohort,
        state=_STATES[campaign.state],
        created_unix_ms=campaign.created_unix_ms,
        digest=campaign.digest,
    )


def campaign_from_proto(message: campaign_pb2.Campaign) -> Campaign:
    """Rebuild a campaign and check that its digest matches its terms."""
    where = f"campaign {message.campaign_id!r}"
    if message.key.scheme in _RETIRED_SCHEMES:
        raise WireError(
            f"{where}: uses a retired key scheme (a dealt key, fedcarbon 0.1); dealer-free keys "
            "are required: run `fedcarbon coordinator migrate` and re-open the campaign"
        )
    if message.key.scheme != campaign_pb2.KEY_SCHEME_SHARED:
        raise WireError(f"{where}: unknown key scheme {message.key.scheme}")
    try:
        kind = _reverse(_KINDS)[message.kind]
        start = date.fromisoformat(message.period_start)
        end = date.fromisoformat(message.period_end)
    except (KeyError, ValueError) as error:
        raise WireError(f"{where}: malformed kind, key scheme or period ({error})") from None
    campaign = Campaign(
        campaign_id=message.campaign_id,
        kind=kind,
        title=message.title,
        period_start=start,
        period_end=end,
        metrics=tuple(
            MetricSpec(m.name, m.unit, m.scale, m.min, m.max, m.description)
            for m in message.schema.metrics
        ),
        key=key_from_proto(message.key, message.campaign_id),
        packing=PackingLayout(
            message.packing.slot_bits,
            message.packing.slots_per_ciphertext,
            message.packing.ciphertexts,
        ),
        min_contributors=message.min_contributors,
        max_contributors=message.max_contributors,
        epsilon=message.privacy.epsilon,
        delta=message.privacy.delta,
        buyer_id=message.buyer_id,
        invited=tuple(message.invited_participants),
        cohort=message.cohort,
        state=state_from_proto(message.state),
        created_unix_ms=message.created_unix_ms,
    )
    if message.digest and message.digest != campaign.digest:
        raise WireError(f"{where}: digest does not match the campaign's terms")
    problems = key_problems(campaign.key, campaign.campaign_id)
    if problems:
        raise WireError(f"{where}: inconsistent key: {'; '.join(problems)}")
    try:
        expected = planned_packing(
            campaign.metrics,
            campaign.max_contributors,
            campaign.key,
            campaign.epsilon,
            campaign.delta,
        )
    except (CryptoError, FedcarbonError) as error:
        raise WireError(f"{where}: terms admit no packing ({error})") from None
    if campaign.packing != expected:
        raise WireError(f"{where}: packing layout does not follow from the campaign's terms")
    return campaign


def key_to_proto(key: CampaignKey) -> campaign_pb2.CampaignKey:
    return campaign_pb2.CampaignKey(
        scheme=campaign_pb2.KEY_SCHEME_SHARED,
        trustee_ids=list(key.trustee_ids),
        threshold=key.threshold,
        trustee_keys=[
            campaign_pb2.TrusteeKey(
                trustee_id=s.trustee_id,
                identity_public_key=s.identity_key,
                paillier_n=int_to_bytes(s.paillier_n),
                signature=s.signature,
                hs=int_to_bytes(s.hs),
                hs_proof=s.hs_proof,
            )
            for s in key.statements
        ],
    )


def key_from_proto(message: campaign_pb2.CampaignKey, campaign_id: str) -> CampaignKey:
    """The signed statements of a campaign key (signatures are checked by key_problems)."""
    if [k.trustee_id for k in message.trustee_keys] != list(message.trustee_ids):
        raise WireError(f"campaign {campaign_id!r}: key.trustee_keys do not follow key.trustee_ids")
    return CampaignKey(
        statements=tuple(
            KeyStatement(
                campaign_id=campaign_id,
                trustee_id=k.trustee_id,
                identity_key=k.identity_public_key,
                paillier_n=int.from_bytes(k.paillier_n, "big"),
                signature=k.signature,
                hs=int.from_bytes(k.hs, "big"),
                hs_proof=k.hs_proof,
            )
            for k in message.trustee_keys
        ),
        threshold=message.threshold,
    )


def body_to_bytes(body: SubmissionBody) -> bytes:
    return submission_pb2.SubmissionBody(
        campaign_id=body.campaign_id,
        participant_id=body.participant_id,
        campaign_digest=body.campaign_digest,
        ciphertexts=list(body.ciphertexts),
        nonce=body.nonce,
        created_unix_ms=body.created_unix_ms,
        proofs=list(body.proofs),
    ).SerializeToString(deterministic=True)


def body_from_bytes(raw: bytes) -> SubmissionBody:
    message = submission_pb2.SubmissionBody()
    try:
        message.ParseFromString(raw)
    except Exception:  # protobuf's DecodeError is not exported consistently
        raise WireError("submission.body: not a SubmissionBody message") from None
    return SubmissionBody(
        campaign_id=message.campaign_id,
        participant_id=message.participant_id,
        campaign_digest=message.campaign_digest,
        ciphertexts=tuple(message.ciphertexts),
        nonce=message.nonce,
        created_unix_ms=message.created_unix_ms,
        proofs=tuple(message.proofs),
    )


def signed_to_proto(signed: SignedSubmission) -> submission_pb2.SignedSubmission:
    return submission_pb2.SignedSubmission(body=signed.body, signature=signed.signature)


def signed_from_proto(message: submission_pb2.SignedSubmission) -> SignedSubmission:
    return SignedSubmission(message.body, message.signature)


def signed_to_entry(signed: SignedSubmission) -> bytes:
    """The transparency-log entry for a submission: its deterministic serialisation."""
    return signed_to_proto(signed).SerializeToString(deterministic=True)


def signed_from_entry(entry: bytes) -> SignedSubmission:
    message = submission_pb2.SignedSubmission()
    try:
        message.ParseFromString(entry)
    except Exception:
        raise WireError("log entry: not a SignedSubmission message") from None
    return signed_from_proto(message)


def result_to_proto(result: CampaignResult) -> result_pb2.CampaignResult:
    return result_pb2.CampaignResult(
        campaign_id=result.campaign_id,
        state=_STATES[result.state],
        contributors=result.contributors,
        metrics=[
            result_pb2.MetricResult(
                name=m.name,
                unit=m.unit,
                scale=m.scale,
                sum_fixed=str(m.sum_fixed),
                sum=float(m.sum),
                mean=float(m.mean(result.contributors)),
            )
            for m in result.metrics
        ],
        released_unix_ms=result.released_unix_ms,
        reason=result.reason,
        aggregate_digest=result.aggregate_digest,
        privacy=campaign_pb2.PrivacyParams(epsilon=result.epsilon, delta=result.delta),
        nonzero=list(result.nonzero),
        signatures=[
            result_pb2.ResultSignature(trustee_id=s.trustee_id, signature=s.signature)
            for s in result.signatures
        ],
    )


def result_from_proto(message: result_pb2.CampaignResult) -> CampaignResult:
    try:
        metrics = tuple(
            MetricResult(m.name, m.unit, m.scale, int(m.sum_fixed)) for m in message.metrics
        )
    except ValueError:
        raise WireError(f"result {message.campaign_id!r}: sum_fixed is not an integer") from None
    return CampaignResult(
        campaign_id=message.campaign_id,
        state=state_from_proto(message.state),
        contributors=message.contributors,
        metrics=metrics,
        released_unix_ms=message.released_unix_ms,
        reason=message.reason,
        aggregate_digest=message.aggregate_digest,
        epsilon=message.privacy.epsilon,
        delta=message.privacy.delta,
        nonzero=tuple(message.nonzero),
        signatures=tuple(ResultSignature(s.trustee_id, s.signature) for s in message.signatures),
    )


def share_to_bytes(share: DecryptionShare) -> bytes:
    """The exact bytes a trustee signs for a decryption share."""
    return coordinator_pb2.DecryptionShareBody(
        campaign_id=share.campaign_id,
        trustee_id=share.trustee_id,
        aggregate_digest=share.aggregate_digest,
        shares=list(share.shares),
        refusal=share.refusal,
        part=share.part,
    ).SerializeToString(deterministic=True)


def share_from_bytes(raw: bytes) -> DecryptionShare:
    message = coordinator_pb2.DecryptionShareBody()
    try:
        message.ParseFromString(raw)
    except Exception:
        raise WireError("decryption share: not a DecryptionShareBody message") from None
    if not message.campaign_id or not message.trustee_id:
        raise WireError("decryption share: campaign_id and trustee_id are required")
    if message.part not in ("", "values", "indicators"):
        raise WireError(
            f"decryption share: part must be values or indicators, got {message.part!r}"
        )
    return DecryptionShare(
        campaign_id=message.campaign_id,
        trustee_id=message.trustee_id,
        aggregate_digest=message.aggregate_digest,
        shares=tuple(message.shares),
        refusal=message.refusal,
        part=message.part or "values",
    )


def tree_head_to_proto(head: TreeHead) -> submission_pb2.TreeHead:
    return submission_pb2.TreeHead(
        log_id=head.log_id,
        tree_size=head.tree_size,
        root_hash=head.root_hash,
        timestamp_ms=head.timestamp_ms,
        signature=head.signature,
    )


def tree_head_from_proto(message: submission_pb2.TreeHead) -> TreeHead:
    return TreeHead(
        log_id=message.log_id,
        tree_size=message.tree_size,
        root_hash=message.root_hash,
        timestamp_ms=message.timestamp_ms,
        signature=message.signature,
    )


def receipt_to_proto(receipt: Receipt) -> submission_pb2.SubmissionReceipt:
    return submission_pb2.SubmissionReceipt(
        submission_id=entry_id(receipt.entry),
        leaf_index=receipt.leaf_index,
        tree_head=tree_head_to_proto(receipt.tree_head),
        inclusion_proof=list(receipt.inclusion_proof),
        entry=receipt.entry,
    )


def receipt_from_proto(message: submission_pb2.SubmissionReceipt) -> Receipt:
    return Receipt(
        entry=message.entry,
        leaf_index=message.leaf_index,
        tree_head=tree_head_from_proto(message.tree_head),
        inclusion_proof=list(message.inclusion_proof),
    )


def noise_to_bytes(share: NoiseShare) -> bytes:
    """The exact bytes a trustee signs for a noise share."""
    return coordinator_pb2.NoiseShareBody(
        campaign_id=share.campaign_id,
        trustee_id=share.trustee_id,
        aggregate_digest=share.aggregate_digest,
        ciphertexts=list(share.ciphertexts),
        proofs=list(share.proofs),
    ).SerializeToString(deterministic=True)


def noise_from_bytes(raw: bytes) -> NoiseShare:
    message = coordinator_pb2.NoiseShareBody()
    try:
        message.ParseFromString(raw)
    except Exception:
        raise WireError("noise share: not a NoiseShareBody message") from None
    if not message.campaign_id or not message.trustee_id:
        raise WireError("noise share: campaign_id and trustee_id are required")
    return NoiseShare(
        campaign_id=message.campaign_id,
        trustee_id=message.trustee_id,
        aggregate_digest=message.aggregate_digest,
        ciphertexts=tuple(message.ciphertexts),
        proofs=tuple(message.proofs),
    )


def attestation_to_proto(attestation: Attestation) -> coordinator_pb2.Attestation:
    return coordinator_pb2.Attestation(
        participant_id=attestation.participant_id,
        identity_public_key=attestation.identity_key,
        legal_id=attestation.legal_id,
        organisation=attestation.organisation,
        attester_key=attestation.attester_key,
        signature=attestation.signature,
    )


def attestation_from_proto(message: coordinator_pb2.Attestation) -> Attestation:
    if len(message.attester_key) != 32 or len(message.identity_public_key) != 32:
        raise WireError(
            f"attestation of {message.participant_id!r}: keys must be 32 bytes (Ed25519)"
        )
    return Attestation(
        message.participant_id,
        message.identity_public_key,
        message.legal_id,
        message.organisation,
        message.attester_key,
        message.signature,
    )


def member_to_proto(
    member: Member, attestations: list[Attestation], role: "coordinator_pb2.Role.ValueType"
) -> coordinator_pb2.Member:
    return coordinator_pb2.Member(
        participant_id=member.participant_id,
        organisation=member.organisation,
        role=role,
        legal_id=member.legal_id,
        identity_public_key=member.identity_key,
        attestations=[attestation_to_proto(a) for a in attestations],
    )


def member_from_proto(message: coordinator_pb2.Member) -> tuple[Member, list[Attestation]]:
    """The member as enrolled and the attestations the coordinator holds for it."""
    member = Member(
        message.participant_id,
        message.identity_public_key,
        message.legal_id,
        message.organisation,
    )
    return member, [attestation_from_proto(a) for a in message.attestations]
