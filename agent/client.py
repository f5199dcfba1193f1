"""The agent's gRPC client: domain values in, domain values out, errors with the server's words."""

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.config import AgentConfig
from agent.errors import ConfigError, CoordinatorUnavailable
from fedcarbon import serde, tls
from fedcarbon.audit import signing
from fedcarbon.audit.receipts import Receipt
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.campaign import Campaign, CampaignState
from fedcarbon.decryption import DecryptionShare, NoiseShare
from fedcarbon.federation.attestation import Attestation, Member
from fedcarbon.results import CampaignResult, ResultSignature
from fedcarbon.submission import (
    DECRYPTION_SHARE_CONTEXT,
    ENROL_CONTEXT,
    NOISE_SHARE_CONTEXT,
    TRUSTEE_REQUEST_CONTEXT,
    SignedSubmission,
    enrolment_message,
    trustee_request_message,
)
from fedcarbon.tls import TlsError
from fedcarbon.transport import (
    ClientCredentials,
    home_credentials,
    install_renewed_certificate,
    open_channel,
    save_enrolment,
    tls_key_for_enrolment,
)
from fedcarbon.v1 import campaign_pb2, coordinator_pb2, coordinator_pb2_grpc

DEFAULT_TIMEOUT_S = 30.0
TIMEOUT_ENV = "FEDCARBON_TIMEOUT"
# Retried: the coordinator is not (yet) reachable, or its database is briefly unavailable
# (its transaction rolled back). Every resend is the same request: a submission is the same
# signed bytes, which the coordinator counts once (coordinator/submissions.py).
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
# Exponential backoff with full jitter: pause ~ U(0, min(cap, first * 2**attempt)), so many
# agents retrying after one outage spread out instead of arriving together.
FIRST_BACKOFF_S = 0.25
MAX_BACKOFF_S = 5.0
T = TypeVar("T")

_timeout_s: float | None = None


def set_default_timeout(seconds: float | None) -> None:
    """The total time each call may take, retries included (the CLI's --timeout)."""
    global _timeout_s
    _timeout_s = seconds


def default_timeout() -> float:
    """--timeout if given, else FEDCARBON_TIMEOUT, else DEFAULT_TIMEOUT_S."""
    if _timeout_s is not None:
        return _timeout_s
    raw = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        raise CoordinatorUnavailable(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise CoordinatorUnavailable(f"{TIMEOUT_ENV}={raw!r} must be more than 0 seconds")
    return value


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """The pause before retry number ``attempt`` (0-based): exponential, full jitter."""
    ceiling = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2**attempt)
    return (rng or random).uniform(0, ceiling)


@dataclass(frozen=True)
class EnrolmentResult:
    participant_id: str
    role: str
    log_public_key: bytes
    log_id: str
    client_certificate: bytes = b""


@dataclass(frozen=True)
class TrusteeInfo:
    trustee_id: str
    organisation: str
    encryption_public_key: bytes
    identity_public_key: bytes


@dataclass(frozen=True)
class AggregateBundle:
    campaign: Campaign
    submissions: list[SignedSubmission]
    identity_keys: dict[str, bytes]
    ciphertexts: list[bytes]
    digest: bytes
    tree_head: TreeHead
    noise: list[tuple[bytes, bytes]]  # (body, signature) of each trustee's noise share
    target_digest: bytes
    # (body, signature) of each trustee's signed openings so far, per part.
    indicator_shares: list[tuple[bytes, bytes]] = field(default_factory=list)
    value_shares: list[tuple[bytes, bytes]] = field(default_factory=list)
    result: CampaignResult | None = None
    # Contributors as enrolled (legal id, organisation) and their attestations.
    members: tuple[Member, ...] = ()
    attestations: tuple[Attestation, ...] = ()


_ROLE_NAMES = {
    coordinator_pb2.ROLE_SUPPLIER: "supplier",
    coordinator_pb2.ROLE_BUYER: "buyer",
    coordinator_pb2.ROLE_TRUSTEE: "trustee",
}


