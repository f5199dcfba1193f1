"""The coordinator's embedded store: WAL mode, hashed tokens, one use per token."""

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from coordinator import enrolment
from coordinator.errors import ConflictError, UnauthenticatedError
from coordinator.store import EnrolmentToken, open_engine
from fedcarbon.audit import signing
from fedcarbon.submission import ENROL_CONTEXT, enrolment_message


def _message(token: str, organisation: str) -> bytes:
    return enrolment_message(token, organisation, b"", "", "", "")


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = open_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    yield engine
    engine.dispose()


def test_sqlite_runs_in_wal_mode(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_only_token_hashes_are_stored(engine) -> None:  # type: ignore[no-untyped-def]
    (token,) = enrolment.issue_tokens(engine, "supplier")
    with Session(engine) as session:
        rows = session.exec(select(EnrolmentToken)).all()
    assert len(rows) == 1 and token not in rows[0].token_hash and len(rows[0].token_hash) == 64


def test_a_token_enrols_once_and_a_failed_attempt_does_not_burn_it(engine) -> None:  # type: ignore[no-untyped-def]
    (token,) = enrolment.issue_tokens(engine, "supplier")
    key = signing.generate_signing_key()
    with pytest.raises(UnauthenticatedError):
        enrolment.enrol(
            engine,
            token=token,
            organisation="Acme",
            identity_key=signing.public_key_bytes(key),
            signature=b"\x00" * 64,
        )
    signature = signing.sign(key, _message(token, "Acme"), context=ENROL_CONTEXT)
    first = enrolment.enrol(
        engine,
        token=token,
        organisation="Acme",
        identity_key=signing.public_key_bytes(key),
        signature=signature,
    )
    assert first.role == "supplier" and re.fullmatch(r"p-[0-9a-f]{16}", first.participant_id)
    other = signing.generate_signing_key()
    with pytest.raises(ConflictError, match="already used"):
        enrolment.enrol(
            engine,
            token=token,
            organisation="Other",
            identity_key=signing.public_key_bytes(other),
            signature=signing.sign(other, _message(token, "Other"), context=ENROL_CONTEXT),
        )


def test_an_enrolment_whose_fields_were_swapped_in_transit_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    (token,) = enrolment.issue_tokens(engine, "supplier")
    key = signing.generate_signing_key()
    signed_for = signing.sign(key, _message(token, "Honest GmbH"), context=ENROL_CONTEXT)
    with pytest.raises(UnauthenticatedError):
        enrolment.enrol(
            engine,
            token=token,
            organisation="Mallory Ltd",
            identity_key=signing.public_key_bytes(key),
            signature=signed_for,
        )


def test_a_campaign_below_the_default_minimums_is_refused_without_allow_weak(engine) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from coordinator.campaigns import create_campaign, weaknesses
    from coordinator.errors import InvalidRequestError
    from fedcarbon.campaign import CampaignKind, MetricSpec, new_campaign
    from tests.unit.keys import shared_key

    campaign = new_campaign(
        campaign_id="weak",
        kind=CampaignKind.BENCHMARK,
        title="weak",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        metrics=(MetricSpec("scope1_kgco2e", "kgCO2e", 3, 0, 10**9),),
        key=shared_key(("t1", "t2", "t3"), 2, "weak"),
        min_contributors=2,
    )
    assert weaknesses(campaign) == ["the key has 512 bits, below 2048", "k = 2, below 3"]
    with pytest.raises(InvalidRequestError, match=r"below the default minimums.*--allow-weak"):
        create_campaign(engine, campaign)


def test_the_same_enrolment_resent_gets_the_same_answer(engine) -> None:  # type: ignore[no-untyped-def]
    """A retry after a lost reply (agent/client.py) must not fail or enrol twice."""
    (token,) = enrolment.issue_tokens(engine, "supplier")
    key = signing.generate_signing_key()
    request = {
        "token": token,
        "organisation": "Acme",
        "identity_key": signing.public_key_bytes(key),
        "signature": signing.sign(key, _message(token, "Acme"), context=ENROL_CONTEXT),
    }
    first = enrolment.enrol(engine, **request)  # type: ignore[arg-type]
    again = enrolment.enrol(engine, **request)  # type: ignore[arg-type]
    assert again.participant_id == first.participant_id and again.role == first.role
    assert len(enrolment.list_participants(engine)) == 1
