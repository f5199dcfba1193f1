"""The trustee role: check an aggregate independently, then (and only then) decrypt it.

Privacy model point 3: trustees do not trust the coordinator. Before producing a
decryption share a trustee re-verifies every submission signature, checks that each
submission is bound to this campaign's digest, that contributors are distinct and at least
k, recomputes the homomorphic sum itself and compares it with the aggregate it is asked to
decrypt, and refuses a second, different aggregate for a campaign it already decrypted.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from phe import paillier

from agent.client import AggregateBundle
from fedcarbon import serde
from fedcarbon.audit import signing
from fedcarbon.audit.errors import AuditError, SignatureError
from fedcarbon.audit.merkle import leaf_hash, root_hash
from fedcarbon.audit.treehead import verify_tree_head
from fedcarbon.campaign import Campaign, CampaignKey, KeyScheme
from fedcarbon.crypto import keys, packing, threshold, vector
from fedcarbon.crypto.errors import CryptoError
from fedcarbon.crypto.knowledge import encrypt_with_proofs
from fedcarbon.decryption import DecryptionShare, NoiseShare, noised_target
from fedcarbon.dp import sample_noise_slots
from fedcarbon.errors import WireError
from fedcarbon.federation.attestation import attested_entities
from fedcarbon.federation.manifest import Manifest
from fedcarbon.submission import (
    NOISE_SHARE_CONTEXT,
    noise_proof_context,
    submission_proof_context,
    unproven_slots,
)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reasons: tuple[str, ...]


def attestation_problems(
    bundle: AggregateBundle, contributors: Sequence[str], manifest: Manifest
) -> tuple[list[str], int]:
    """Reasons to refuse for unattested contributors, and the distinct legal entities among them.

    Each contributor must come with its enrolled record (whose identity key is the one that
    signed its submission) and ``manifest.min_attestations`` valid attestations by distinct
    trustees or registrars of the trustee's own pinned manifest. One legal entity counts
    once, whatever the number of its participant ids (issue 12, sybils).
    """
    records = {m.participant_id: m for m in bundle.members}
    members = []
    reasons = []
    for pid in contributors:
        member = records.get(pid)
        if member is None or member.identity_key != bundle.identity_keys.get(pid):
            reasons.append(f"contributor {pid!r}: no enrolled record matching its identity key")
            continue
        members.append(member)
    entities = attested_entities(manifest, members, bundle.attestations)
    unattested = [m.participant_id for m in members if m.participant_id not in entities]
    if unattested:
        reasons.append(
            f"contributor(s) not attested by {manifest.min_attestations} trustee(s) or "
            f"registrar(s) of manifest {manifest.fingerprint[:16]}: {', '.join(unattested)}"
        )
    return reasons, len(set(entities.values()))


def verify_bundle(bundle: AggregateBundle, manifest: Manifest | None = None) -> Verdict:
    """Recompute the aggregate from the signed submissions; list everything that differs.

    With the trustee's pinned ``manifest``, k counts distinct attested legal entities and an
    unattested contributor is a reason to refuse; without one, k counts participant ids.
    """
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
        context = submission_proof_context(campaign.digest, body.participant_id)
        if unproven_slots(campaign.key.paillier_n, body.ciphertexts, body.proofs, context):
            reasons.append(f"{where}: a ciphertext lacks a valid proof of plaintext knowledge")
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
    elif manifest is not None:
        problems, entities = attestation_problems(bundle, sorted(seen), manifest)
        reasons += problems
        if entities < campaign.min_contributors:
            reasons.append(
                f"only {entities} distinct attested legal entities among {len(seen)} "
                f"contributors; k = {campaign.min_contributors}"
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


def verify_log_completeness(
    bundle: AggregateBundle, entries: Sequence[bytes], log_public_key: bytes
) -> list[str]:
    """The aggregate holds every submission the transparency log has for this campaign.

    Without this, a coordinator could drop contributors from an aggregate and ask other
    trustees to decrypt the rest (differencing). ``entries`` are the log's entries up to the
    signed tree head in the bundle; their Merkle root must match that head.
    """
    head = bundle.tree_head
    try:
        verify_tree_head(head, log_public_key)
    except AuditError as error:
        return [f"the coordinator's tree head does not verify: {error}"]
    if (
        len(entries) != head.tree_size
        or root_hash([leaf_hash(e) for e in entries]) != head.root_hash
    ):
        return ["the log entries do not match the coordinator's signed tree head"]
    logged = set()
    for entry in entries:
        try:
            body = serde.body_from_bytes(serde.signed_from_entry(entry).body)
        except WireError:
            return ["the log holds an entry that is not a submission"]
        if body.campaign_id == bundle.campaign.campaign_id:
            logged.add(serde.signed_to_entry(serde.signed_from_entry(entry)))
    included = {serde.signed_to_entry(s) for s in bundle.submissions}
    missing = logged - included
    if missing:
        return [
            f"{len(missing)} logged submission(s) for this campaign are left out of the aggregate"
        ]
    return []


class KeyRing:
    """A trustee's campaign key material on disk (owner-only files under ``home/keys``)."""

    def __init__(self, home: Path) -> None:
        self.directory = home / "keys"
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._decrypted = home / "decrypted.json"

    # Every key (a single holder's private key or a threshold share) is bound to the one
    # campaign it was made for: the same key presented under another campaign id is refused,
    # so a coordinator cannot reuse a campaign's key to have single submissions decrypted
    # in a second, rigged campaign (security review finding F1).
    def _single_path(self, campaign_id: str) -> Path:
        return self.directory / f"single-{campaign_id}.json"

    def _share_path(self, campaign_id: str) -> Path:
        return self.directory / f"share-{campaign_id}.json"

    def _bind(self, key_id: str, campaign_id: str) -> None:
        path = self.directory / "bindings.json"
        bound = json.loads(path.read_text()) if path.exists() else {}
        if bound.get(key_id, campaign_id) != campaign_id:
            raise CryptoError(
                f"campaign {campaign_id!r} reuses the key of campaign {bound[key_id]!r}; "
                "a key serves one campaign only"
            )
        bound[key_id] = campaign_id
        path.write_text(json.dumps(bound, indent=1, sort_keys=True))

    def create_single_key(self, bits: int, trustee_id: str, campaign_id: str) -> CampaignKey:
        public, private = keys.generate_keypair(bits)
        self._bind(f"n:{public.n:x}", campaign_id)
        keys.save_private_key(private, self._single_path(campaign_id))
        return CampaignKey(KeyScheme.SINGLE_HOLDER, public.n, (trustee_id,), 1)

    def store_share(self, share: threshold.KeyShare, campaign_id: str) -> Path:
        self._bind(share.public.fingerprint, campaign_id)
        path = self._share_path(campaign_id)
        keys.write_secret(path, share.to_bytes())
        return path

    def has_share(self, campaign: Campaign) -> bool:
        return self._share_path(campaign.campaign_id).exists()

    def decrypt(
        self, campaign: Campaign, trustee_id: str, ciphertexts: Sequence[bytes]
    ) -> list[bytes]:
        """One share per aggregate ciphertext, with the key made for this very campaign."""
        n = campaign.key.paillier_n
        values = [int.from_bytes(blob, "big") for blob in ciphertexts]
        if campaign.key.scheme is KeyScheme.SINGLE_HOLDER:
            path = self._single_path(campaign.campaign_id)
            if not path.exists():
                raise CryptoError(f"no private key for campaign {campaign.campaign_id!r} here")
            private: paillier.PaillierPrivateKey = keys.load_private_key(path)
            if private.public_key.n != n:
                raise CryptoError(f"campaign {campaign.campaign_id!r} names another key than ours")
            return [serde.int_to_bytes(private.raw_decrypt(c)) for c in values]
        path = self._share_path(campaign.campaign_id)
        if not path.exists():
            raise CryptoError(f"no key share for campaign {campaign.campaign_id!r} here")
        share = threshold.KeyShare.from_bytes(keys.read_secret(path))
        if share.public.to_bytes() != campaign.key.threshold_public_key:
            raise CryptoError(f"campaign {campaign.campaign_id!r} names another key than ours")
        if share.index != campaign.key.trustee_ids.index(trustee_id) + 1:
            raise CryptoError(f"the stored share is not {trustee_id}'s share for this campaign")
        return [p.to_bytes() for p in threshold.partial_decrypt_vector(share, values)]

    def noise_body(self, campaign_id: str) -> bytes | None:
        """The noise share body this trustee sent for the campaign, if any."""
        path = self.directory / f"noise-{campaign_id}.bin"
        return keys.read_secret(path) if path.exists() else None

    def noise_sent(self, campaign_id: str) -> str | None:
        """SHA-256 of the noise share body this trustee sent for the campaign, if any."""
        body = self.noise_body(campaign_id)
        return None if body is None else hashlib.sha256(body).hexdigest()

    def remember_noise(self, campaign_id: str, body: bytes) -> None:
        keys.write_secret(self.directory / f"noise-{campaign_id}.bin", body)

    def already_decrypted(self, campaign_id: str) -> str | None:
        """The aggregate digest this trustee decrypted for the campaign before, if any."""
        if not self._decrypted.exists():
            return None
        return json.loads(self._decrypted.read_text()).get(campaign_id)  # type: ignore[no-any-return]

    def remember(self, campaign_id: str, digest: bytes) -> None:
        done = json.loads(self._decrypted.read_text()) if self._decrypted.exists() else {}
        done[campaign_id] = digest.hex()
        self._decrypted.write_text(json.dumps(done, indent=1, sort_keys=True))


