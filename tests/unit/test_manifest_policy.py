"""The agent's manifest check: key holders must be pinned trustees of enough organisations."""

import pytest

from agent.policy import manifest_refusals
from fedcarbon.audit import signing
from fedcarbon.federation.legal_id import lei_with_check_digits
from fedcarbon.federation.manifest import Manifest, ManifestTrustee


def lei(n: int) -> str:
    return "LEI:" + lei_with_check_digits(f"TESTLEI{n:011d}")


KEYS = [signing.public_key_bytes(signing.generate_signing_key()) for _ in range(4)]
# trustee-3 and trustee-4 are the same legal entity under two names.
MANIFEST = Manifest(
    "f",
    1,
    tuple(
        ManifestTrustee(f"trustee-{i + 1}", f"Org {i + 1}", lei(min(i, 2)), key, bytes(32))
        for i, key in enumerate(KEYS)
    ),
    min_attestations=2,
)


def holders(*indexes: int) -> list[tuple[str, bytes]]:
    return [(f"trustee-{i + 1}", KEYS[i]) for i in indexes]


def test_manifest_trustees_of_distinct_organisations_are_accepted() -> None:
    assert manifest_refusals(holders(0, 1, 2), 2, MANIFEST, 2) == []


def test_a_key_holder_outside_the_manifest_is_refused() -> None:
    stranger = ("operator-trustee", signing.public_key_bytes(signing.generate_signing_key()))
    reasons = manifest_refusals([*holders(0), stranger], 2, MANIFEST, 2)
    assert reasons == [
        f"key holder operator-trustee is not a trustee of the pinned manifest f v1 "
        f"({MANIFEST.fingerprint[:16]})"
    ]


def test_the_identity_key_decides_not_the_id_the_coordinator_shows() -> None:
    """The operator names its own key 'trustee-1': refused; a real key under any id: fine."""
    impostor = ("trustee-1", signing.public_key_bytes(signing.generate_signing_key()))
    assert manifest_refusals([impostor, *holders(1)], 2, MANIFEST, 2)
    assert manifest_refusals([("renamed", KEYS[0]), *holders(1)], 2, MANIFEST, 2) == []


def test_an_unknown_holder_with_no_key_is_refused() -> None:
    assert manifest_refusals([("ghost", b""), *holders(0)], 2, MANIFEST, 2)


def test_two_holders_of_one_legal_entity_do_not_make_two_organisations() -> None:
    reasons = manifest_refusals(holders(2, 3, 0), 2, MANIFEST, 2)
    assert reasons == [
        "1 organisation(s) of the manifest can decrypt this key together; "
        "policy requires at least 2 distinct organisations"
    ]


def test_the_same_holder_listed_twice_is_refused() -> None:
    assert "listed twice" in manifest_refusals(holders(0, 0, 1), 2, MANIFEST, 2)[0]


def test_a_threshold_above_the_holders_is_refused() -> None:
    assert "does not fit" in manifest_refusals(holders(0, 1), 3, MANIFEST, 2)[0]


@pytest.mark.parametrize("min_threshold", [2, 3])
def test_without_a_pinned_manifest_everything_is_refused(min_threshold: int) -> None:
    reasons = manifest_refusals(holders(0, 1, 2), 2, None, min_threshold)
    assert len(reasons) == 1 and "no federation manifest is pinned" in reasons[0]


def test_without_a_pinned_manifest_min_threshold_1_test_setups_accept() -> None:
    assert manifest_refusals(holders(0), 1, None, 1) == []
