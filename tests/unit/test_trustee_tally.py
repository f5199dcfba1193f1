"""The trustee's running aggregate (agent/tally.py): it saves the work of release rounds, and
never makes a trustee accept a bundle that differs from what it verified."""

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent import trustee as trustee_module
from agent.client import AggregateBundle
from agent.contribution import Contribution, encrypt_and_sign
from agent.tally import Tally, TallyFile, _checksum, entry_digest
from agent.trustee import prefetch_verify, verify_bundle, verify_log_completeness
from agent.verified import VerifiedSubmissions
from fedcarbon import serde, shares
from fedcarbon.audit import signing
from fedcarbon.audit.merkle import leaf_hash, root_hash
from fedcarbon.audit.treehead import TreeHead, sign_tree_head
from fedcarbon.campaign import Campaign, CampaignKind, MetricSpec, new_campaign
from fedcarbon.crypto import vector
from fedcarbon.submission import SignedSubmission
from tests.unit.keys import shared_key

TRUSTEES = ("t1", "t2", "t3")
MEMBERS = ("m1", "m2", "m3", "m4")


def _campaign() -> Campaign:
    return new_campaign(
        campaign_id="tally",
        kind=CampaignKind.BENCHMARK,
        title="t",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        metrics=(MetricSpec("scope1_kgco2e", "kg", 3, 0, 10**9),),
        key=shared_key(TRUSTEES, 2, "tally"),
        min_contributors=3,
        max_contributors=10,
    )


CAMPAIGN = _campaign()
IDENTITIES = {m: Ed25519PrivateKey.generate() for m in MEMBERS}
KEYS = {m: signing.public_key_bytes(k) for m, k in IDENTITIES.items()}


def _submission(member: str, value: int) -> SignedSubmission:
    fixed = [value]
    contribution = Contribution(
        CAMPAIGN, {}, fixed, shares.offset_values(CAMPAIGN, fixed), shares.indicators(fixed)
    )
    return encrypt_and_sign(contribution, member, IDENTITIES[member])


SUBMISSIONS = [_submission(m, 1000 * (i + 1)) for i, m in enumerate(MEMBERS)]