class CoordinatorClient:
    """The coordinator's API for one party: TLS as ``credentials`` say, every call signed."""

    def __init__(
        self,
        address: str,
        credentials: ClientCredentials,
        *,
        timeout: float | None = None,
    ) -> None:
        self.address = address
        self._timeout = timeout if timeout is not None else default_timeout()
        self._channel = open_channel(address, credentials)
        self._participants = coordinator_pb2_grpc.ParticipantsStub(self._channel)
        self._campaigns = coordinator_pb2_grpc.CampaignsStub(self._channel)
        self._trustees = coordinator_pb2_grpc.TrusteesStub(self._channel)
        self._audit = coordinator_pb2_grpc.AuditLogStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "CoordinatorClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: Callable[..., T], request: Any) -> T:
        """Send ``request``; retry UNAVAILABLE and DEADLINE_EXCEEDED until the timeout.

        ``wait_for_ready`` waits for a coordinator that is not up yet; an UNAVAILABLE
        answer (its database busy or down) is retried after a jittered, growing pause. The
        whole call, retries included, takes at most the client's timeout.
        """
        deadline = time.monotonic() + self._timeout
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            try:
                return method(request, timeout=max(remaining, 0.001), wait_for_ready=True)
            except grpc.RpcError as error:
                code = error.code()
                details = error.details()
                if code not in RETRYABLE:
                    raise CoordinatorUnavailable(
                        f"coordinator refused: {details} ({code.name})"
                    ) from None
                pause = backoff(attempt)
                if time.monotonic() + pause >= deadline:
                    raise CoordinatorUnavailable(
                        f"coordinator at {self.address} is unreachable: no answer within "
                        f"{self._timeout:g} s ({code.name}: {details}); check that it runs "
                        f"and is reachable, or wait longer with --timeout or {TIMEOUT_ENV}"
                    ) from None
                time.sleep(pause)
                attempt += 1

    # -- participants -------------------------------------------------------------------
    def enrol(
        self,
        *,
        token: str,
        organisation: str,
        identity: Ed25519PrivateKey,
        encryption_public_key: bytes = b"",
        sector: str = "",
        region: str = "",
        size_band: str = "",
        legal_id: str = "",
        tls_public_key: bytes = b"",
    ) -> EnrolmentResult:
        response = self._call(
            self._participants.Enrol,
            coordinator_pb2.EnrolRequest(
                token=token,
                organisation=organisation,
                identity_public_key=signing.public_key_bytes(identity),
                encryption_public_key=encryption_public_key,
                sector=sector,
                region=region,
                size_band=size_band,
                legal_id=legal_id,
                tls_public_key=tls_public_key,
                signature=signing.sign(
                    identity,
                    enrolment_message(
                        token,
                        organisation,
                        encryption_public_key,
                        sector,
                        region,
                        size_band,
                        legal_id,
                        tls_public_key,
                    ),
                    context=ENROL_CONTEXT,
                ),
            ),
        )
        return EnrolmentResult(
            response.participant_id,
            _ROLE_NAMES.get(response.role, "unknown"),
            response.log_public_key,
            response.log_id,
            response.client_certificate,
        )

    def list_trustees(self) -> list[TrusteeInfo]:
        response = self._call(
            self._participants.ListTrustees, coordinator_pb2.ListTrusteesRequest()
        )
        return [
            TrusteeInfo(
                t.trustee_id, t.organisation, t.encryption_public_key, t.identity_public_key
            )
            for t in response.trustees
        ]

    def members(self, participant_id: str = "") -> list[tuple[Member, list[Attestation]]]:
        """Members as enrolled (all suppliers and buyers, or one) with stored attestations."""
        response = self._call(
            self._participants.ListMembers,
            coordinator_pb2.ListMembersRequest(participant_id=participant_id),
        )
        return [serde.member_from_proto(m) for m in response.members]

    def submit_attestation(self, attestation: Attestation) -> int:
        response = self._call(
            self._participants.SubmitAttestation, serde.attestation_to_proto(attestation)
        )
        return int(response.attestations)

    def renew_certificate(self, tls_public_key: bytes) -> bytes:
        """A new client certificate (PEM) for this member's new TLS key."""
        response = self._call(
            self._participants.RenewCertificate,
            coordinator_pb2.RenewCertificateRequest(tls_public_key=tls_public_key),
        )
        return bytes(response.client_certificate)

    # -- campaigns ----------------------------------------------------------------------
    def list_campaigns(self, state: CampaignState | None = None) -> list[Campaign]:
        request = coordinator_pb2.ListCampaignsRequest(
            state=serde.state_to_proto(state) if state else campaign_pb2.CAMPAIGN_STATE_UNSPECIFIED
        )
        response = self._call(self._campaigns.ListCampaigns, request)
        return [serde.campaign_from_proto(c) for c in response.campaigns]

    def get_campaign(self, campaign_id: str) -> Campaign:
        response = self._call(
            self._campaigns.GetCampaign, coordinator_pb2.GetCampaignRequest(campaign_id=campaign_id)
        )
        return serde.campaign_from_proto(response)

    def submit(self, signed: SignedSubmission) -> tuple[Receipt, bool]:
        response = self._call(self._campaigns.Submit, serde.signed_to_proto(signed))
        return serde.receipt_from_proto(response.receipt), response.duplicate

    def get_result(self, campaign_id: str) -> CampaignResult:
        response = self._call(
            self._campaigns.GetResult, coordinator_pb2.GetResultRequest(campaign_id=campaign_id)
        )
        return serde.result_from_proto(response)

    # -- trustees -----------------------------------------------------------------------
    @staticmethod
    def _trustee_request(trustee_id: str, identity: Ed25519PrivateKey, method: str) -> Any:
        now = int(time.time() * 1000)
        return coordinator_pb2.TrusteeRequest(
            trustee_id=trustee_id,
            timestamp_ms=now,
            signature=signing.sign(
                identity,
                trustee_request_message(trustee_id, now, method),
                context=TRUSTEE_REQUEST_CONTEXT,
            ),
        )

    def decryption_tasks(
        self, trustee_id: str, identity: Ed25519PrivateKey
    ) -> list[tuple[str, str]]:
        """(campaign id, phase) for each step owed: noise, indicators, decrypt or sign."""
        response = self._call(
            self._trustees.ListDecryptionTasks,
            self._trustee_request(trustee_id, identity, "ListDecryptionTasks"),
        )
        return [(task.campaign_id, task.phase or "decrypt") for task in response.tasks]

    def get_aggregate(self, campaign_id: str, without_submissions: bool = False) -> AggregateBundle:
        """The campaign's aggregate bundle; ``without_submissions``: its ``submissions`` empty.

        Trustees ask without them and read the submissions from the log (agent/logview.py).
        """
        response = self._call(
            self._trustees.GetAggregate,
            coordinator_pb2.GetAggregateRequest(
                campaign_id=campaign_id, without_submissions=without_submissions
            ),
        )
        pairs = [serde.member_from_proto(m) for m in response.members]
        return AggregateBundle(
            campaign=serde.campaign_from_proto(response.campaign),
            submissions=[serde.signed_from_proto(s) for s in response.submissions],
            identity_keys=dict(response.identity_keys),
            ciphertexts=list(response.aggregate_ciphertexts),
            digest=response.aggregate_digest,
            tree_head=serde.tree_head_from_proto(response.tree_head),
            noise=[(n.body, n.signature) for n in response.noise_shares],
            target_digest=response.target_digest,
            indicator_shares=[(s.body, s.signature) for s in response.indicator_shares],
            value_shares=[(s.body, s.signature) for s in response.value_shares],
            result=serde.result_from_proto(response.result)
            if response.HasField("result")
            else None,
            members=tuple(member for member, _ in pairs),
            attestations=tuple(a for _, found in pairs for a in found),
        )

    def submit_share(self, share: DecryptionShare, identity: Ed25519PrivateKey) -> CampaignState:
        body = serde.share_to_bytes(share)
        response = self._call(
            self._trustees.SubmitDecryptionShare,
            coordinator_pb2.SignedDecryptionShare(
                body=body, signature=signing.sign(identity, body, context=DECRYPTION_SHARE_CONTEXT)
            ),
        )
        return serde.state_from_proto(response.state)

    def submit_noise(self, share: NoiseShare, identity: Ed25519PrivateKey) -> CampaignState:
        body = serde.noise_to_bytes(share)
        response = self._call(
            self._trustees.SubmitNoiseShare,
            coordinator_pb2.SignedNoiseShare(
                body=body, signature=signing.sign(identity, body, context=NOISE_SHARE_CONTEXT)
            ),
        )
        return serde.state_from_proto(response.state)

    def submit_result_signature(
        self, signature: ResultSignature, campaign_id: str
    ) -> CampaignState:
        response = self._call(
            self._trustees.SubmitResultSignature,
            coordinator_pb2.SignedResult(
                campaign_id=campaign_id,
                trustee_id=signature.trustee_id,
                signature=signature.signature,
            ),
        )
        return serde.state_from_proto(response.state)

    # -- audit log ------------------------------------------------------------------------
    def tree_head(self) -> TreeHead:
        return serde.tree_head_from_proto(
            self._call(self._audit.GetTreeHead, coordinator_pb2.GetTreeHeadRequest())
        )

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        response = self._call(
            self._audit.GetConsistencyProof,
            coordinator_pb2.GetConsistencyProofRequest(old_size=old_size, new_size=new_size),
        )
        return list(response.path)

    def entries(self, start: int, end: int) -> list[bytes]:
        response = self._call(
            self._audit.GetEntries, coordinator_pb2.GetEntriesRequest(start=start, end=end)
        )
        return list(response.entries)


