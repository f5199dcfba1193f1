"""The trustee role: check an aggregate independently, then (and only then) open it.

Privacy model point 3: trustees do not trust the coordinator. Before opening anything a
trustee takes every submission the transparency log holds for the campaign (agent/logview.py,
read once), verifies each signature and proof once (agent/verified.py), checks that each is
bound to this campaign's digest, that contributors are distinct and at least k, keeps the
homomorphic sum itself (agent/tally.py) and compares it with the aggregate it is asked to
decrypt, and refuses a second, different aggregate for a campaign it already decrypted.

Dealer-free keys (docs/threshold.md): the trustee made its own Paillier key for the
campaign (``KeyRing.create_key``) and opens only its own block of the aggregate, in two
parts: first the non-zero indicators, then -- only once t trustees' indicators show at least
k non-zero contributors for every metric -- the values. Finally it checks the released
result against everyone's openings and signs it.
"""

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from phe import paillier

from agent.client import AggregateBundle
from agent.logview import PAGE, Fetch, LogView, LogViewFile, entries_at
from agent.tally import Contributor, Tally, TallyFile, extended
from agent.verified import VerifiedAttestations, VerifiedSubmissions, verified_key
from fedcarbon import serde, shares
from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.audit.merkle import leaf_hash
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.campaign import DEFAULT_MIN_CONTRIBUTORS, Campaign
from fedcarbon.cohorts import (
    cohort_from_entry,
    cohort_of,
    differencing_conflicts,
    is_cohort_entry,
)
from fedcarbon.crypto import keys, vector
from fedcarbon.crypto.errors import CryptoError
from fedcarbon.crypto.opening import open_ciphertext
from fedcarbon.decryption import (
    DecryptionShare,
    NoiseShare,
    combine_shares,
    indicator_problems,
    noised_target,
    released_sums,
)
from fedcarbon.dp import sample_noise_slots
from fedcarbon.errors import CampaignError, WireError
from fedcarbon.federation.attestation import CheckedAttestations, attested_entities
from fedcarbon.federation.manifest import Manifest
from fedcarbon.results import ResultSignature, sign_result
from fedcarbon.submission import (
    DECRYPTION_SHARE_CONTEXT,
    NOISE_SHARE_CONTEXT,
    SubmissionBody,
    noise_proof_context,
    submission_proof_context,
)
from fedcarbon.trustee_keys import (
    KeyStatement,
    sign_statement,
    statement_from_document,
    statement_to_document,
)


@dataclass(frozen=True)
class Verdict:
    """Whether a bundle checks out, why not, and whom this trustee found it to include."""

    ok: bool
    reasons: tuple[str, ...]
    # Participant ids of the campaign's logged, verified submissions, in log order: the
    # contributors as this trustee counts them (its tally), never as the bundle lists them.
    contributors: tuple[str, ...] = ()

    def refusing(self, *reasons: str) -> "Verdict":
        """This verdict with more reasons to refuse."""
        return Verdict(self.ok and not reasons, (*self.reasons, *reasons), self.contributors)