def verify_noise(bundle: AggregateBundle, ring: "KeyRing", trustee_id: str) -> list[str]:
    """Check every trustee's noise share and that the target is aggregate x noise."""
    campaign = bundle.campaign
    reasons = []
    shares: list[NoiseShare] = []
    for body, signature in bundle.noise:
        try:
            share = serde.noise_from_bytes(body)
        except WireError as error:
            reasons.append(str(error))
            continue
        key = bundle.identity_keys.get(share.trustee_id)
        if share.trustee_id not in campaign.key.trustee_ids or key is None:
            reasons.append(f"noise share from {share.trustee_id!r}, not a trustee of the campaign")
            continue
        try:
            signing.verify(key, body, signature, context=NOISE_SHARE_CONTEXT)
        except SignatureError as error:
            reasons.append(f"noise share from {share.trustee_id!r}: {error}")
            continue
        if share.aggregate_digest != bundle.digest:
            reasons.append(f"noise share from {share.trustee_id!r} is for another aggregate")
            continue
        context = noise_proof_context(campaign.digest, share.trustee_id, share.aggregate_digest)
        if unproven_slots(campaign.key.paillier_n, share.ciphertexts, share.proofs, context):
            reasons.append(f"noise share from {share.trustee_id!r} lacks valid proofs")
            continue
        shares.append(share)
    if sorted(s.trustee_id for s in shares) != sorted(campaign.key.trustee_ids):
        reasons.append("noise shares are missing or duplicated")
    mine = ring.noise_sent(campaign.campaign_id)
    if mine is not None and all(hashlib.sha256(b).hexdigest() != mine for b, _ in bundle.noise):
        reasons.append("this trustee's own noise share was altered or left out")
    if not reasons:
        try:
            recomputed = noised_target(campaign, bundle.ciphertexts, shares)
        except CryptoError as error:
            return [f"noise share: {error}"]
        if vector.digest(recomputed) != bundle.target_digest:
            reasons.append("the noised aggregate differs from aggregate x noise shares")
    return reasons


