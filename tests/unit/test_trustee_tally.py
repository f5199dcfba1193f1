"""A trustee's release check against its verified log view (agent/logview.py) and running
aggregate (agent/tally.py): it reads only what is new, and never accepts a bundle whose
aggregate differs from every submission the log holds for the campaign."""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent import logview as logview_module
from agent import trustee as trustee_module
from agent.client import AggregateBundle
from agent.contribution import Contribution, encrypt_and_sign
from agent.logview import LogViewFile
from agent.tally import Tally, TallyFile
from agent.trustee import KeyRing, Verdict, check_release, prefetch
from agent.verified import VerifiedSubmissions, checksum
from fedcarbon import serde, shares
from fedcarbon.audit import signing
from fedcarbon.audit.merkle import leaf_hash, root_hash
from fedcarbon.audit.treehead import TreeHead, sign_tree_head
from fedcarbon.campaign import Campaign, CampaignKind, MetricSpec, new_campaign
from fedcarbon.cohorts import cohort_of, cohort_to_entry
from fedcarbon.crypto import vector
from fedcarbon.submission import SignedSubmission, sign_body
from tests.unit.keys import shared_key

TRUSTEES = ("t1", "t2", "t3")
MEMBERS = ("m1", "m2", "m3", "m4")


def _campaign(campaign_id: str = "tally") -> Campaign:
    return new_campaign(
        campaign_id=campaign_id,
        kind=CampaignKind.BENCHMARK,
        title="t",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        metrics=(MetricSpec("scope1_kgco2e", "kg", 3, 0, 10**9),),
        key=shared_key(TRUSTEES, 2, campaign_id),
        min_contributors=3,
        max_contributors=10,
    )


CAMPAIGN = _campaign()
OTHER = _campaign("other")
IDENTITIES = {m: Ed25519PrivateKey.generate() for m in (*MEMBERS, *TRUSTEES)}
KEYS = {m: signing.public_key_bytes(k) for m, k in IDENTITIES.items()}
LOG_KEY = Ed25519PrivateKey.generate()
LOG_PUBLIC = signing.public_key_bytes(LOG_KEY)


def _submission(member: str, value: int, campaign: Campaign = CAMPAIGN) -> SignedSubmission:
    fixed = [value]
    contribution = Contribution(
        campaign, {}, fixed, shares.offset_values(campaign, fixed), shares.indicators(fixed)
    )
    return encrypt_and_sign(contribution, member, IDENTITIES[member])


SUBMISSIONS = [_submission(m, 1000 * (i + 1)) for i, m in enumerate(MEMBERS)]
FOREIGN = _submission("m1", 7, OTHER)  # another campaign's: never part of this aggregate


def _entry(signed: SignedSubmission) -> bytes:
    return serde.signed_to_entry(signed)


@dataclass
class Log:
    """A coordinator's public log: its entries, signed heads, and the reads it served."""

    entries: list[bytes] = field(default_factory=list)
    reads: list[tuple[int, int]] = field(default_factory=list)

    def fetch(self, start: int, end: int) -> list[bytes]:
        self.reads.append((start, end))
        return self.entries[start:end]

    def head(self, size: int | None = None) -> TreeHead:
        size = len(self.entries) if size is None else size
        root = root_hash([leaf_hash(e) for e in self.entries[:size]])
        return sign_tree_head(LOG_KEY, "log", size, root, 0)

    def read(self) -> int:
        return sum(end - start for start, end in self.reads)


def _open_log(submissions: list[SignedSubmission]) -> Log:
    return Log([_entry(FOREIGN), *(_entry(s) for s in submissions)])


def _close(log: Log, contributors: tuple[str, ...] = MEMBERS) -> None:
    """The coordinator's close: the campaign's cohort is logged after its submissions."""
    log.entries.append(cohort_to_entry(cohort_of(CAMPAIGN, contributors)))


def _bundle(
    log: Log, submissions: list[SignedSubmission], keys: dict[str, bytes] | None = None
) -> AggregateBundle:
    """What an honest coordinator sends trustees: the aggregate of exactly ``submissions``."""
    moduli = CAMPAIGN.moduli
    total = vector.add_vectors(
        [vector.from_bytes(serde.body_from_bytes(s.body).ciphertexts, moduli) for s in submissions],
        moduli,
    )
    blobs = vector.to_bytes(total, moduli)
    named = {serde.body_from_bytes(s.body).participant_id for s in submissions} | set(TRUSTEES)
    return AggregateBundle(
        campaign=CAMPAIGN,
        submissions=[],  # trustees ask without them
        identity_keys={p: KEYS[p] for p in named} if keys is None else keys,
        ciphertexts=blobs,
        digest=vector.digest(blobs),
        tree_head=log.head(),
        noise=[],
        target_digest=b"",
    )


