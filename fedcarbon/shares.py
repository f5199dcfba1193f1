"""A campaign vector as Shamir shares under every trustee's key, and the totals rebuilt from them.

The dealer-free layout (docs/threshold.md). For every metric a contributor has two slot
values: its value offset by the metric's minimum, and a non-zero indicator (1 when the value
is not 0). Each slot value is split into n Shamir shares over the campaign's prime field
(fedcarbon.crypto.shamir); trustee j's shares are packed into plaintexts (values first, then
indicators, each part ``packing.ciphertexts`` long) and encrypted under trustee j's own key.
The submitted vector is the concatenation of the n trustee blocks, so the coordinator's
position-wise product adds shares per trustee, per slot, for the whole cohort at once.

Release runs in two parts: first the indicators (how many contributors have a non-zero value
for each metric; privacy model point 7 needs k of them), then the values. For each part, any
t trustees open their aggregate plaintexts; the slot sums they hold are shares of the totals.
"""

import threading
from collections.abc import Mapping, Sequence

import gmpy2

from fedcarbon.campaign import Campaign
from fedcarbon.crypto import packing, shamir, shortproof
from fedcarbon.crypto.errors import CryptoError, EncodingError
from fedcarbon.crypto.knowledge import slot_context
from fedcarbon.crypto.randomness import RandomnessPool
from fedcarbon.crypto.shortexp import EXPONENT_BITS
from fedcarbon.crypto.shortproof import COMMIT_BITS

PARTS = ("indicators", "values")


def offset_values(campaign: Campaign, fixed: Sequence[int]) -> list[int]:
    """Each fixed-point value minus its metric's minimum: the non-negative slot value."""
    values = []
    for value, metric in zip(fixed, campaign.metrics, strict=True):
        if not metric.min <= value <= metric.max:
            raise EncodingError(
                f"metric {metric.name!r}: {value} is outside its bounds "
                f"[{metric.min}, {metric.max}]"
            )
        values.append(value - metric.min)
    return values


def indicators(fixed: Sequence[int]) -> list[int]:
    """1 for every value that is not zero: what k counts (non-zero contributors)."""
    return [int(value != 0) for value in fixed]


def share_vector(
    campaign: Campaign, slot_values: Sequence[int], indicator_values: Sequence[int]
) -> list[int]:
    """Plaintexts of a whole submitted vector: each trustee's shares of every slot, packed."""
    prime, threshold = campaign.prime, campaign.key.threshold
    parties = len(campaign.key.statements)
    if len(slot_values) != len(campaign.metrics) or len(indicator_values) != len(campaign.metrics):
        raise EncodingError(f"expected {len(campaign.metrics)} values and indicators")
    value_shares = [shamir.split(v, threshold, parties, prime) for v in slot_values]
    indicator_shares = [shamir.split(v, threshold, parties, prime) for v in indicator_values]
    plaintexts: list[int] = []
    for j in range(parties):
        plaintexts += packing.pack_slots([s[j] for s in value_shares], campaign.packing)
        plaintexts += packing.pack_slots([s[j] for s in indicator_shares], campaign.packing)
    return plaintexts


def slot_sums(campaign: Campaign, plaintexts: Sequence[int]) -> list[int]:
    """One trustee's opened part (values or indicators) as per-slot sums of shares."""
    count = len(campaign.metrics)
    overflow = packing.overflowing_plaintexts(plaintexts, count, campaign.packing)
    if overflow:
        raise CryptoError(
            f"plaintext(s) {overflow} carry bits above their last slot: a contribution was not "
            "a well-formed share vector"
        )
    return packing.read_slots(plaintexts, count, campaign.packing)


def reconstruct(campaign: Campaign, opened: Mapping[int, Sequence[int]]) -> list[int] | None:
    """Per-slot totals from trustees' opened plaintexts ({trustee index from 0: plaintexts}).

    None while fewer than t trustees have opened. Raises
    ``shamir.InconsistentSharesError`` when more than t disagree.
    """
    threshold = campaign.key.threshold
    if len(opened) < threshold:
        return None
    sums = {j + 1: slot_sums(campaign, plaintexts) for j, plaintexts in opened.items()}
    prime = campaign.prime
    return [
        shamir.reconstruct(
            {x: values[slot] % prime for x, values in sums.items()}, threshold, prime
        )
        for slot in range(len(campaign.metrics))
    ]


def block_context(context: bytes, trustee_index: int) -> bytes:
    """What trustee j's block of proofs is bound to: ``context || j`` (4 bytes, big-endian).

    Inside a block, ``shortproof`` appends the position, so every proof names its signer,
    campaign, trustee and slot: none can be moved to another block or position.
    """
    return slot_context(context, trustee_index)


