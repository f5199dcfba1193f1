"""Decryption shares: what trustees return for a released aggregate, and how they combine.

Dealer-free keys (docs/threshold.md): trustee j holds its own Paillier key and decrypts only
its own block of the (noised) aggregate, one part at a time: first the non-zero indicators,
then the values. Its share of a part is one opening (m, r) per ciphertext of that part
(fedcarbon.crypto.opening), so anyone can check it against the aggregate and a trustee that
lies is named. The opened plaintexts are Shamir shares of the cohort totals; any t of them
rebuild the totals (fedcarbon.shares).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fedcarbon import shares as shared
from fedcarbon.campaign import Campaign
from fedcarbon.crypto import vector
from fedcarbon.crypto.errors import CryptoError
from fedcarbon.crypto.opening import Opening, verify_opening
from fedcarbon.dp import remove_offsets

PARTS = shared.PARTS


@dataclass(frozen=True, slots=True)
class DecryptionShare:
    campaign_id: str
    trustee_id: str
    aggregate_digest: bytes
    shares: tuple[bytes, ...]
    refusal: str = ""
    part: str = "values"


@dataclass(frozen=True, slots=True)
class NoiseShare:
    """A trustee's encrypted noise vector for one aggregate (differential privacy)."""

    campaign_id: str
    trustee_id: str
    aggregate_digest: bytes
    ciphertexts: tuple[bytes, ...]
    proofs: tuple[bytes, ...] = ()


def noised_target(
    campaign: Campaign, aggregate: Sequence[bytes], noise: Sequence[NoiseShare]
) -> list[bytes]:
    """What trustees decrypt: the aggregate times every noise vector, in trustee order."""
    moduli = campaign.moduli
    order = {tid: i for i, tid in enumerate(campaign.key.trustee_ids)}
    vectors = [vector.from_bytes(aggregate, moduli)]
    for share in sorted(noise, key=lambda s: order[s.trustee_id]):
        vectors.append(vector.from_bytes(share.ciphertexts, moduli))
    return vector.to_bytes(vector.add_vectors(vectors, moduli), moduli)


class ShareError(CryptoError):
    """A trustee's share is malformed or does not verify; names the trustee."""

    def __init__(self, trustee_ids: Sequence[str], reason: str) -> None:
        self.trustee_ids = list(trustee_ids)
        super().__init__(f"decryption share from {', '.join(trustee_ids)}: {reason}")


def opened_part(
    campaign: Campaign,
    target: Sequence[int],
    trustee_id: str,
    openings: Sequence[bytes],
    part: str,
) -> list[int]:
    """The plaintexts of one trustee's verified openings of one part; ShareError if any lies."""
    if trustee_id not in campaign.key.trustee_ids:
        raise ShareError([trustee_id], "is not a trustee of this campaign")
    if part not in PARTS:
        raise ShareError([trustee_id], f"unknown part {part!r}")
    index = campaign.key.trustee_ids.index(trustee_id)
    n = campaign.key.moduli[index]
    positions = campaign.block_range(index, part)
    if len(openings) != len(positions):
        raise ShareError(
            [trustee_id], f"has {len(openings)} openings for {len(positions)} ciphertexts"
        )
    plaintexts = []
    for position, blob in zip(positions, openings, strict=True):
        try:
            opening = Opening.from_bytes(blob, n)
        except CryptoError as error:
            raise ShareError([trustee_id], f"malformed opening ({error})") from None
        if not verify_opening(n, target[position], opening):
            raise ShareError(
                [trustee_id], f"opening of ciphertext {position} does not re-create it"
            )
        plaintexts.append(opening.plaintext)
    return plaintexts


def combine_shares(
    campaign: Campaign,
    target: Sequence[int],
    shares: Mapping[str, Sequence[bytes]],
    part: str,
) -> list[int] | None:
    """The part's per-slot totals, or None while fewer than t trustees have opened it.

    Raises ShareError naming every trustee whose opening is wrong, and
    ``shamir.InconsistentSharesError`` when honest openings disagree (inconsistent shares).
    """
    opened: dict[int, list[int]] = {}
    liars: list[str] = []
    reasons: list[str] = []
    for trustee_id, openings in shares.items():
        try:
            plaintexts = opened_part(campaign, target, trustee_id, openings, part)
        except ShareError as error:
            liars += error.trustee_ids
            reasons.append(str(error))
            continue
        opened[campaign.key.trustee_ids.index(trustee_id)] = plaintexts
    if liars:
        raise ShareError(liars, "; ".join(r.split(": ", 1)[-1] for r in reasons))
    return shared.reconstruct(campaign, opened)


def indicator_problems(campaign: Campaign, contributors: int, counts: Sequence[int]) -> list[str]:
    """Why the non-zero counts forbid opening the values (empty: every metric has k).

    Privacy model point 7: k counts contributors whose contribution is not zero, so that
    k - 1 honest members who contribute 0 (for example suppliers who sold the buyer nothing)
    cannot turn a release into one member's figure.
    """
    problems = []
    for metric, count in zip(campaign.metrics, counts, strict=True):
        if is_count_slot(metric.name):
            continue
        if count > contributors:
            problems.append(
                f"{metric.name}: {count} non-zero flags from {contributors} contributors; a "
                "contribution was malformed"
            )
        elif count < campaign.min_contributors:
            problems.append(
                f"only {count} contributor(s) with a non-zero {metric.name}; "
                f"k = {campaign.min_contributors}"
            )
    return problems


def is_count_slot(name: str) -> bool:
    """Slots that count members rather than carry a figure: exempt from the non-zero k.

    ``participants`` is 1 for everyone, and a histogram bin (``BASE:bin:...``,
    fedcarbon.distribution) holds 1 for the members in it: its total says how many members
    fall in a bin, which the release shows anyway. Every other slot (values, squares, a
    ratio's numerator and denominator, product and primary-data parts) is a sum of figures,
    which fewer than k non-zero members would reveal.
    """
    return name == "participants" or ":bin:" in name


def released_sums(campaign: Campaign, contributors: int, totals: Sequence[int]) -> list[int]:
    """Per-metric sums from the rebuilt slot totals: offsets undone, noise offsets removed.

    Raises CryptoError naming the metrics whose total no cohort within its bounds (plus
    noise) can produce: someone encrypted an out-of-range value, and nothing is released.
    """
    plan = campaign.noise
    trustees = len(campaign.key.trustee_ids)
    bad = []
    for index, (metric, total) in enumerate(zip(campaign.metrics, totals, strict=True)):
        extra = 0 if plan is None else trustees * 2 * plan.offsets[index]
        if total > contributors * (metric.max - metric.min) + extra:
            bad.append(metric.name)
    if bad:
        raise CryptoError(
            "the decrypted aggregate is outside what contributors within their bounds can "
            f"produce ({', '.join(bad)}): a contribution was out of range; nothing released"
        )
    sums = [t + contributors * m.min for t, m in zip(totals, campaign.metrics, strict=True)]
    return sums if plan is None else remove_offsets(sums, plan, trustees)
