"""The trustee role: check an aggregate independently, then (and only then) decrypt it.

Privacy model point 3: trustees do not trust the coordinator. Before producing a
decryption share a trustee re-verifies every submission signature, checks that each
submission is bound to this campaign's digest, that contributors are distinct and at least
k, recomputes the homomorphic sum itself and compares it with the aggregate it is asked to
decrypt, and refuses a second, different aggregate for a campaign it already decrypted.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from phe import paillier

from agent.client import AggregateBundle
from fedcarbon import serde
from fedcarbon.audit.errors import SignatureError
from fedcarbon.campaign import Campaign, CampaignKey, KeyScheme
from fedcarbon.crypto import keys, threshold, vector
from fedcarbon.crypto.errors import CryptoError
from fedcarbon.decryption import DecryptionShare
from fedcarbon.errors import WireError


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reasons: tuple[str, ...]


def verify_bundle(bundle: AggregateBundle) -> Verdict:
    """Recompute the aggregate from the signed submissions; list everything that differs."""
    campaign = bundle.campaign
    reasons: list[str] = []
    seen: set[str] = set()
    vectors: list[list[int]] = []
    for position, signed in enumerate(bundle.submissions):
        where = f"submission {position}"
        try:
            body = serde.body_from_bytes(signed.body)
        except WireError as error:
            reasons.append(f"{where}: {error}")
            continue
        where = f"submission from {body.participant_id!r}"
        key = bundle.identity_keys.get(body.participant_id)
        if key is None:
            reasons.append(f"{where}: no identity key supplied")
            continue
        try:
            signed.verify(key)
        except SignatureError as error:
            reasons.append(f"{where}: {error}")
            continue
        if body.campaign_id != campaign.campaign_id or body.campaign_digest != campaign.digest:
            reasons.append(f"{where}: bound to another campaign or to other terms")
            continue
        if body.participant_id in seen:
            reasons.append(f"{where}: participant appears twice")
            continue
        if body.participant_id in campaign.key.trustee_ids:
            reasons.append(f"{where}: a trustee contributed figures")
            continue
        if not campaign.accepts(body.participant_id):
            reasons.append(f"{where}: participant was not invited")
            continue
        seen.add(body.participant_id)
        try:
            vectors.append(
                vector.from_bytes(
                    body.ciphertexts, campaign.key.paillier_n, expected=campaign.packing.ciphertexts
                )
            )
        except CryptoError as error:
            reasons.append(f"{where}: {error}")
    if len(seen) < campaign.min_contributors:
        reasons.append(
            f"only {len(seen)} valid distinct contributors; k = {campaign.min_contributors}"
        )
    if vectors and not reasons:
        recomputed = vector.to_bytes(
            vector.add_vectors(vectors, campaign.key.paillier_n), campaign.key.paillier_n
        )
        if recomputed != list(bundle.ciphertexts):
            reasons.append("the aggregate differs from the sum of the signed submissions")
        if vector.digest(recomputed) != bundle.digest:
            reasons.append("the aggregate digest does not match the recomputed aggregate")
    return Verdict(not reasons, tuple(reasons))


class KeyRing:
    """A trustee's campaign key material on disk (owner-only files under ``home/keys``)."""

    def __init__(self, home: Path) -> None:
        self.directory = home / "keys"
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._decrypted = home / "decrypted.json"

    def _single_path(self, n: int) -> Path:
        return self.directory / f"paillier-{vector.ciphertext_length(n)}-{n % (1 << 64):016x}.json"

    def _share_path(self, fingerprint: str) -> Path:
        return self.directory / f"share-{fingerprint[:16]}.json"

    def create_single_key(self, bits: int, trustee_id: str) -> CampaignKey:
        public, private = keys.generate_keypair(bits)
        keys.save_private_key(private, self._single_path(public.n))
        return CampaignKey(KeyScheme.SINGLE_HOLDER, public.n, (trustee_id,), 1)

    def store_share(self, share: threshold.KeyShare) -> Path:
        path = self._share_path(share.public.fingerprint)
        keys.write_secret(path, share.to_bytes())
        return path

    def has_share(self, campaign: Campaign) -> bool:
        public = threshold.ThresholdPublicKey.from_bytes(campaign.key.threshold_public_key)
        return self._share_path(public.fingerprint).exists()

    def decrypt(
        self, campaign: Campaign, trustee_id: str, ciphertexts: Sequence[bytes]
    ) -> list[bytes]:
        """One share per aggregate ciphertext, in this campaign's key scheme."""
        n = campaign.key.paillier_n
        values = [int.from_bytes(blob, "big") for blob in ciphertexts]
        if campaign.key.scheme is KeyScheme.SINGLE_HOLDER:
            path = self._single_path(n)
            if not path.exists():
                raise CryptoError(f"no private key for campaign {campaign.campaign_id!r} here")
            private: paillier.PaillierPrivateKey = keys.load_private_key(path)
            return [serde.int_to_bytes(private.raw_decrypt(c)) for c in values]
        public = threshold.ThresholdPublicKey.from_bytes(campaign.key.threshold_public_key)
        path = self._share_path(public.fingerprint)
        if not path.exists():
            raise CryptoError(f"no key share for campaign {campaign.campaign_id!r} here")
        share = threshold.KeyShare.from_bytes(keys.read_secret(path))
        if share.index != campaign.key.trustee_ids.index(trustee_id) + 1:
            raise CryptoError(f"the stored share is not {trustee_id}'s share for this campaign")
        return [p.to_bytes() for p in threshold.partial_decrypt_vector(share, values)]

    def already_decrypted(self, campaign_id: str) -> str | None:
        """The aggregate digest this trustee decrypted for the campaign before, if any."""
        if not self._decrypted.exists():
            return None
        return json.loads(self._decrypted.read_text()).get(campaign_id)  # type: ignore[no-any-return]

    def remember(self, campaign_id: str, digest: bytes) -> None:
        done = json.loads(self._decrypted.read_text()) if self._decrypted.exists() else {}
        done[campaign_id] = digest.hex()
        self._decrypted.write_text(json.dumps(done, indent=1, sort_keys=True))


def answer(bundle: AggregateBundle, ring: KeyRing, trustee_id: str) -> DecryptionShare:
    """A share, or a refusal saying why, for one aggregate."""
    campaign = bundle.campaign
    previous = ring.already_decrypted(campaign.campaign_id)
    verdict = verify_bundle(bundle)
    reasons = list(verdict.reasons)
    if previous is not None and previous != bundle.digest.hex():
        reasons.append("this campaign was already decrypted once, for a different aggregate")
    if reasons:
        return DecryptionShare(
            campaign.campaign_id, trustee_id, bundle.digest, (), "; ".join(reasons)
        )
    shares = ring.decrypt(campaign, trustee_id, bundle.ciphertexts)
    ring.remember(campaign.campaign_id, bundle.digest)
    return DecryptionShare(campaign.campaign_id, trustee_id, bundle.digest, tuple(shares))