def attestation_problems(
    bundle: AggregateBundle,
    contributors: Sequence[str],
    manifest: Manifest,
    checked: CheckedAttestations | None = None,
) -> tuple[list[str], int]:
    """Reasons to refuse for unattested contributors, and the distinct legal entities among them.

    Each contributor must come with its enrolled record (whose identity key is the one that
    signed its submission) and ``manifest.min_attestations`` valid attestations by distinct
    trustees or registrars of the trustee's own pinned manifest. One legal entity counts
    once, whatever the number of its participant ids (issue 12, sybils). Attestations in
    ``checked`` (agent/verified.py) were verified before and are not verified again.
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
    entities = attested_entities(manifest, members, bundle.attestations, checked)
    unattested = [m.participant_id for m in members if m.participant_id not in entities]
    if unattested:
        reasons.append(
            f"contributor(s) not attested by {manifest.min_attestations} trustee(s) or "
            f"registrar(s) of manifest {manifest.fingerprint[:16]}: {', '.join(unattested)}"
        )
    return reasons, len(set(entities.values()))


def entity_of(
    bundle: AggregateBundle,
    manifest: Manifest | None,
    checked: CheckedAttestations | None = None,
) -> Callable[[str], str]:
    """Participant id -> its attested legal entity, for the differencing guard's cohorts.

    Cohorts are compared by legal entity so that one organisation under two participant ids
    is one member, not two; ids this bundle holds no attested record for stay as they are.
    """
    if manifest is None:
        return lambda participant_id: participant_id
    entities = attested_entities(manifest, list(bundle.members), bundle.attestations, checked)
    return lambda participant_id: entities.get(participant_id, participant_id)


def _contributor_problem(campaign: Campaign, participant_id: str, seen: set[str]) -> str:
    """Why this participant's submission cannot count in the aggregate ("" if it can)."""
    if participant_id in seen:
        return "participant appears twice"
    if participant_id in campaign.key.trustee_ids:
        return "a trustee contributed figures"
    if not campaign.accepts(participant_id):
        return "participant was not invited"
    return ""


def tally_entries(
    campaign: Campaign,
    entries: Sequence[bytes],
    identity_keys: Mapping[str, bytes],
    verified: VerifiedSubmissions | None,
    kept: Tally,
) -> tuple[Tally, dict[str, str]]:
    """Verify logged submission entries of ``campaign`` in one batch; multiply in the good ones.

    Each must parse, carry a valid signature under its participant's identity key, be bound
    to this campaign's terms (digest) and prove knowledge of its plaintexts. Entries checked
    before (``verified``, agent/verified.py) skip signature and proofs. Returns ``kept``
    extended with the good entries (agent/tally.py, keyed by leaf hash) and, for each entry
    that fails, its leaf hash (hex) -> why, naming the participant.
    """
    digest = campaign.digest  # a hash over every term: once, not once per submission
    failures: dict[str, str] = {}
    pending: list[tuple[SubmissionBody, str]] = []  # (body, cache key) still to prove
    # (leaf, contributor, values, cache key, where) of each entry that got this far
    found: list[tuple[str, Contributor, list[int], str, str]] = []
    taken = set(kept.entries)
    for entry in entries:
        leaf = leaf_hash(entry).hex()
        if leaf in taken:  # the same bytes logged twice count once here (and twice later)
            continue
        taken.add(leaf)
        try:
            signed = serde.signed_from_entry(entry)
            body = serde.body_from_bytes(signed.body)
        except WireError as error:
            failures[leaf] = str(error)
            continue
        where = f"submission from {body.participant_id!r}"
        key = identity_keys.get(body.participant_id)
        if key is None:
            failures[leaf] = f"{where}: no identity key supplied"
            continue
        cache_key = verified_key(digest, key, signed)
        known = verified is not None and cache_key in verified
        if not known:
            try:
                signed.verify(key)
            except SignatureError as error:
                failures[leaf] = f"{where}: {error}"
                continue
        if body.campaign_id != campaign.campaign_id or body.campaign_digest != digest:
            failures[leaf] = f"{where}: bound to another campaign or to other terms"
            continue
        try:
            values = vector.from_bytes(body.ciphertexts, campaign.moduli)
        except CryptoError as error:
            failures[leaf] = f"{where}: {error}"
            continue
        if not known:
            pending.append((body, cache_key))
        found.append((leaf, Contributor(body.participant_id, key), values, cache_key, where))
    failing = _prove_and_remember(campaign, digest, pending, verified)
    unproven = {pending[index][1] for index in failing}
    good: dict[str, Contributor] = {}
    vectors: list[list[int]] = []
    for leaf, who, values, cache_key, where in found:
        if cache_key in unproven:
            failures[leaf] = f"{where}: a ciphertext lacks a valid proof of plaintext knowledge"
        else:
            good[leaf] = who
            vectors.append(values)
    return extended(kept, good, vectors, campaign.moduli), failures


