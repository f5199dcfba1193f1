"""A trustee's running aggregate of a campaign's verified submissions (issue 14).

Before it opens anything a trustee recomputes the aggregate from the signed submissions
(privacy model point 3). Done from scratch, every release round parses every submission and
multiplies every ciphertext again. Instead, whenever the trustee has verified submissions
(``trustee run``'s prefetch while the campaign is open, or a release round) it keeps, per
campaign, the product of their ciphertext vectors and who they came from, keyed by each
submission's log leaf hash (RFC 9162 section 2.1.1: HASH(0x00 || entry), so the exact bytes).
A round then verifies and multiplies only the campaign's log entries that are not in it.

The tally is only a shortcut for the trustee's own work, never a reason to trust a bundle:
it is used only for the very same campaign terms (digest), and only when every entry it
names is one of the campaign's logged submissions under the identity key the bundle gives;
otherwise it is rebuilt from the log. The file is rewritten whole (``os.replace``) with a
checksum, so a file cut short or corrupted reads as empty, which only costs the recomputation.
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from agent.verified import read_checked, write_checked
from fedcarbon.crypto import vector

_FORMAT = "fedcarbon.trustee-tally.v2"  # v2: keyed by log leaf hash (v1 files read as empty)


@dataclass(frozen=True)
class Contributor:
    """Who a verified submission came from, and the identity key its signature verified under."""

    participant_id: str
    identity_key: bytes


@dataclass
class Tally:
    """Verified submissions of one campaign (leaf hash, hex -> contributor) and their product.

    ``product[i]`` is the product modulo ``moduli[i]**2`` of position i of every entry's
    ciphertext vector; empty while there are no entries.
    """

    campaign_digest: bytes
    entries: dict[str, Contributor] = field(default_factory=dict)
    product: list[int] = field(default_factory=list)


class TallyFile:
    """The tally of one campaign in the trustee's home (``verified/tally-<id hash>.json``)."""

    def __init__(self, home: Path, campaign_id: str) -> None:
        name = hashlib.sha256(campaign_id.encode()).hexdigest()[:32]
        self.path = home / "verified" / f"tally-{name}.json"

    def load(self, campaign_digest: bytes) -> Tally:
        """The tally kept for these campaign terms; empty if none, unreadable or for others."""
        empty = Tally(campaign_digest)
        document = read_checked(self.path, _FORMAT)
        if document is None:
            return empty
        try:
            if bytes.fromhex(document["campaign_digest"]) != campaign_digest:
                return empty
            entries = {
                str(digest): Contributor(str(participant_id), bytes.fromhex(key))
                for digest, participant_id, key in document["entries"]
            }
            product = [int(value, 16) for value in document["product"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            return empty
        if bool(entries) != bool(product):
            return empty
        return Tally(campaign_digest, entries, product)

    def save(self, tally: Tally) -> None:
        """Write the whole tally beside the old one, then swap it in (crash-safe)."""
        write_checked(
            self.path,
            _FORMAT,
            {
                "campaign_digest": tally.campaign_digest.hex(),
                "entries": sorted(
                    [digest, who.participant_id, who.identity_key.hex()]
                    for digest, who in tally.entries.items()
                ),
                "product": [format(value, "x") for value in tally.product],
            },
        )


def extended(
    tally: Tally,
    entries: dict[str, Contributor],
    vectors: list[list[int]],
    moduli: list[int],
) -> Tally:
    """``tally`` with more verified ``entries`` whose ciphertext ``vectors`` are multiplied in."""
    if not vectors:
        return tally
    parts = [tally.product, *vectors] if tally.product else vectors
    return Tally(
        tally.campaign_digest,
        {**tally.entries, **entries},
        vector.add_vectors(parts, moduli),
    )
