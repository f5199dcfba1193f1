"""Decryption shares: what trustees return for a released aggregate, and how they combine.

Two key schemes share one wire meaning ("one share per aggregate ciphertext"):
- single holder: the share is the plaintext itself (the holder decrypts alone; it is trusted
  not to decrypt anything but released aggregates, and the coordinator never holds the key);
- threshold (Damgard-Jurik 2001, s = 1, see fedcarbon.crypto.threshold): the share is a
  partial decryption with a zero-knowledge proof; t valid partials combine to the plaintext
  and a trustee whose proof fails is named.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fedcarbon.campaign import Campaign, KeyScheme
from fedcarbon.crypto import threshold, vector
from fedcarbon.crypto.errors import CryptoError, InvalidPartialDecryptionError


@dataclass(frozen=True, slots=True)
class DecryptionShare:
    campaign_id: str
    trustee_id: str
    aggregate_digest: bytes
    shares: tuple[bytes, ...]
    refusal: str = ""


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
    n = campaign.key.paillier_n
    order = {tid: i for i, tid in enumerate(campaign.key.trustee_ids)}
    vectors = [vector.from_bytes(aggregate, n, expected=campaign.packing.ciphertexts)]
    for share in sorted(noise, key=lambda s: order[s.trustee_id]):
        vectors.append(
            vector.from_bytes(share.ciphertexts, n, expected=campaign.packing.ciphertexts)
        )
    return vector.to_bytes(vector.add_vectors(vectors, n), n)


class ShareError(CryptoError):
    """A trustee's share is malformed or does not verify; names the trustee."""

    def __init__(self, trustee_ids: Sequence[str], reason: str) -> None:
        self.trustee_ids = list(trustee_ids)
        super().__init__(f"decryption share from {', '.join(trustee_ids)}: {reason}")


def _decode_int(blob: bytes) -> int:
    return int.from_bytes(blob, "big")


def combine_shares(
    campaign: Campaign,
    ciphertexts: Sequence[int],
    shares: Mapping[str, Sequence[bytes]],
) -> list[int] | None:
    """The aggregate's plaintexts, or None while fewer than t shares are in.

    Raises ShareError naming every trustee whose share is wrong.
    """
    key = campaign.key
    for trustee_id, values in shares.items():
        if trustee_id not in key.trustee_ids:
            raise ShareError([trustee_id], "is not a trustee of this campaign")
        if len(values) != len(ciphertexts):
            raise ShareError(
                [trustee_id], f"has {len(values)} values for {len(ciphertexts)} ciphertexts"
            )
    if key.scheme is KeyScheme.SINGLE_HOLDER:
        if not shares:
            return None
        (only,) = shares.values()
        plaintexts = [_decode_int(blob) for blob in only]
        if any(p >= key.paillier_n for p in plaintexts):
            raise ShareError(list(shares), "a plaintext is not below n")
        return plaintexts
    public = threshold.ThresholdPublicKey.from_bytes(key.threshold_public_key)
    responses: list[list[threshold.PartialDecryption]] = []
    for trustee_id, values in shares.items():
        try:
            partials = [threshold.PartialDecryption.from_bytes(blob) for blob in values]
        except CryptoError as error:
            raise ShareError([trustee_id], f"malformed partial decryption ({error})") from None
        expected = key.trustee_ids.index(trustee_id) + 1
        if any(p.index != expected for p in partials):
            raise ShareError([trustee_id], f"partials claim another share index than {expected}")
        responses.append(partials)
    if len(responses) < key.threshold:
        return None
    try:
        return threshold.combine_vector(public, ciphertexts, responses)
    except InvalidPartialDecryptionError as error:
        liars = [key.trustee_ids[index - 1] for index in error.trustee_indices]
        raise ShareError(liars, "proof of correct decryption does not verify") from None