def _fill_once(pool: RandomnessPool) -> None:
    gmpy2.get_context().allow_release_gil = True  # per thread: the agent's work goes on
    pool.fill()


class CampaignPools:
    """Encryption masks and proof commitments for one submission, computed ahead (issue 14).

    One pair of ``RandomnessPool`` per trustee key, each holding exactly what one submission
    uses (``campaign.block`` of each). ``start`` fills them on background threads, which
    release the GIL, while the agent reads its adapters and computes its footprint; then
    ``encrypt`` only multiplies. The pairs live in memory only and each is used once
    (fedcarbon/crypto/randomness.py); ``close`` drops what is left. No fixed-base table is
    built: for a handful of exponentiations per key it costs more than it saves.
    """

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.pools = [
            (
                RandomnessPool(s.encryption_key, EXPONENT_BITS, campaign.block, precompute=False),
                RandomnessPool(s.encryption_key, COMMIT_BITS, campaign.block, precompute=False),
            )
            for s in campaign.key.statements
        ]
        self._threads: list[threading.Thread] = []

    def start(self) -> "CampaignPools":
        """Fill every pool once, each on its own daemon thread (not refilled after use)."""
        for pool in (p for pair in self.pools for p in pair):
            thread = threading.Thread(
                target=_fill_once, args=(pool,), name="fedcarbon-pools", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        """Stop filling and drop every unused pair."""
        for masks, commitments in self.pools:
            masks.close()
            commitments.close()
        for thread in self._threads:
            thread.join(5.0)
        self._threads.clear()

    def __enter__(self) -> "CampaignPools":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()


def encrypt(
    campaign: Campaign,
    plaintexts: Sequence[int],
    context: bytes,
    pools: CampaignPools | None = None,
) -> tuple[list[int], list[bytes]]:
    """Encrypt a share vector, block j under trustee j's short-exponent key, each with a proof.

    Damgård-Jurik-Nielsen short exponents (fedcarbon/crypto/shortexp.py) and their proofs of
    plaintext knowledge (shortproof.py): about a third of a full-length encryption and proof;
    with ``pools`` filled ahead, the exponentiations are already done.
    """
    if len(plaintexts) != len(campaign.moduli):
        raise EncodingError(f"{len(plaintexts)} plaintexts for {len(campaign.moduli)} positions")
    if pools is not None and pools.campaign.digest != campaign.digest:
        raise EncodingError("randomness pools were made for another campaign")
    ciphertexts: list[int] = []
    proofs: list[bytes] = []
    for j, statement in enumerate(campaign.key.statements):
        key = statement.encryption_key
        block = plaintexts[j * campaign.block : (j + 1) * campaign.block]
        masks, commitments = pools.pools[j] if pools is not None else (None, None)
        encrypted, proven = shortproof.encrypt_and_prove(
            key, block, block_context(context, j), masks=masks, commitments=commitments
        )
        ciphertexts += encrypted
        proofs += [proof.to_bytes(key) for proof in proven]
    return ciphertexts, proofs


def unproven(
    campaign: Campaign, vectors: Sequence[tuple[Sequence[bytes], Sequence[bytes], bytes]]
) -> list[int]:
    """Indices of the vectors (ciphertexts, proofs, context) with any proof that fails.

    All vectors' proofs under one trustee key go through one small-exponent batch test
    (Bellare-Garay-Rabin 1998, ``shortproof.batch_verify_groups``); only when a batch fails
    are proofs checked one by one, to name the bad vectors. A malformed vector is bad.
    """
    bad: set[int] = set()
    size = len(campaign.moduli)
    for j, statement in enumerate(campaign.key.statements):
        key = statement.encryption_key
        positions = slice(j * campaign.block, (j + 1) * campaign.block)
        groups: list[list[shortproof.ProofItem]] = []
        for index, (ciphertexts, proofs, context) in enumerate(vectors):
            if len(ciphertexts) != size or len(proofs) != size:
                bad.add(index)
                groups.append([])
                continue
            try:
                parsed = shortproof.proofs_from_bytes(
                    proofs[positions], key, expected=campaign.block
                )
            except CryptoError:
                bad.add(index)
                groups.append([])
                continue
            values = [int.from_bytes(blob, "big") for blob in ciphertexts[positions]]
            groups.append(shortproof.vector_items(values, parsed, block_context(context, j)))
        bad.update(shortproof.batch_verify_groups(key, groups))
    return sorted(bad)