def verify_bundle(
    bundle: AggregateBundle,
    view: LogView,
    fetch: Fetch,
    ring: "KeyRing",
    manifest: Manifest | None = None,
    fresh: Mapping[int, bytes] | None = None,
) -> Verdict:
    """Check the bundle's aggregate against every submission the log holds for the campaign.

    The included set is, by definition, every submission entry of this campaign in the log up
    to the bundle's signed tree head (``view`` has been checked against that head; privacy
    model points 3 and 4): nothing logged may be left out, which stops a coordinator from
    differencing two releases. Entries not yet in the trustee's tally are verified in one
    batch (those in ``fresh`` were just read; others are fetched again and checked against
    their kept leaf hashes) and multiplied in; any that fails is named. Contributors must be
    distinct, invited, not trustees, at least k (distinct attested legal entities with the
    pinned ``manifest``), under the identity keys the bundle gives; the bundle's aggregate
    must equal the tally's product. This is the one aggregate check of a release round.
    """
    campaign = bundle.campaign
    size = bundle.tree_head.tree_size
    reasons: list[str] = []
    if any(index < size for index in view.malformed):
        reasons.append("the log holds an entry that is not a submission")
    indices = view.campaign_entries(campaign.campaign_id, size)
    leaves = {index: view.tree.leaf(index).hex() for index in indices}
    tally = ring.tally(campaign.campaign_id)
    kept = tally.load(campaign.digest)
    if not kept.entries.keys() <= set(leaves.values()):
        kept = Tally(campaign.digest)  # it names entries past this head: rebuilt from the log
    before = len(kept.entries)
    failures: dict[str, str] = {}
    todo = [index for index in indices if leaves[index] not in kept.entries]
    for start in range(0, len(todo), PAGE):  # a page at a time: memory flat in N
        part = todo[start : start + PAGE]
        have = {index: fresh[index] for index in part if fresh and index in fresh}
        fetched, problems = entries_at(view, fetch, [i for i in part if i not in have])
        reasons += problems
        have.update(fetched)
        kept, failed = tally_entries(
            campaign,
            [have[index] for index in part if index in have],
            bundle.identity_keys,
            ring.verified(campaign.campaign_id),
            kept,
        )
        failures.update(failed)
    if len(kept.entries) != before:
        tally.save(kept)  # only what this trustee verified, whatever the bundle claims
    seen: set[str] = set()
    contributors: list[str] = []
    for index in indices:
        leaf = leaves[index]
        who = kept.entries.get(leaf)
        if leaf in failures:
            reasons.append(f"logged submission {index}: {failures[leaf]}")
        elif who is None:
            continue  # not returned by the log: named above
        elif bundle.identity_keys.get(who.participant_id) != who.identity_key:
            reasons.append(
                f"logged submission {index} from {who.participant_id!r} is left out of the "
                "aggregate (the bundle gives no identity key, or another, for it)"
            )
        elif problem := _contributor_problem(campaign, who.participant_id, seen):
            reasons.append(f"logged submission {index} from {who.participant_id!r}: {problem}")
        else:
            seen.add(who.participant_id)
            contributors.append(who.participant_id)
    if len(seen) < campaign.min_contributors:
        reasons.append(
            f"only {len(seen)} valid distinct contributors; k = {campaign.min_contributors}"
        )
    elif manifest is not None:
        problems, entities = attestation_problems(
            bundle, sorted(seen), manifest, ring.attestations()
        )
        reasons += problems
        if entities < campaign.min_contributors:
            reasons.append(
                f"only {entities} distinct attested legal entities among {len(seen)} "
                f"contributors; k = {campaign.min_contributors}"
            )
    if not reasons:
        recomputed = vector.to_bytes(kept.product, campaign.moduli)
        if recomputed != list(bundle.ciphertexts):
            reasons.append("the aggregate differs from the sum of the signed submissions")
        if vector.digest(recomputed) != bundle.digest:
            reasons.append("the aggregate digest does not match the recomputed aggregate")
    return Verdict(not reasons, tuple(reasons), tuple(contributors))


