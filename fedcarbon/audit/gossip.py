"""Fork detection over gossiped tree heads: is every head others saw a prefix of ours?

A log that shows different parties different histories (a split view) is caught when the
parties compare the signed tree heads they were shown, as Certificate Transparency's gossip
does (RFC 9162 section 8.1.4; Chuat et al., "Efficient gossip protocols for verifying the
consistency of certificate logs", 2015). Two heads signed by the same log key are
inconsistent when they have the same size and different roots (self-evident), or when the
log cannot prove with an RFC 9162 section 2.1.4 consistency proof that the smaller is a
prefix of the larger. Either is evidence of a fork that anyone can check with the log key.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from fedcarbon.audit import encoding
from fedcarbon.audit.errors import AuditError
from fedcarbon.audit.receipts import ConsistencyEvidence, verify_consistency_evidence
from fedcarbon.audit.treehead import TreeHead, verify_tree_head

FORK_FORMAT = "fedcarbon.fork.v1"


@dataclass(frozen=True)
class Fork:
    """Two heads of one log that cannot both be true, and why."""

    ours: TreeHead
    theirs: TreeHead
    reason: str

    def to_dict(self) -> encoding.JsonObject:
        return {
            "format": FORK_FORMAT,
            "ours": self.ours.to_dict(),
            "theirs": self.theirs.to_dict(),
            "reason": self.reason,
        }

    def to_json(self) -> str:
        return encoding.dumps(self.to_dict())


@dataclass(frozen=True)
class GossipCheck:
    """The outcome of comparing our view of the log with heads seen elsewhere."""

    ours: TreeHead
    forks: tuple[Fork, ...]
    # Heads larger than ours: not a proof of anything yet (our view may lag), but a party
    # about to act on our view (a trustee about to decrypt) should wait.
    ahead: tuple[TreeHead, ...]
    consistent: tuple[TreeHead, ...]


def valid_heads(heads: Iterable[TreeHead], log_public_key: bytes) -> list[TreeHead]:
    """Only heads the log really signed: anything else proves nothing and is dropped."""
    kept = []
    for head in heads:
        try:
            verify_tree_head(head, log_public_key)
        except AuditError:
            continue
        kept.append(head)
    return kept


def check_heads(
    ours: TreeHead,
    seen: Sequence[TreeHead],
    prove: Callable[[int, int], list[bytes]],
    log_public_key: bytes,
) -> GossipCheck:
    """Compare each head seen elsewhere with ``ours`` (a head our log served, verified).

    ``prove(old_size, new_size)`` asks the log we are shown for a consistency proof; a log
    that forked cannot produce one that verifies, and one that refuses to answer is reported
    the same way (it would not prove the heads consistent).
    """
    forks: list[Fork] = []
    ahead: list[TreeHead] = []
    consistent: list[TreeHead] = []
    done: set[tuple[int, bytes]] = {(ours.tree_size, ours.root_hash)}
    for head in valid_heads(seen, log_public_key):
        if (head.tree_size, head.root_hash) in done:
            consistent.append(head)
            continue
        done.add((head.tree_size, head.root_hash))
        if head.tree_size == ours.tree_size:
            forks.append(
                Fork(ours, head, f"two signed heads of size {head.tree_size} with different roots")
            )
            continue
        if head.tree_size > ours.tree_size:
            ahead.append(head)
            continue
        if head.tree_size == 0:
            consistent.append(head)  # the empty log is a prefix of every log
            continue
        try:
            proof = prove(head.tree_size, ours.tree_size)
            verify_consistency_evidence(ConsistencyEvidence(head, ours, proof), log_public_key)
        except AuditError as error:
            forks.append(
                Fork(
                    ours,
                    head,
                    f"the log cannot prove that its size-{head.tree_size} head seen elsewhere "
                    f"is a prefix of the size-{ours.tree_size} head it shows us ({error})",
                )
            )
            continue
        except Exception as error:  # the log refused or failed to answer
            forks.append(
                Fork(
                    ours,
                    head,
                    f"the log gave no consistency proof from size {head.tree_size} to "
                    f"{ours.tree_size} ({error})",
                )
            )
            continue
        consistent.append(head)
    return GossipCheck(ours, tuple(forks), tuple(ahead), tuple(consistent))