def _bundle(submissions: list[SignedSubmission], keys: dict[str, bytes] = KEYS) -> AggregateBundle:
    """What an honest coordinator sends: the aggregate of exactly ``submissions``."""
    moduli = CAMPAIGN.moduli
    total = vector.add_vectors(
        [vector.from_bytes(serde.body_from_bytes(s.body).ciphertexts, moduli) for s in submissions],
        moduli,
    )
    blobs = vector.to_bytes(total, moduli)
    return AggregateBundle(
        campaign=CAMPAIGN,
        submissions=list(submissions),
        identity_keys=dict(keys),
        ciphertexts=blobs,
        digest=vector.digest(blobs),
        tree_head=TreeHead("log", len(submissions), bytes(32), 0, b""),
        noise=[],
        target_digest=b"",
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A trustee home that verified the first three submissions while the campaign was open."""
    verified = VerifiedSubmissions(tmp_path, "tally")
    assert prefetch_verify(CAMPAIGN, SUBMISSIONS[:3], KEYS, verified, TallyFile(tmp_path, "tally"))
    return tmp_path


def _check(home: Path, bundle: AggregateBundle) -> tuple[str, ...]:
    verdict = verify_bundle(
        bundle, None, VerifiedSubmissions(home, "tally"), None, TallyFile(home, "tally")
    )
    return verdict.reasons


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count submission bodies parsed by the trustee (the work the tally saves)."""
    calls: list[int] = []
    real = serde.body_from_bytes

    def counting(raw: bytes) -> object:
        calls.append(1)
        return real(raw)

    monkeypatch.setattr(trustee_module.serde, "body_from_bytes", counting)
    return calls


def test_prefetch_keeps_the_product_of_what_it_verified(home: Path) -> None:
    tally = TallyFile(home, "tally").load(CAMPAIGN.digest)
    assert set(tally.entries) == {entry_digest(s) for s in SUBMISSIONS[:3]}
    assert vector.to_bytes(tally.product, CAMPAIGN.moduli) == _bundle(SUBMISSIONS[:3]).ciphertexts


def test_release_parses_only_what_arrived_since_and_extends_the_tally(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle(SUBMISSIONS)
    parses = _count_parses(monkeypatch)
    assert _check(home, bundle) == ()
    assert len(parses) == 1  # the fourth only
    assert len(TallyFile(home, "tally").load(CAMPAIGN.digest).entries) == 4
    assert _check(home, bundle) == ()
    assert len(parses) == 1  # a second round parses none


def test_an_aggregate_other_than_the_verified_product_is_refused(home: Path) -> None:
    honest = _bundle(SUBMISSIONS[:3])
    rigged = _bundle(SUBMISSIONS[:2])  # another aggregate presented with the same submissions
    bundle = replace(honest, ciphertexts=rigged.ciphertexts, digest=rigged.digest)
    assert "the aggregate differs from the sum of the signed submissions" in _check(home, bundle)


def test_a_submission_changed_after_verification_is_refused(home: Path) -> None:
    changed = SignedSubmission(SUBMISSIONS[2].body, bytes(64))  # another signature
    reasons = _check(home, _bundle([*SUBMISSIONS[:2], changed]))
    assert any("m3" in r for r in reasons), reasons


def test_another_identity_key_makes_the_tally_unused_and_the_signature_fail(home: Path) -> None:
    keys = {**KEYS, "m1": KEYS["m4"]}
    reasons = _check(home, _bundle(SUBMISSIONS[:3], keys))
    assert any("m1" in r for r in reasons), reasons


def test_a_bundle_without_a_verified_submission_is_checked_from_scratch(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle([SUBMISSIONS[0], SUBMISSIONS[1], SUBMISSIONS[3]])
    parses = _count_parses(monkeypatch)
    assert _check(home, bundle) == ()  # log completeness is checked elsewhere
    assert len(parses) == 3
    # The tally now names what this verdict verified, and still refuses the old aggregate.
    tally = TallyFile(home, "tally").load(CAMPAIGN.digest)
    assert set(tally.entries) == {entry_digest(s) for s in bundle.submissions}
    old = _bundle(SUBMISSIONS[:3])
    assert _check(home, replace(bundle, ciphertexts=old.ciphertexts, digest=old.digest))


def test_a_submission_presented_twice_is_refused(home: Path) -> None:
    reasons = _check(home, _bundle([*SUBMISSIONS[:3], SUBMISSIONS[0]]))
    assert any("appears twice" in r for r in reasons), reasons


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short by a crash
        lambda text: "",
        lambda text: text.replace('"product": ["', '"product": ["1', 1),  # checksum fails
        lambda text: "\x00" * 40,
    ],
)
def test_a_damaged_tally_reads_as_empty_and_release_is_recomputed(
    home: Path, damage: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = TallyFile(home, "tally").path
    path.write_text(damage(path.read_text()))  # type: ignore[operator]
    assert TallyFile(home, "tally").load(CAMPAIGN.digest) == Tally(CAMPAIGN.digest)
    bundle = _bundle(SUBMISSIONS)
    parses = _count_parses(monkeypatch)
    assert _check(home, bundle) == ()
    assert len(parses) == 4


def test_a_tally_whose_product_was_rewritten_refuses_rather_than_accepts(home: Path) -> None:
    """Even a damaged file with a valid checksum only makes the trustee refuse."""
    path = TallyFile(home, "tally").path
    document = json.loads(path.read_text())
    document["product"][0] = format(int(document["product"][0], 16) + 1, "x")
    document.pop("checksum")
    document["checksum"] = _checksum(document)
    path.write_text(json.dumps(document))
    assert "the aggregate differs from the sum of the signed submissions" in _check(
        home, _bundle(SUBMISSIONS[:3])
    )


def test_a_tally_for_other_campaign_terms_is_not_used(home: Path) -> None:
    assert TallyFile(home, "tally").load(b"other terms") == Tally(b"other terms")


LOG_KEY = Ed25519PrivateKey.generate()


def _logged(bundle: AggregateBundle, entries: list[bytes]) -> list[str]:
    """The completeness check of ``bundle`` against a log of ``entries`` signed by LOG_KEY."""
    head = sign_tree_head(
        LOG_KEY, "log", len(entries), root_hash([leaf_hash(e) for e in entries]), 0
    )
    return verify_log_completeness(
        replace(bundle, tree_head=head), entries, signing.public_key_bytes(LOG_KEY)
    )


def test_a_logged_submission_left_out_of_the_bundle_is_named() -> None:
    foreign = serde.body_to_bytes(
        replace(serde.body_from_bytes(SUBMISSIONS[3].body), campaign_id="other")
    )
    entries = [serde.signed_to_entry(s) for s in [*SUBMISSIONS, SignedSubmission(foreign, b"s")]]
    assert _logged(_bundle(SUBMISSIONS), entries) == []
    assert _logged(_bundle(SUBMISSIONS[:3]), entries) == [
        "1 logged submission(s) for this campaign are left out of the aggregate"
    ]
    changed = SignedSubmission(SUBMISSIONS[3].body, bytes(64))  # bundle's copy differs
    assert _logged(_bundle([*SUBMISSIONS[:3], changed]), entries) == [
        "1 logged submission(s) for this campaign are left out of the aggregate"
    ]
    assert _logged(_bundle(SUBMISSIONS), entries[:-2]) == []  # more than logged: not here