def verify_cohort(
    campaign: Campaign,
    contributors: Sequence[str],
    entries: Sequence[bytes],
    entity_of: Callable[[str], str] = lambda participant_id: participant_id,
) -> list[str]:
    """The published cohort is this aggregate's, and no earlier exact release differs by < k.

    ``entries`` are the verified log's cohort entries up to the bundle's tree head
    (agent/logview.py), ``contributors`` those this trustee verified (``verify_bundle``). The
    campaign's own cohort entry must be there and name exactly them, so agents can see who a
    release is about. Every cohort entry logged before it (of any campaign, not only this
    trustee's) is the ledger the release is compared with (fedcarbon/cohorts.py:
    differencing_conflicts); cohorts logged later are checked when their own campaign is
    decrypted.
    """
    earlier = []
    own = None
    for entry in entries:
        if not is_cohort_entry(entry):
            continue
        try:
            cohort = cohort_from_entry(entry)
        except WireError as error:
            return [f"the log holds a malformed cohort entry: {error}"]
        if cohort.campaign_id == campaign.campaign_id:
            own = cohort
            break
        earlier.append(cohort)
    if own is None:
        return ["the log holds no published cohort for this campaign"]
    if own != cohort_of(campaign, list(contributors)):
        return ["the published cohort differs from the aggregate's contributors or terms"]
    k = max(campaign.min_contributors, DEFAULT_MIN_CONTRIBUTORS)
    return differencing_conflicts(own, earlier, k, entity_of)


def check_release(
    bundle: AggregateBundle,
    ring: "KeyRing",
    fetch: Fetch,
    log_public_key: bytes,
    manifest: Manifest | None = None,
) -> Verdict:
    """Everything a release round checks against the log, reading only what is new.

    Brings the trustee's verified log view up to the bundle's signed tree head (only entries
    past the prefix it has checked, RFC 9162 section 2.1.1), then ``verify_bundle`` and
    ``verify_cohort``. The bundle needs no ``submissions``: they come from the log.
    """
    campaign = bundle.campaign
    caught = ring.log_view().catch_up(
        bundle.tree_head,
        log_public_key,
        fetch,
        wanted=lambda campaign_id: campaign_id == campaign.campaign_id,
    )
    if caught.problems:
        return Verdict(False, caught.problems)
    verdict = verify_bundle(bundle, caught.view, fetch, ring, manifest, caught.fresh)
    return verdict.refusing(
        *verify_cohort(
            campaign,
            verdict.contributors,
            caught.view.cohort_entries(bundle.tree_head.tree_size),
            entity_of(bundle, manifest, ring.attestations()),
        )
    )