def _check(home: Path, log: Log, bundle: AggregateBundle) -> Verdict:
    return check_release(bundle, KeyRing(home), log.fetch, LOG_PUBLIC)


def _prefetch(home: Path, log: Log) -> int:
    """What ``trustee run`` does while the campaign is open (agent/trustee_cli.py: _prefetch)."""
    ring = KeyRing(home)
    ring.has_key = lambda campaign_id: campaign_id == "tally"  # type: ignore[method-assign]
    verified, problems = prefetch(
        ring, log.head(), LOG_PUBLIC, log.fetch, lambda _: CAMPAIGN, lambda: KEYS
    )
    assert problems == ()
    return verified


@pytest.fixture
def log() -> Log:
    """The log once the first three members submitted."""
    return _open_log(SUBMISSIONS[:3])


@pytest.fixture
def home(tmp_path: Path, log: Log) -> Path:
    """A trustee home that verified the first three submissions while the campaign was open."""
    assert _prefetch(tmp_path, log) == 3
    return tmp_path


def _closed(log: Log) -> Log:
    """The fourth member submits, then the campaign closes."""
    log.entries.append(_entry(SUBMISSIONS[3]))
    _close(log)
    return log


def _count_verified(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the log entries the trustee verifies (the work the tally saves)."""
    calls: list[int] = []
    real = trustee_module.tally_entries

    def counting(campaign: Campaign, entries: list[bytes], *args: object) -> object:
        calls.append(len(entries))
        return real(campaign, entries, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(trustee_module, "tally_entries", counting)
    return calls


def test_prefetch_keeps_the_product_of_what_it_verified(home: Path, log: Log) -> None:
    tally = TallyFile(home, "tally").load(CAMPAIGN.digest)
    assert set(tally.entries) == {leaf_hash(_entry(s)).hex() for s in SUBMISSIONS[:3]}
    assert (
        vector.to_bytes(tally.product, CAMPAIGN.moduli) == _bundle(log, SUBMISSIONS[:3]).ciphertexts
    )


def test_release_reads_and_verifies_only_what_arrived_since(
    home: Path, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    _closed(log)
    bundle = _bundle(log, SUBMISSIONS)
    verifies = _count_verified(monkeypatch)
    log.reads.clear()
    verdict = _check(home, log, bundle)
    assert verdict == Verdict(True, (), MEMBERS)
    assert sum(verifies) == 1  # the fourth only
    assert log.reads == [(4, 6)]  # the fourth and the cohort: not the prefix read before
    assert len(TallyFile(home, "tally").load(CAMPAIGN.digest).entries) == 4
    log.reads.clear()
    assert _check(home, log, bundle).ok
    assert sum(verifies) == 1 and log.reads == []  # a second round reads and verifies none


def test_prefetch_reads_only_new_entries(home: Path, log: Log) -> None:
    log.reads.clear()
    log.entries.append(_entry(SUBMISSIONS[3]))
    assert _prefetch(home, log) == 1
    assert log.reads == [(4, 5)]


def test_an_aggregate_other_than_the_verified_product_is_refused(home: Path, log: Log) -> None:
    _close(log, MEMBERS[:3])
    honest = _bundle(log, SUBMISSIONS[:3])
    rigged = _bundle(log, SUBMISSIONS[:2])
    verdict = _check(
        home, log, replace(honest, ciphertexts=rigged.ciphertexts, digest=rigged.digest)
    )
    assert "the aggregate differs from the sum of the signed submissions" in verdict.reasons


def test_a_logged_submission_left_out_of_the_aggregate_is_refused(home: Path, log: Log) -> None:
    _closed(log)
    verdict = _check(home, log, _bundle(log, SUBMISSIONS[:3], {**KEYS}))
    assert not verdict.ok
    assert "the aggregate differs from the sum of the signed submissions" in verdict.reasons
    # Left out with its identity key too: named.
    verdict = _check(home, log, _bundle(log, SUBMISSIONS[:3]))
    assert any("'m4' is left out of the aggregate" in r for r in verdict.reasons), verdict


def test_a_forged_submission_in_the_log_is_refused_named(home: Path, log: Log) -> None:
    body = serde.body_from_bytes(SUBMISSIONS[3].body)
    log.entries.append(_entry(SignedSubmission(SUBMISSIONS[3].body, bytes(64))))
    _close(log)
    verdict = _check(home, log, _bundle(log, SUBMISSIONS))
    assert any(r.startswith("logged submission 4: submission from 'm4'") for r in verdict.reasons)
    assert body.participant_id == "m4"


def test_a_logged_submission_whose_proof_fails_is_refused_named(home: Path, log: Log) -> None:
    """Signed by its member, bound to the terms, but its proofs are another's: no knowledge."""
    mine = serde.body_from_bytes(SUBMISSIONS[3].body)
    other = serde.body_from_bytes(SUBMISSIONS[0].body)
    bad = sign_body(IDENTITIES["m4"], serde.body_to_bytes(replace(mine, proofs=other.proofs)))
    log.entries.append(_entry(bad))
    _close(log)
    verdict = _check(home, log, _bundle(log, [*SUBMISSIONS[:3], bad]))
    assert (
        "logged submission 4: submission from 'm4': a ciphertext lacks a valid proof of "
        "plaintext knowledge"
    ) in verdict.reasons


def test_a_submission_bound_to_other_terms_is_refused(home: Path, log: Log) -> None:
    other_terms = _submission("m4", 5, replace(CAMPAIGN, min_contributors=2))
    log.entries.append(_entry(other_terms))
    _close(log)
    verdict = _check(home, log, _bundle(log, SUBMISSIONS[:3], dict(KEYS)))
    assert any("'m4': bound to another campaign or to other terms" in r for r in verdict.reasons)


def test_a_trustee_contributing_is_refused(home: Path, log: Log) -> None:
    log.entries.append(_entry(_submission("t1", 5)))
    _close(log)
    verdict = _check(home, log, _bundle(log, SUBMISSIONS[:3]))
    assert any("'t1': a trustee contributed figures" in r for r in verdict.reasons), verdict


@pytest.mark.parametrize("twice", ["same bytes", "another submission"])
def test_a_participant_logged_twice_is_refused(home: Path, log: Log, twice: str) -> None:
    again = SUBMISSIONS[0] if twice == "same bytes" else _submission("m1", 99)
    log.entries.append(_entry(again))
    _close(log)
    verdict = _check(home, log, _bundle(log, SUBMISSIONS[:3]))
    assert "logged submission 4 from 'm1': participant appears twice" in verdict.reasons


def test_another_identity_key_in_the_bundle_is_refused(home: Path, log: Log) -> None:
    _close(log, MEMBERS[:3])
    bundle = _bundle(log, SUBMISSIONS[:3])
    verdict = _check(
        home, log, replace(bundle, identity_keys={**bundle.identity_keys, "m1": KEYS["m4"]})
    )
    assert any("'m1' is left out" in r for r in verdict.reasons), verdict


def test_a_head_whose_root_does_not_match_the_kept_prefix_is_refused(home: Path, log: Log) -> None:
    """The coordinator rewrote an entry the trustee read before, and signed the new tree."""
    _closed(log)
    rewritten = Log(list(log.entries))
    rewritten.entries[2] = _entry(SignedSubmission(SUBMISSIONS[1].body, bytes(64)))
    bundle = replace(_bundle(log, SUBMISSIONS), tree_head=rewritten.head())
    verdict = _check(home, rewritten, bundle)
    assert verdict.reasons == ("the log entries do not match the coordinator's signed tree head",)
    assert LogViewFile(home).load().size == 4  # the kept prefix, untouched
    assert _check(home, log, _bundle(log, SUBMISSIONS)).ok  # the honest log still checks


def test_a_head_not_signed_by_the_log_key_is_refused(home: Path, log: Log) -> None:
    _closed(log)
    bundle = _bundle(log, SUBMISSIONS)
    forged = replace(bundle, tree_head=replace(bundle.tree_head, signature=bytes(64)))
    (reason,) = _check(home, log, forged).reasons
    assert reason.startswith("the coordinator's tree head does not verify")


def test_a_head_shorter_than_the_view_is_checked_against_the_kept_leaves(
    home: Path, log: Log
) -> None:
    _closed(log)
    assert _check(home, log, _bundle(log, SUBMISSIONS)).ok
    log.entries.append(_entry(_submission("m2", 3, OTHER)))
    assert _prefetch(home, log) == 0  # the view grows past the bundle's head
    log.reads.clear()
    old = _bundle(Log(log.entries[:-1]), SUBMISSIONS)
    assert _check(home, log, old).ok and log.reads == []
    lying = replace(old, tree_head=sign_tree_head(LOG_KEY, "log", 6, bytes(32), 0))
    assert not _check(home, log, lying).ok


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short by a crash
        lambda text: "",
        lambda text: text.replace('"leaves": "', '"leaves": "AAAA', 1),  # checksum fails
        lambda text: "\x00" * 40,
    ],
)
def test_a_damaged_log_view_is_read_again_from_zero_and_still_correct(
    home: Path, log: Log, damage: Callable[[str], str]
) -> None:
    path = LogViewFile(home).path
    path.write_text(damage(path.read_text()))
    assert LogViewFile(home).load().size == 0
    _closed(log)
    log.reads.clear()
    assert _check(home, log, _bundle(log, SUBMISSIONS)) == Verdict(True, (), MEMBERS)
    assert log.reads == [(0, 6)]
    assert not _check(home, log, _bundle(log, SUBMISSIONS[:3])).ok  # and still refuses


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: "",
        lambda text: text.replace('"product": ["', '"product": ["1', 1),  # checksum fails
        lambda text: "\x00" * 40,
    ],
)
def test_a_damaged_tally_is_rebuilt_from_the_campaigns_logged_entries(
    home: Path, log: Log, damage: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = TallyFile(home, "tally").path
    path.write_text(damage(path.read_text()))
    assert TallyFile(home, "tally").load(CAMPAIGN.digest) == Tally(CAMPAIGN.digest)
    _closed(log)
    verifies = _count_verified(monkeypatch)
    log.reads.clear()
    assert _check(home, log, _bundle(log, SUBMISSIONS)).ok
    assert sum(verifies) == 4
    # Only this campaign's entries are read again (not the foreign one at 0), checked
    # against the kept leaf hashes.
    assert sorted(log.reads) == [(1, 4), (4, 6)]


def test_an_entry_served_again_must_match_its_kept_leaf_hash(home: Path, log: Log) -> None:
    TallyFile(home, "tally").path.unlink()
    _close(log, MEMBERS[:3])
    bundle = _bundle(log, SUBMISSIONS[:3])
    assert _check(home, Log(log.entries[:1]), bundle).reasons  # first catch up on the honest log
    swapped = Log(list(log.entries))
    swapped.entries[1] = _entry(SUBMISSIONS[3])  # served in place of entry 1 when re-read
    verdict = _check(home, swapped, bundle)
    assert "the log's entry 1 differs from the one checked before" in verdict.reasons


def test_a_tally_whose_product_was_rewritten_refuses_rather_than_accepts(
    home: Path, log: Log
) -> None:
    """Even a damaged file with a valid checksum only makes the trustee refuse."""
    path = TallyFile(home, "tally").path
    document = json.loads(path.read_text())
    document["product"][0] = format(int(document["product"][0], 16) + 1, "x")
    document.pop("checksum")
    document["checksum"] = checksum(document)
    path.write_text(json.dumps(document))
    _close(log, MEMBERS[:3])
    verdict = _check(home, log, _bundle(log, SUBMISSIONS[:3]))
    assert "the aggregate differs from the sum of the signed submissions" in verdict.reasons


def test_a_tally_for_other_campaign_terms_is_not_used(home: Path) -> None:
    assert TallyFile(home, "tally").load(b"other terms") == Tally(b"other terms")


def test_the_cohort_must_name_the_verified_contributors(home: Path, log: Log) -> None:
    log.entries.append(_entry(SUBMISSIONS[3]))
    _close(log, MEMBERS[:3])  # a cohort that hides m4
    verdict = _check(home, log, _bundle(log, SUBMISSIONS))
    assert verdict.reasons == (
        "the published cohort differs from the aggregate's contributors or terms",
    )


def test_submissions_remembered_as_verified_are_not_proved_again(home: Path, log: Log) -> None:
    TallyFile(home, "tally").path.unlink()
    assert len(VerifiedSubmissions(home, "tally")) == 3
    _close(log, MEMBERS[:3])
    assert _check(home, log, _bundle(log, SUBMISSIONS[:3])).ok


def test_prefetch_verifies_a_page_at_a_time_and_saves_nothing_from_a_log_that_fails(
    tmp_path: Path, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries reach the batch check a page at a time (memory flat in what arrived since the
    last poll); if the new entries then fail the signed head's root, no tally is saved."""
    home = tmp_path
    monkeypatch.setattr(logview_module, "PAGE", 2)
    pages: list[int] = []
    real = trustee_module.tally_entries

    def counting(campaign: Campaign, entries: Sequence[bytes], *rest: Any) -> Any:
        pages.append(len(entries))
        return real(campaign, entries, *rest)

    monkeypatch.setattr(trustee_module, "tally_entries", counting)
    lying = Log(list(log.entries))
    lying.entries[-1] = _entry(SUBMISSIONS[3])  # served in place of what the head signs
    ring = KeyRing(home)
    ring.has_key = lambda campaign_id: campaign_id == "tally"  # type: ignore[method-assign]
    verified, problems = prefetch(
        ring, log.head(), LOG_PUBLIC, lying.fetch, lambda _: CAMPAIGN, lambda: KEYS
    )
    assert verified == 0
    assert problems == ("the log entries do not match the coordinator's signed tree head",)
    assert pages == [1, 2]  # FOREIGN and m1, then m2 and the substitute: never all at once
    assert not ring.tally("tally").path.exists() and LogViewFile(home).load().size == 0
    assert _prefetch(home, log) == 3  # the honest log: all three, saved
