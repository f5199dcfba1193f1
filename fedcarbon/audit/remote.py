"""Fetching a coordinator's transparency log over gRPC, for offline verification.

Every member can audit the log: the AuditLog service answers enrolled participants (over TLS,
each call signed; fedcarbon/transport.py), so an auditor uses an agent or trustee home's
credentials. What is fetched is turned into the same files ``fedcarbon audit verify`` checks
(log export, tree heads, consistency proofs), so fetching and verifying stay separate steps.
"""

from collections.abc import Callable
from typing import TypeVar

import grpc

from fedcarbon.audit.errors import AuditError
from fedcarbon.audit.receipts import ConsistencyProof, LogExport
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.errors import FedcarbonError
from fedcarbon.transport import ClientCredentials, open_channel
from fedcarbon.v1 import coordinator_pb2, coordinator_pb2_grpc

ENTRIES_PER_CALL = 1000
T = TypeVar("T")


class RemoteLog:
    """A read-only view of a coordinator's log."""

    def __init__(
        self, address: str, credentials: ClientCredentials, *, timeout: float = 30.0
    ) -> None:
        try:
            self._channel = open_channel(address, credentials)
        except FedcarbonError as error:
            raise AuditError(str(error)) from None
        self._stub = coordinator_pb2_grpc.AuditLogStub(self._channel)
        self._timeout = timeout
        self.address = address

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "RemoteLog":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: Callable[..., T], request: object) -> T:
        try:
            return method(request, timeout=self._timeout, wait_for_ready=True)
        except grpc.RpcError as error:
            raise AuditError(
                f"coordinator at {self.address}: {error.details()} ({error.code().name})"
            ) from None

    def tree_head(self) -> TreeHead:
        head = self._call(self._stub.GetTreeHead, coordinator_pb2.GetTreeHeadRequest())
        return TreeHead(
            head.log_id, head.tree_size, head.root_hash, head.timestamp_ms, head.signature
        )

    def consistency(self, old_size: int, new_size: int) -> ConsistencyProof:
        proof = self._call(
            self._stub.GetConsistencyProof,
            coordinator_pb2.GetConsistencyProofRequest(old_size=old_size, new_size=new_size),
        )
        return ConsistencyProof(old_size, new_size, list(proof.path))

    def export(self, log_public_key: bytes) -> LogExport:
        """Every entry up to the current signed tree head."""
        head = self.tree_head()
        entries: list[bytes] = []
        while len(entries) < head.tree_size:
            end = min(head.tree_size, len(entries) + ENTRIES_PER_CALL)
            page = self._call(
                self._stub.GetEntries,
                coordinator_pb2.GetEntriesRequest(start=len(entries), end=end),
            )
            if not page.entries:
                raise AuditError(f"coordinator returned no entries for {len(entries)}..{end}")
            entries.extend(page.entries)
        return LogExport(head.log_id, log_public_key, entries, head)