def _write_whole(path: Path, text: str) -> None:
    """Write beside ``path``, then swap it in (``os.replace``): a trustee killed mid-write keeps
    its state file whole, so the next run still reads what it opened and bound (an earlier,
    truncated decrypted.json stopped every later ``trustee run``)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


class KeyRing:
    """A trustee's campaign keys on disk (owner-only files under ``home/keys``)."""

    def __init__(self, home: Path) -> None:
        self.directory = home / "keys"
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._decrypted = home / "decrypted.json"
        self._home = home
        self._verified: dict[str, VerifiedSubmissions] = {}
        self._attestations: VerifiedAttestations | None = None

    def has_key(self, campaign_id: str) -> bool:
        """Whether this trustee made a key for ``campaign_id`` (so it will be asked to open)."""
        return self._key_path(campaign_id).exists()

    def verified(self, campaign_id: str) -> VerifiedSubmissions:
        """The submissions of ``campaign_id`` this trustee has already verified."""
        if campaign_id not in self._verified:
            self._verified[campaign_id] = VerifiedSubmissions(self._home, campaign_id)
        return self._verified[campaign_id]

    def log_view(self) -> LogViewFile:
        """The verified prefix of the public log this trustee has read (all campaigns)."""
        return LogViewFile(self._home)

    def tally(self, campaign_id: str) -> TallyFile:
        """The running aggregate of the submissions of ``campaign_id`` verified so far."""
        return TallyFile(self._home, campaign_id)

    def attestations(self) -> VerifiedAttestations:
        """The members' attestations this trustee has already found valid."""
        if self._attestations is None:
            self._attestations = VerifiedAttestations(self._home)
        return self._attestations

    # Every key is bound to the one campaign it was made for: the same key presented under
    # another campaign id is refused, so a coordinator cannot reuse a campaign's key to have
    # single submissions decrypted in a second, rigged campaign (security review finding F1).
    def _key_path(self, campaign_id: str) -> Path:
        return self.directory / f"campaign-{campaign_id}.json"

    def _bind(self, key_id: str, campaign_id: str) -> None:
        path = self.directory / "bindings.json"
        bound = json.loads(path.read_text()) if path.exists() else {}
        if bound.get(key_id, campaign_id) != campaign_id:
            raise CryptoError(
                f"campaign {campaign_id!r} reuses the key of campaign {bound[key_id]!r}; "
                "a key serves one campaign only"
            )
        bound[key_id] = campaign_id
        _write_whole(path, json.dumps(bound, indent=1, sort_keys=True))

    def create_key(
        self, bits: int, trustee_id: str, campaign_id: str, identity: Ed25519PrivateKey
    ) -> KeyStatement:
        """A fresh Paillier key for one campaign; the private key never leaves this home."""
        if self._key_path(campaign_id).exists():
            raise CryptoError(
                f"a key for campaign {campaign_id!r} exists already; a campaign gets one key "
                "per trustee (show it again with `trustee keygen --show`)"
            )
        public, private = keys.generate_keypair(bits)
        self._bind(f"n:{public.n:x}", campaign_id)
        keys.save_private_key(private, self._key_path(campaign_id))
        statement = sign_statement(identity, campaign_id, trustee_id, private)
        self._statement_path(campaign_id).write_text(
            json.dumps(statement_to_document(statement), indent=2) + "\n"
        )
        return statement

    def _statement_path(self, campaign_id: str) -> Path:
        return self.directory / f"statement-{campaign_id}.json"

    def statement(self, trustee_id: str, campaign_id: str) -> KeyStatement:
        """The signed statement of the key made earlier for ``campaign_id`` (as first written)."""
        path = self._statement_path(campaign_id)
        if not path.exists():
            raise CryptoError(f"no key for campaign {campaign_id!r} here")
        try:
            statement = statement_from_document(json.loads(path.read_text()), source=str(path))
        except CampaignError as error:
            raise CryptoError(str(error)) from None
        if statement.trustee_id != trustee_id:
            raise CryptoError(
                f"the stored statement is {statement.trustee_id}'s, not {trustee_id}'s"
            )
        return statement

    def _private(self, campaign_id: str) -> paillier.PaillierPrivateKey:
        path = self._key_path(campaign_id)
        if not path.exists():
            raise CryptoError(f"no key for campaign {campaign_id!r} here")
        return keys.load_private_key(path)

    def open_part(
        self, campaign: Campaign, trustee_id: str, target: Sequence[bytes], part: str
    ) -> list[bytes]:
        """Openings (m, r) of this trustee's block of one part, with the key made for it."""
        if trustee_id not in campaign.key.trustee_ids:
            raise CryptoError(f"{trustee_id} holds no key of campaign {campaign.campaign_id!r}")
        index = campaign.key.trustee_ids.index(trustee_id)
        private = self._private(campaign.campaign_id)
        n = private.public_key.n
        if campaign.key.moduli[index] != n:
            raise CryptoError(f"campaign {campaign.campaign_id!r} names another key than ours")
        return [
            open_ciphertext(private, int.from_bytes(target[position], "big")).to_bytes(n)
            for position in campaign.block_range(index, part)
        ]

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
        """The aggregate digest this trustee opened for the campaign before, if any."""
        if not self._decrypted.exists():
            return None
        return json.loads(self._decrypted.read_text()).get(campaign_id)  # type: ignore[no-any-return]

    def remember(self, campaign_id: str, digest: bytes) -> None:
        done = json.loads(self._decrypted.read_text()) if self._decrypted.exists() else {}
        done[campaign_id] = digest.hex()
        _write_whole(self._decrypted, json.dumps(done, indent=1, sort_keys=True))


