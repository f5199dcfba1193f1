"""A trustee's verified view of the public transparency log, read once (issue 14).

The log is append-only and shared by every campaign; a signed tree head commits to each of
its first ``tree_size`` entries and to their order (RFC 9162 section 2.1.1). A trustee used to
re-read the whole log in every release round to check that an aggregate leaves no logged
submission out. Instead it keeps, in its home, the leaf hashes HASH(0x00 || entry) of the
prefix it has read and checked, which log positions hold each campaign's submissions, and the
cohort entries (few, and needed whole by the differencing guard). A round reads only the
entries from there on, and trusts them only once the Merkle Tree Hash of the whole prefix --
the leaves kept and the new ones -- equals the root of a tree head signed by the log key: a
coordinator that rewrote any entry read before cannot produce that root.

The file is rewritten whole (fsync, ``os.replace``) with a checksum; a damaged one reads as
an empty view, which only costs reading the log from position 0 again.
"""

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.verified import read_checked, write_checked
from fedcarbon import serde
from fedcarbon.audit.errors import AuditError
from fedcarbon.audit.merkle import HASH_SIZE, MerkleTree, leaf_hash
from fedcarbon.audit.treehead import TreeHead, verify_tree_head
from fedcarbon.cohorts import is_cohort_entry
from fedcarbon.errors import WireError
from fedcarbon.submission import is_submission_entry

_FORMAT = "fedcarbon.trustee-log-view.v1"
PAGE = 1000  # entries per GetEntries call, as the coordinator pages them

Fetch = Callable[[int, int], list[bytes]]
"""``CoordinatorClient.entries``: the log's entries [start, end), possibly fewer."""


@dataclass
class LogView:
    """The verified log prefix: its leaf hashes, and where each campaign's submissions are."""

    tree: MerkleTree = field(default_factory=MerkleTree)
    submissions: dict[str, list[int]] = field(default_factory=dict)  # campaign id -> indices
    cohorts: list[tuple[int, bytes]] = field(default_factory=list)  # (index, cohort entry)
    malformed: list[int] = field(default_factory=list)  # submission entries that do not parse

    @property
    def size(self) -> int:
        return self.tree.size

    def append(self, entry: bytes) -> str:
        """Add the next entry; return its submission's campaign id ("" for other entries)."""
        index = self.tree.append_entry(entry)
        if is_cohort_entry(entry):
            self.cohorts.append((index, entry))
            return ""
        if not is_submission_entry(entry):  # CBAM exchange receipts and other typed entries
            return ""
        try:
            campaign_id = serde.body_from_bytes(serde.signed_from_entry(entry).body).campaign_id
        except WireError:
            self.malformed.append(index)
            return ""
        self.submissions.setdefault(campaign_id, []).append(index)
        return campaign_id

    def campaign_entries(self, campaign_id: str, size: int) -> list[int]:
        """Log positions of the campaign's submissions among the first ``size`` entries."""
        return [i for i in self.submissions.get(campaign_id, []) if i < size]

    def cohort_entries(self, size: int) -> list[bytes]:
        """The cohort entries among the first ``size`` entries, in log order."""
        return [entry for index, entry in self.cohorts if index < size]


@dataclass(frozen=True)
class CaughtUp:
    """A view brought up to a signed tree head, or why it could not be."""

    view: LogView
    # Submission entries read in this round for the campaigns asked for, by log position, so
    # that they are verified without being fetched again.
    fresh: dict[int, bytes]
    problems: tuple[str, ...] = ()


