"""gRPC servicers: the edge where protobuf becomes domain values and errors become statuses."""

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from sqlalchemy import Engine
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel import Session

from coordinator import actions, campaigns, enrolment, membership, release
from coordinator.auth import DATABASE_UNAVAILABLE, current_caller, peer_common_name
from coordinator.errors import (
    ConflictError,
    CoordinatorError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
    UnavailableError,
)
from coordinator.log import TransparencyLog
from coordinator.store import Participant
from coordinator.submissions import SubmissionDesk
from coordinator.telemetry import LATENCY, REQUESTS, SUBMISSIONS
from fedcarbon import serde, tls
from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.campaign import Campaign
from fedcarbon.errors import FedcarbonError, StoreError, WireError
from fedcarbon.results import ResultSignature
from fedcarbon.submission import TRUSTEE_REQUEST_CONTEXT, trustee_request_message
from fedcarbon.v1 import (
    campaign_pb2,
    coordinator_pb2,
    coordinator_pb2_grpc,
    result_pb2,
    submission_pb2,
)

log = logging.getLogger("fedcarbon.coordinator")

# Trustee requests carry a timestamp; older (or further in the future) ones are replays.
MAX_CLOCK_SKEW_MS = 5 * 60 * 1000

_CODES: list[tuple[type[Exception], grpc.StatusCode]] = [
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (WireError, grpc.StatusCode.INVALID_ARGUMENT),
    (PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
    (UnauthenticatedError, grpc.StatusCode.UNAUTHENTICATED),
    (ConflictError, grpc.StatusCode.FAILED_PRECONDITION),
    (UnavailableError, grpc.StatusCode.UNAVAILABLE),
    (CoordinatorError, grpc.StatusCode.FAILED_PRECONDITION),
    # The database is locked past its timeout, unreachable, full or damaged: the request
    # changed nothing (its transaction rolled back), so the client may retry (agent/client.py).
    (StoreError, grpc.StatusCode.UNAVAILABLE),
    (PoolTimeoutError, grpc.StatusCode.UNAVAILABLE),
    (FedcarbonError, grpc.StatusCode.INVALID_ARGUMENT),
]

F = TypeVar("F", bound=Callable[..., Any])


def rpc(method: F) -> F:
    """Map domain errors to gRPC statuses, count and time every call."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        name = method.__name__
        started = time.perf_counter()
        try:
            response = method(self, request, context)
        except Exception as error:
            code = next(
                (code for kind, code in _CODES if isinstance(error, kind)),
                grpc.StatusCode.INTERNAL,
            )
            REQUESTS.labels(name, code.name).inc()
            if code is grpc.StatusCode.INTERNAL:
                log.exception("internal error", extra={"method": name})
                context.abort(code, "internal error (see coordinator log)")
            if isinstance(error, (StoreError, PoolTimeoutError)):
                # The operator's log names the database; the caller learns only to retry.
                log.warning("database unavailable", extra={"method": name, "why": str(error)})
                context.abort(code, DATABASE_UNAVAILABLE)
            log.info(
                "request refused", extra={"method": name, "code": code.name, "why": str(error)}
            )
            context.abort(code, str(error))
        REQUESTS.labels(name, "OK").inc()
        LATENCY.labels(name).observe(time.perf_counter() - started)
        return response

    return wrapper  # type: ignore[return-value]


class ParticipantsService(coordinator_pb2_grpc.ParticipantsServicer):
    def __init__(
        self,
        engine: Engine,
        log_: TransparencyLog,
        manifest: membership.InstalledManifest | None = None,
        *,
        client_ca: tls.Issued | None = None,
    ) -> None:
        self._engine = engine
        self._log = log_
        self._manifest = manifest
        self._client_ca = client_ca  # None: serving plaintext, no client certificates

    @rpc
    def Enrol(
        self, request: coordinator_pb2.EnrolRequest, context: grpc.ServicerContext
    ) -> coordinator_pb2.EnrolResponse:
        peer: str | None = None
        if self._client_ca is not None:
            peer = peer_common_name(context) or ""
        participant = enrolment.enrol(
            self._engine,
            token=request.token,
            organisation=request.organisation,
            identity_key=request.identity_public_key,
            signature=request.signature,
            encryption_key=request.encryption_public_key,
            sector=request.sector,
            region=request.region,
            size_band=request.size_band,
            legal_id=request.legal_id,
            tls_public_key=request.tls_public_key,
            peer_common_name=peer,
        )
        certificate = b""
        if self._client_ca is not None:
            certificate = tls.issue_client(
                self._client_ca, request.tls_public_key, participant.participant_id
            )
        log.info(
            "participant enrolled",
            extra={"participant": participant.participant_id, "role": participant.role},
        )
        return coordinator_pb2.EnrolResponse(
            participant_id=participant.participant_id,
            role=_ROLES[participant.role],
            log_public_key=self._log.public_key,
            log_id=self._log.log_id,
            client_certificate=certificate,
        )

    @rpc
    def RenewCertificate(
        self, request: coordinator_pb2.RenewCertificateRequest, context: grpc.ServicerContext
    ) -> coordinator_pb2.RenewCertificateResponse:
        """A new client certificate for the caller's own new TLS key (docs/tls.md, Rotation).

        The interceptor already checked that the call is signed by the caller's enrolled
        identity key and came over the caller's current certificate: nobody renews another's.
        """
        caller = current_caller()
        if caller is None or caller.role == "registrar":
            raise PermissionDeniedError("only an enrolled member renews its own certificate")
        if self._client_ca is None:
            raise ConflictError("this coordinator serves plaintext: there are no certificates")
        try:
            certificate = tls.issue_client(
                self._client_ca, request.tls_public_key, caller.participant_id
            )
        except tls.TlsError as error:
            raise InvalidRequestError(f"tls_public_key: {error}") from None
        log.info("client certificate renewed", extra={"participant": caller.participant_id})
        return coordinator_pb2.RenewCertificateResponse(client_certificate=certificate)

    @rpc
    def ListTrustees(
        self, request: coordinator_pb2.ListTrusteesRequest, context: grpc.ServicerContext
    ) -> coordinator_pb2.ListTrusteesResponse:
        return coordinator_pb2.ListTrusteesResponse(
            trustees=[
                coordinator_pb2.TrusteeInfo(
                    trustee_id=t.participant_id,
                    organisation=t.organisation,
                    encryption_public_key=t.encryption_key,
                    identity_public_key=t.identity_key,
                )
                for t in enrolment.list_trustees(self._engine)
            ]
        )

    @rpc
    def ListMembers(
        self, request: coordinator_pb2.ListMembersRequest, context: grpc.ServicerContext
    ) -> coordinator_pb2.ListMembersResponse:
        named = [request.participant_id] if request.participant_id else None
        found = membership.members(self._engine, named)
        if named and not found:
            raise NotFoundError(f"unknown participant {request.participant_id!r}")
        return coordinator_pb2.ListMembersResponse(
            members=[
                serde.member_to_proto(membership.member_of(row), attestations, _ROLES[row.role])
                for row, attestations in found
            ]
        )

    @rpc
    def SubmitAttestation(
        self, request: coordinator_pb2.Attestation, context: grpc.ServicerContext
    ) -> coordinator_pb2.SubmitAttestationResponse:
        attestation = serde.attestation_from_proto(request)
        manifest = self._manifest.get() if self._manifest else None
        count = membership.store_attestation(self._engine, attestation, manifest)
        log.info(
            "attestation stored",
            extra={"participant": attestation.participant_id, "attestations": count},
        )
        return coordinator_pb2.SubmitAttestationResponse(attestations=count)


_ROLES = {
    "supplier": coordinator_pb2.ROLE_SUPPLIER,
    "buyer": coordinator_pb2.ROLE_BUYER,
    "trustee": coordinator_pb2.ROLE_TRUSTEE,
}


def _visible(campaign: Campaign) -> bool:
    """Whether the current caller may see this campaign.

    Trustees see every campaign (they hold its keys); a buyer its own; a supplier those open
    to all (benchmarks, supply-chain campaigns without an invitation list) and those it is
    invited to. Outside an authenticated call (in-process use) everything is visible.
    """
    caller = current_caller()
    if caller is None or caller.is_trustee or campaign.buyer_id == caller.participant_id:
        return True
    return campaign.accepts(caller.participant_id)


def _visible_campaign(engine: Engine, campaign_id: str) -> Campaign:
    """The campaign, or NOT_FOUND when the caller may not see it (its existence included)."""
    campaign = campaigns.get_campaign(engine, campaign_id)
    if not _visible(campaign):
        raise NotFoundError(f"unknown campaign {campaign_id!r}")
    return campaign


class CampaignsService(coordinator_pb2_grpc.CampaignsServicer):
    def __init__(self, engine: Engine, desk: SubmissionDesk) -> None:
        self._engine = engine
        self._desk = desk

    @rpc
    def ListCampaigns(
        self, request: coordinator_pb2.ListCampaignsRequest, context: grpc.ServicerContext
    ) -> coordinator_pb2.ListCampaignsResponse:
        state = (
            None
            if request.state == campaign_pb2.CAMPAIGN_STATE_UNSPECIFIED
            else serde.state_from_proto(request.state)
        )
        found = campaigns.list_campaigns(self._engine, state)
        return coordinator_pb2.ListCampaignsResponse(
            campaigns=[serde.campaign_to_proto(c) for c in found if _visible(c)]
        )

    @rpc
    def GetCampaign(
        self, request: coordinator_pb2.GetCampaignRequest, context: grpc.ServicerContext
    ) -> campaign_pb2.Campaign:
        return serde.campaign_to_proto(_visible_campaign(self._engine, request.campaign_id))

    @rpc
    def Submit(
        self, request: submission_pb2.SignedSubmission, context: grpc.ServicerContext
    ) -> coordinator_pb2.SubmitResponse:
        caller = current_caller()
        receipt, duplicate = self._desk.accept(
            serde.signed_from_proto(request), caller.participant_id if caller else None
        )
        if not duplicate:
            SUBMISSIONS.inc()
        log.info(
            "submission accepted",
            extra={"leaf_index": receipt.leaf_index, "duplicate": duplicate},
        )
        return coordinator_pb2.SubmitResponse(
            receipt=serde.receipt_to_proto(receipt), duplicate=duplicate
        )

    @rpc
    def GetResult(
        self, request: coordinator_pb2.GetResultRequest, context: grpc.ServicerContext
    ) -> result_pb2.CampaignResult:
        _visible_campaign(self._engine, request.campaign_id)
        return serde.result_to_proto(release.get_signed_result(self._engine, request.campaign_id))


class TrusteesService(coordinator_pb2_grpc.TrusteesServicer):
    def __init__(self, engine: Engine, log_: TransparencyLog) -> None:
        self._engine = engine
        self._log = log_

    def _authenticate(self, request: coordinator_pb2.TrusteeRequest, method: str) -> Participant:
        with Session(self._engine) as session:
            trustee = session.get(Participant, request.trustee_id)
        if trustee is None or trustee.role != "trustee":
            raise UnauthenticatedError(f"{request.trustee_id!r} is not an enrolled trustee")
        if abs(time.time() * 1000 - request.timestamp_ms) > MAX_CLOCK_SKEW_MS:
            raise UnauthenticatedError("trustee request timestamp is too far from now")
        try:
            signing.verify(
                trustee.identity_key,
                trustee_request_message(request.trustee_id, request.timestamp_ms, method),
                request.signature,
                context=TRUSTEE_REQUEST_CONTEXT,
            )
        except SignatureError as error:
            raise UnauthenticatedError(f"trustee request: {error}") from None
        return trustee

    @rpc
    def ListDecryptionTasks(
        self, request: coordinator_pb2.TrusteeRequest, context: grpc.ServicerContext
    ) -> coordinator_pb2.ListDecryptionTasksResponse:
        trustee = self._authenticate(request, "ListDecryptionTasks")
        tasks = release.decryption_tasks(self._engine, trustee.participant_id)
        return coordinator_pb2.ListDecryptionTasksResponse(
            tasks=[
                coordinator_pb2.DecryptionTask(
                    campaign_id=cid, aggregate_digest=digest, phase=phase
                )
                for cid, digest, phase in tasks
            ]
        )

    @rpc
    def GetAggregate(
        self, request: coordinator_pb2.GetAggregateRequest, context: grpc.ServicerContext
    ) -> coordinator_pb2.AggregateBundle:
        view = release.aggregate_view(
            self._engine, request.campaign_id, with_submissions=not request.without_submissions
        )
        return coordinator_pb2.AggregateBundle(
            campaign=serde.campaign_to_proto(view.campaign),
            submissions=[serde.signed_to_proto(s) for s in view.submissions],
            identity_keys=view.identity_keys,
            aggregate_ciphertexts=view.ciphertexts,
            aggregate_digest=view.digest,
            tree_head=serde.tree_head_to_proto(self._log.tree_head()),
            noise_shares=[
                coordinator_pb2.SignedNoiseShare(body=body, signature=signature)
                for body, signature in view.noise
            ],
            target_digest=view.target_digest,
            indicator_shares=[
                coordinator_pb2.SignedDecryptionShare(body=body, signature=signature)
                for body, signature in view.indicator_shares
            ],
            value_shares=[
                coordinator_pb2.SignedDecryptionShare(body=body, signature=signature)
                for body, signature in view.value_shares
            ],
            result=serde.result_to_proto(view.result) if view.result is not None else None,
            members=[
                serde.member_to_proto(membership.member_of(row), attestations, _ROLES[row.role])
                for row, attestations in membership.members(
                    self._engine,
                    [p for p in view.identity_keys if p not in view.campaign.key.trustee_ids],
                )
            ],
        )

    @rpc
    def SubmitNoiseShare(
        self, request: coordinator_pb2.SignedNoiseShare, context: grpc.ServicerContext
    ) -> coordinator_pb2.SubmitDecryptionShareResponse:
        share = serde.noise_from_bytes(request.body)
        state = release.accept_noise(self._engine, share, request.body, request.signature)
        log.info(
            "noise share received",
            extra={"campaign": share.campaign_id, "trustee": share.trustee_id},
        )
        return coordinator_pb2.SubmitDecryptionShareResponse(state=serde.state_to_proto(state))

    @rpc
    def SubmitDecryptionShare(
        self, request: coordinator_pb2.SignedDecryptionShare, context: grpc.ServicerContext
    ) -> coordinator_pb2.SubmitDecryptionShareResponse:
        share = serde.share_from_bytes(request.body)
        # A release or failure this (signature-checked) share triggers is logged as its trustee's.
        with actions.acting_for(share.trustee_id):
            state = release.accept_share(self._engine, share, request.body, request.signature)
        log.info(
            "decryption share received",
            extra={
                "campaign": share.campaign_id,
                "trustee": share.trustee_id,
                "refused": bool(share.refusal),
                "state": state.value,
            },
        )
        return coordinator_pb2.SubmitDecryptionShareResponse(state=serde.state_to_proto(state))

    @rpc
    def SubmitResultSignature(
        self, request: coordinator_pb2.SignedResult, context: grpc.ServicerContext
    ) -> coordinator_pb2.SubmitDecryptionShareResponse:
        signature = ResultSignature(request.trustee_id, request.signature)
        state = release.accept_result_signature(self._engine, request.campaign_id, signature)
        log.info(
            "result signed",
            extra={"campaign": request.campaign_id, "trustee": request.trustee_id},
        )
        return coordinator_pb2.SubmitDecryptionShareResponse(state=serde.state_to_proto(state))


class AuditLogService(coordinator_pb2_grpc.AuditLogServicer):
    def __init__(self, log_: TransparencyLog) -> None:
        self._log = log_

    @rpc
    def GetTreeHead(
        self, request: coordinator_pb2.GetTreeHeadRequest, context: grpc.ServicerContext
    ) -> submission_pb2.TreeHead:
        return serde.tree_head_to_proto(self._log.tree_head())

    @rpc
    def GetInclusionProof(
        self, request: coordinator_pb2.GetInclusionProofRequest, context: grpc.ServicerContext
    ) -> coordinator_pb2.InclusionProof:
        path = self._log.inclusion_proof(request.leaf_index, request.tree_size)
        return coordinator_pb2.InclusionProof(
            leaf_index=request.leaf_index, tree_size=request.tree_size, path=path
        )

    @rpc
    def GetConsistencyProof(
        self, request: coordinator_pb2.GetConsistencyProofRequest, context: grpc.ServicerContext
    ) -> coordinator_pb2.ConsistencyProof:
        path = self._log.consistency_proof(request.old_size, request.new_size)
        return coordinator_pb2.ConsistencyProof(
            old_size=request.old_size, new_size=request.new_size, path=path
        )

    @rpc
    def GetEntries(
        self, request: coordinator_pb2.GetEntriesRequest, context: grpc.ServicerContext
    ) -> coordinator_pb2.GetEntriesResponse:
        return coordinator_pb2.GetEntriesResponse(
            entries=self._log.entries(request.start, request.end)
        )