def verify_noise(bundle: AggregateBundle, ring: "KeyRing", trustee_id: str) -> list[str]:
    """Check every trustee's noise share and that the target is aggregate x noise."""
    campaign = bundle.campaign
    reasons = []
    received: list[NoiseShare] = []
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
        if shares.unproven(campaign, [(share.ciphertexts, share.proofs, context)]):
            reasons.append(f"noise share from {share.trustee_id!r} lacks valid proofs")
            continue
        received.append(share)
    if sorted(s.trustee_id for s in received) != sorted(campaign.key.trustee_ids):
        reasons.append("noise shares are missing or duplicated")
    mine = ring.noise_sent(campaign.campaign_id)
    if mine is not None and all(hashlib.sha256(b).hexdigest() != mine for b, _ in bundle.noise):
        reasons.append("this trustee's own noise share was altered or left out")
    if not reasons:
        try:
            recomputed = noised_target(campaign, bundle.ciphertexts, received)
        except CryptoError as error:
            return [f"noise share: {error}"]
        if vector.digest(recomputed) != bundle.target_digest:
            reasons.append("the noised aggregate differs from aggregate x noise shares")
    return reasons


def make_noise(
    bundle: AggregateBundle,
    ring: "KeyRing",
    trustee_id: str,
    verdict: Verdict,
) -> NoiseShare | DecryptionShare:
    """This trustee's encrypted noise vector, or a refusal if the aggregate does not check out.

    ``verdict`` is this round's ``check_release`` (plus any other reasons to refuse).
    """
    campaign = bundle.campaign
    reasons = list(verdict.reasons)
    if reasons or not verdict.ok:
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
    # The noise is Shamir-shared like a contribution (indicators: shares of 0), so no single
    # trustee ever learns the noise, nor the noised total, from its own block.
    plaintexts = shares.share_vector(
        campaign, sample_noise_slots(plan), [0] * len(campaign.metrics)
    )
    context = noise_proof_context(campaign.digest, trustee_id, bundle.digest)
    encrypted, proofs = shares.encrypt(campaign, plaintexts, context)
    share = NoiseShare(
        campaign.campaign_id,
        trustee_id,
        bundle.digest,
        tuple(vector.to_bytes(encrypted, campaign.moduli)),
        tuple(proofs),
    )
    ring.remember_noise(campaign.campaign_id, serde.noise_to_bytes(share))
    return share


def _signed_openings(
    bundle: AggregateBundle, signed: Sequence[tuple[bytes, bytes]], part: str
) -> tuple[dict[str, tuple[bytes, ...]], list[str]]:
    """Trustees' openings of one part from the bundle, each signature checked."""
    campaign = bundle.campaign
    keys_by_id = dict(campaign.key.holders())
    openings: dict[str, tuple[bytes, ...]] = {}
    problems = []
    for body, signature in signed:
        try:
            share = serde.share_from_bytes(body)
            signing.verify(
                keys_by_id.get(share.trustee_id, b""),
                body,
                signature,
                context=DECRYPTION_SHARE_CONTEXT,
            )
        except (WireError, SignatureError) as error:
            problems.append(f"an opening of the {part}: {error}")
            continue
        if share.part == part and not share.refusal and share.campaign_id == campaign.campaign_id:
            openings[share.trustee_id] = share.shares
    return openings, problems