class LogViewFile:
    """The trustee's log view in its home (``verified/log-view.json``)."""

    def __init__(self, home: Path) -> None:
        self.path = home / "verified" / "log-view.json"

    def load(self) -> LogView:
        """The view kept, or an empty one if there is none or it is damaged (never trusted)."""
        document = read_checked(self.path, _FORMAT)
        if document is None:
            return LogView()
        try:
            leaves = base64.b64decode(document["leaves"], validate=True)
            if len(leaves) % HASH_SIZE:
                return LogView()
            tree = MerkleTree(leaves[i : i + HASH_SIZE] for i in range(0, len(leaves), HASH_SIZE))
            submissions = {
                str(c): [int(i) for i in found] for c, found in document["submissions"].items()
            }
            cohorts = [(int(i), base64.b64decode(e, validate=True)) for i, e in document["cohorts"]]
            malformed = [int(i) for i in document["malformed"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            return LogView()
        return LogView(tree, submissions, cohorts, malformed)

    def save(self, view: LogView) -> None:
        """Write the whole view beside the old one, fsync, then swap it in (crash-safe)."""
        leaves = b"".join(view.tree.leaf(i) for i in range(view.size))
        write_checked(
            self.path,
            _FORMAT,
            {
                "leaves": base64.b64encode(leaves).decode("ascii"),
                "submissions": view.submissions,
                "cohorts": [[i, base64.b64encode(e).decode("ascii")] for i, e in view.cohorts],
                "malformed": view.malformed,
            },
        )

    def catch_up(
        self,
        head: TreeHead,
        log_key: bytes,
        fetch: Fetch,
        wanted: Callable[[str], bool] = lambda campaign_id: False,
        on_page: Callable[[list[tuple[str, bytes]]], None] | None = None,
    ) -> CaughtUp:
        """The view up to at least ``head``: only entries past the kept prefix are read.

        The head's signature is checked with the log key, and the root of its first
        ``tree_size`` leaves (kept and new) must equal its root (RFC 9162 section 2.1.1);
        only then is the longer view saved. A head shorter than the view is checked against
        the kept leaves alone (a tree of any past size has a root, section 2.1.1). ``wanted``
        campaigns' submission entries read on the way are returned in ``fresh``, or, with
        ``on_page``, handed to it as (campaign id, entry) a page at a time and not kept, so
        that catching up holds one page of entries in memory, not all since the last call.
        """
        view = self.load()
        try:
            verify_tree_head(head, log_key)
        except AuditError as error:
            return CaughtUp(view, {}, (f"the coordinator's tree head does not verify: {error}",))
        fresh: dict[int, bytes] = {}
        start = view.size
        while view.size < head.tree_size:
            page = fetch(view.size, min(head.tree_size, view.size + PAGE))
            if not page:
                break
            handed: list[tuple[str, bytes]] = []
            for entry in page[: head.tree_size - view.size]:  # never past the signed head
                index = view.size
                campaign_id = view.append(entry)
                if wanted(campaign_id):
                    if on_page is None:
                        fresh[index] = entry
                    else:
                        handed.append((campaign_id, entry))
            if handed and on_page is not None:
                on_page(handed)
        if view.size < head.tree_size or view.tree.root(head.tree_size) != head.root_hash:
            # Whatever was appended is not trusted: the file keeps the last checked prefix.
            return CaughtUp(
                self.load(),
                {},
                ("the log entries do not match the coordinator's signed tree head",),
            )
        if view.size > start:
            self.save(view)
        return CaughtUp(view, fresh)


def entries_at(
    view: LogView, fetch: Fetch, indices: Sequence[int]
) -> tuple[dict[int, bytes], list[str]]:
    """The log's entries at ``indices`` (read before), each checked against its kept leaf hash.

    Used when a campaign's entries must be verified again (a damaged tally, other terms): the
    coordinator cannot substitute an entry, since its leaf hash is part of the checked prefix.
    """
    found: dict[int, bytes] = {}
    problems: list[str] = []
    wanted = sorted(set(indices))
    position = 0
    while position < len(wanted):
        start = wanted[position]
        end = start + 1  # a run of consecutive positions, at most PAGE long
        while position + (end - start) < len(wanted) and wanted[position + end - start] == end:
            if end - start >= PAGE:
                break
            end += 1
        page = fetch(start, end)[: end - start]
        for offset, entry in enumerate(page):
            index = start + offset
            if leaf_hash(entry) != view.tree.leaf(index):
                problems.append(f"the log's entry {index} differs from the one checked before")
            else:
                found[index] = entry
        if len(page) < end - start:
            problems.append(f"the log did not return its entries {start + len(page)}..{end - 1}")
        position += end - start
    return found, problems