def connect(config: AgentConfig, *, enrolling: bool = False) -> CoordinatorClient:
    """A client for this home's coordinator with the home's credentials (docs/tls.md).

    ``enrolling``: the invite's enrolment certificate and no caller identity yet.
    """
    try:
        credentials = home_credentials(config.home, enrolling=enrolling)
    except TlsError as error:
        raise ConfigError(str(error)) from None
    return CoordinatorClient(config.coordinator, credentials)


def enrol_home(
    config: AgentConfig,
    *,
    token: str,
    identity: Ed25519PrivateKey,
    encryption_public_key: bytes = b"",
    legal_id: str = "",
) -> EnrolmentResult:
    """Enrol this home: over TLS with the invite's certificate, sending a TLS key made here.

    The coordinator answers with a client certificate for that key (CN = participant id); it
    and the participant id are kept in the home for every later call.
    """
    try:
        tls_key = b"" if config.insecure else tls_key_for_enrolment(config.home)
    except TlsError as error:
        raise ConfigError(str(error)) from None
    with connect(config, enrolling=True) as client:
        result = client.enrol(
            token=token,
            organisation=config.organisation,
            identity=identity,
            encryption_public_key=encryption_public_key,
            sector=config.sector,
            region=config.region,
            size_band=config.size_band,
            legal_id=legal_id,
            tls_public_key=tls_key,
        )
    if not config.insecure and not result.client_certificate:
        raise ConfigError(
            f"the coordinator at {config.coordinator} enrolled {result.participant_id} but sent "
            "no client certificate (is it serving plaintext? then set insecure = true)"
        )
    save_enrolment(config.home, result.participant_id, result.client_certificate)
    return result


def renew_home_certificate(config: AgentConfig) -> str:
    """A new TLS key made here and a new client certificate for it, swapped into the home
    (docs/tls.md, Rotation); returns when the new certificate expires (ISO 8601).

    Run it before the current certificate expires: the renewal call comes over it.
    """
    if config.insecure:
        raise ConfigError(f"{config.home}: this home talks plaintext: no certificate to renew")
    key = tls.generate_key()
    with connect(config) as client:
        certificate = client.renew_certificate(tls.public_key_der(key))
    try:
        install_renewed_certificate(config.home, tls.key_to_pem(key), certificate)
    except TlsError as error:
        raise ConfigError(str(error)) from None
    return tls.not_after(certificate).isoformat()