def _target(bundle: AggregateBundle) -> list[bytes]:
    """The vector trustees open: the aggregate, times every noise share where noise is asked."""
    if bundle.campaign.noise is None:
        return list(bundle.ciphertexts)
    return noised_target(
        bundle.campaign, bundle.ciphertexts, [serde.noise_from_bytes(b) for b, _ in bundle.noise]
    )


def rebuilt_totals(
    bundle: AggregateBundle, part: str, target_blobs: Sequence[bytes]
) -> tuple[list[int] | None, list[str]]:
    """This trustee's own reconstruction of one part from everyone's signed openings of
    ``target_blobs`` (the bundle's ``_target``, computed once by the caller)."""
    signed = bundle.indicator_shares if part == "indicators" else bundle.value_shares
    openings, problems = _signed_openings(bundle, signed, part)
    target = [int.from_bytes(blob, "big") for blob in target_blobs]
    try:
        return combine_shares(bundle.campaign, target, openings, part), problems
    except CryptoError as error:
        return None, [*problems, str(error)]


def answer(
    bundle: AggregateBundle,
    ring: "KeyRing",
    trustee_id: str,
    verdict: Verdict,
    part: str = "values",
) -> DecryptionShare:
    """This trustee's openings of one part, or a refusal saying why.

    ``verdict`` is this round's ``check_release`` (plus any other reasons to refuse). The
    values are opened only after this trustee has itself rebuilt the non-zero counts from t
    trustees' signed indicator openings and found at least k for every metric.
    """
    campaign = bundle.campaign
    previous = ring.already_decrypted(campaign.campaign_id)
    reasons = list(verdict.reasons) or ([] if verdict.ok else ["the aggregate was not checked"])
    digest = bundle.digest
    if campaign.noise is not None and not reasons:
        reasons += verify_noise(bundle, ring, trustee_id)
        if not reasons:
            digest = bundle.target_digest
    if previous is not None and previous != digest.hex():
        reasons.append("this campaign was already decrypted once, for a different aggregate")
    target = _target(bundle) if not reasons else []
    if part == "values" and not reasons:
        counts, problems = rebuilt_totals(bundle, "indicators", target)
        if counts is None:
            reasons += problems or ["fewer than t trustees have opened the non-zero indicators"]
        else:
            reasons += indicator_problems(campaign, len(verdict.contributors), counts)
    if reasons:
        return DecryptionShare(
            campaign.campaign_id, trustee_id, digest, (), "; ".join(reasons), part
        )
    opened = ring.open_part(campaign, trustee_id, target, part)
    ring.remember(campaign.campaign_id, digest)
    return DecryptionShare(campaign.campaign_id, trustee_id, digest, tuple(opened), "", part)


def sign_release(
    bundle: AggregateBundle, identity: Ed25519PrivateKey, trustee_id: str, verdict: Verdict
) -> ResultSignature:
    """Sign the released result once it matches what this trustee rebuilds from the openings.

    ``verdict`` is this round's ``check_release``: the aggregate must still check out, and
    the contributor count is the trustee's own. Raises CryptoError saying what differs; a
    trustee never vouches for figures it did not recompute itself.
    """
    campaign, result = bundle.campaign, bundle.result
    if not verdict.ok:
        raise CryptoError("the aggregate does not check out: " + "; ".join(verdict.reasons))
    if result is None:
        raise CryptoError(f"campaign {campaign.campaign_id!r} has no released result to sign")
    target = _target(bundle)
    counts, problems = rebuilt_totals(bundle, "indicators", target)
    totals, more = rebuilt_totals(bundle, "values", target)
    if counts is None or totals is None:
        raise CryptoError("cannot rebuild the release: " + "; ".join([*problems, *more]))
    contributors = len(verdict.contributors)
    expected = released_sums(campaign, contributors, totals)
    if [m.sum_fixed for m in result.metrics] != expected or list(result.nonzero) != counts:
        raise CryptoError("the released figures differ from the trustees' openings")
    if result.contributors != contributors or result.aggregate_digest != bundle.digest:
        raise CryptoError("the released result names another cohort or aggregate")
    return sign_result(identity, trustee_id, result, campaign.digest)