def make_noise(
    bundle: AggregateBundle,
    ring: "KeyRing",
    trustee_id: str,
    log_problems: Sequence[str] = (),
    manifest: Manifest | None = None,
) -> NoiseShare | DecryptionShare:
    """This trustee's encrypted noise vector, or a refusal if the aggregate does not check out."""
    campaign = bundle.campaign
    reasons = [*verify_bundle(bundle, manifest).reasons, *log_problems]
    if reasons:
        return DecryptionShare(
            campaign.campaign_id, trustee_id, bundle.digest, (), "; ".join(reasons)
        )
    plan = campaign.noise
    if plan is None:
        raise CryptoError(f"campaign {campaign.campaign_id!r} asks for no noise")
    earlier = ring.noise_body(campaign.campaign_id)
    if earlier is not None:
        # Noise is drawn once per campaign: asked again (a rewound coordinator hoping for
        # fresh noise to average away), the trustee resends the very same share.
        return serde.noise_from_bytes(earlier)
    plaintexts = packing.pack_slots(sample_noise_slots(plan), campaign.packing)
    n = campaign.key.paillier_n
    context = noise_proof_context(campaign.digest, trustee_id, bundle.digest)
    encrypted, proofs = encrypt_with_proofs(paillier.PaillierPublicKey(n), plaintexts, context)
    share = NoiseShare(
        campaign.campaign_id,
        trustee_id,
        bundle.digest,
        tuple(vector.to_bytes(encrypted, n)),
        tuple(proof.to_bytes(n) for proof in proofs),
    )
    ring.remember_noise(campaign.campaign_id, serde.noise_to_bytes(share))
    return share


def answer(
    bundle: AggregateBundle,
    ring: "KeyRing",
    trustee_id: str,
    log_problems: Sequence[str] = (),
    manifest: Manifest | None = None,
) -> DecryptionShare:
    """A share, or a refusal saying why, for one aggregate (noised first where asked)."""
    campaign = bundle.campaign
    previous = ring.already_decrypted(campaign.campaign_id)
    reasons = [*verify_bundle(bundle, manifest).reasons, *log_problems]
    target = list(bundle.ciphertexts)
    digest = bundle.digest
    if campaign.noise is not None and not reasons:
        reasons += verify_noise(bundle, ring, trustee_id)
        shares = [serde.noise_from_bytes(body) for body, _ in bundle.noise]
        if not reasons:
            target = noised_target(campaign, bundle.ciphertexts, shares)
            digest = bundle.target_digest
    if previous is not None and previous != digest.hex():
        reasons.append("this campaign was already decrypted once, for a different aggregate")
    if reasons:
        return DecryptionShare(campaign.campaign_id, trustee_id, digest, (), "; ".join(reasons))
    decrypted = ring.decrypt(campaign, trustee_id, target)
    ring.remember(campaign.campaign_id, digest)
    return DecryptionShare(campaign.campaign_id, trustee_id, digest, tuple(decrypted))