def prefetch(
    ring: "KeyRing",
    head: TreeHead,
    log_key: bytes,
    fetch: Fetch,
    campaign_of: Callable[[str], Campaign],
    identity_keys: Callable[[], Mapping[str, bytes]],
) -> tuple[int, tuple[str, ...]]:
    """Verify logged submissions to campaigns this trustee holds a key in, as they arrive.

    Run by ``trustee run`` while campaigns are open, so that at release ``verify_bundle``
    only checks what arrived since (issue 14). Brings the log view up to ``head``; each page
    of new entries has its held campaigns' submissions verified in one batch and multiplied
    into the campaign's tally in memory, so memory holds one page of entries however many
    arrived since the last poll. The tallies are saved only once the view matched the signed
    head. A submission that does not verify is not multiplied in: the release-time check
    verifies it again with the bundle's identity keys and names it. ``campaign_of`` and
    ``identity_keys`` are asked only when there is something to verify. Returns how many
    submissions were newly verified, and the catch-up's problems.
    """
    held: dict[str, bool] = {}
    tallies: dict[str, tuple[Campaign, Tally, int]] = {}  # id -> (terms, tally, size before)
    members: list[Mapping[str, bytes]] = []  # identity keys, fetched at the first need

    def wanted(campaign_id: str) -> bool:
        if campaign_id and campaign_id not in held:
            held[campaign_id] = ring.has_key(campaign_id)
        return held.get(campaign_id, False)

    def on_page(entries: list[tuple[str, bytes]]) -> None:
        if not members:
            members.append(identity_keys())
        by_campaign: dict[str, list[bytes]] = {}
        for campaign_id, entry in entries:
            by_campaign.setdefault(campaign_id, []).append(entry)
        for campaign_id, found in by_campaign.items():
            if campaign_id not in tallies:
                campaign = campaign_of(campaign_id)
                kept = ring.tally(campaign_id).load(campaign.digest)
                tallies[campaign_id] = (campaign, kept, len(kept.entries))
            campaign, kept, before = tallies[campaign_id]
            kept, _ = tally_entries(campaign, found, members[0], ring.verified(campaign_id), kept)
            tallies[campaign_id] = (campaign, kept, before)

    caught = ring.log_view().catch_up(head, log_key, fetch, wanted, on_page)
    if caught.problems:
        return 0, caught.problems  # nothing saved: the view did not match the signed head
    verified = 0
    for campaign_id, (_, kept, before) in tallies.items():
        if len(kept.entries) != before:
            ring.tally(campaign_id).save(kept)
            verified += len(kept.entries) - before
    return verified, ()


def _prove_and_remember(
    campaign: Campaign,
    digest: bytes,
    pending: Sequence[tuple[SubmissionBody, str]],
    verified: VerifiedSubmissions | None,
) -> set[int]:
    """Indices of the (body, cache key) pairs with a failing proof; the others are remembered.

    All proofs in one batch per trustee key (issue 14): cheap when all hold, and the
    individual checks behind a failed batch name the bad submissions.
    """
    failing = set(
        shares.unproven(
            campaign,
            [
                (
                    body.ciphertexts,
                    body.proofs,
                    submission_proof_context(digest, body.participant_id),
                )
                for body, _ in pending
            ],
        )
    )
    if verified is not None:
        verified.add([key for index, (_, key) in enumerate(pending) if index not in failing])
    return failing
