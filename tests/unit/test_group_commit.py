"""Group commit of accepted submissions (coordinator/submissions.py, ``_record``).

A batch of checked submissions is stored and logged in one transaction and answered under one
signed tree head; whatever one item does wrong (a second submission of its participant, a
campaign that filled up or closed, a row another replica wrote) is refused for that item alone
and the rest of the batch goes in.
"""

from pathlib import Path

import pytest
from sqlmodel import Session, select

from coordinator.errors import ConflictError
from coordinator.log import TransparencyLog
from coordinator.store import CampaignRow, LogLeaf, SubmissionRow, open_engine
from coordinator.submissions import SubmissionDesk, _Accepted, stage_submission
from fedcarbon.audit import signing
from fedcarbon.audit.receipts import Receipt, verify_receipt


@pytest.fixture
def desk(tmp_path: Path) -> SubmissionDesk:
    engine = open_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    with Session(engine) as session:  # _record reads only the state and the count
        session.add(CampaignRow(campaign_id="a", definition=b"terms", state="open"))
        session.add(CampaignRow(campaign_id="b", definition=b"terms", state="open"))
        session.add(CampaignRow(campaign_id="shut", definition=b"terms", state="closed"))
        session.commit()
    return SubmissionDesk(engine, TransparencyLog(engine, signing.generate_signing_key(), "t"))


def _item(campaign: str, participant: str, version: str = "", room: int = 10) -> _Accepted:
    sid = f"{campaign}-{participant}{version}"
    return _Accepted(campaign, participant, sid, f"entry {sid}".encode(), room)


def _stored(desk: SubmissionDesk) -> list[tuple[int, str]]:
    with Session(desk._engine) as session:
        rows = session.exec(select(SubmissionRow).order_by(SubmissionRow.leaf_index)).all()  # type: ignore[arg-type]
        leaves = session.exec(select(LogLeaf)).all()
        logged = sorted(leaf.submission_id for leaf in leaves)
        assert logged == sorted(row.submission_id for row in rows)
        return [(row.leaf_index, row.submission_id) for row in rows]


def _store_elsewhere(desk: SubmissionDesk, item: _Accepted, index: int) -> None:
    """Store ``item`` at leaf ``index`` as another replica would, behind this desk's back."""
    with Session(desk._engine) as session:
        stage_submission(
            session, index, item.submission_id, item.campaign_id, item.participant_id, item.entry
        )
        session.commit()


def _receipt(outcome: object) -> Receipt:
    assert isinstance(outcome, tuple), outcome
    receipt, duplicate = outcome
    assert isinstance(receipt, Receipt) and duplicate is False
    return receipt


def test_a_batch_goes_in_under_one_signed_tree_head(desk: SubmissionDesk) -> None:
    batch = [_item("a", "p1"), _item("b", "p1"), _item("a", "p2")]
    receipts = [_receipt(o) for o in desk._record(batch)]
    assert [r.leaf_index for r in receipts] == [0, 1, 2]
    assert len({r.tree_head.signature for r in receipts}) == 1  # one signature for the batch
    for receipt, item in zip(receipts, batch, strict=True):
        assert receipt.entry == item.entry
        verify_receipt(receipt, desk._log.public_key)
    assert _stored(desk) == [(0, "a-p1"), (1, "b-p1"), (2, "a-p2")]


def test_each_item_at_fault_is_refused_alone(desk: SubmissionDesk) -> None:
    desk._record([_item("a", "early", room=3)])
    batch = [
        _item("a", "p1", room=3),
        _item("a", "p1", room=3),  # the same submission twice in one batch: counted once
        _item("a", "p1", "-v2", room=3),  # another submission of the same participant
        _item("shut", "p3"),  # a campaign that is not open
        _item("a", "p4", room=3),  # the campaign's third and last slot
        _item("a", "p5", room=3),  # one too many
        _item("b", "p5"),
    ]
    outcomes = desk._record(batch)
    first = _receipt(outcomes[0])
    again = outcomes[1]
    assert isinstance(again, tuple) and again[1] is True and again[0].leaf_index == first.leaf_index
    for position, message in ((2, "already submitted"), (3, "no longer open"), (5, "is full")):
        refusal = outcomes[position]
        assert isinstance(refusal, ConflictError) and message in str(refusal), refusal
    assert _receipt(outcomes[4]).leaf_index == 2 and _receipt(outcomes[6]).leaf_index == 3
    assert _stored(desk) == [(0, "a-early"), (1, "a-p1"), (2, "a-p4"), (3, "b-p5")]


def test_a_row_written_elsewhere_makes_the_batch_go_in_one_by_one(desk: SubmissionDesk) -> None:
    """Another replica stored p1's submission after this one checked it: the batch's commit
    hits the uniqueness constraint, is rolled back whole, and each item is appended alone."""
    _store_elsewhere(desk, _item("a", "p1", "-elsewhere"), 0)
    outcomes = desk._record([_item("a", "p0"), _item("a", "p1"), _item("a", "p2")])
    assert isinstance(outcomes[1], ConflictError) and "already submitted" in str(outcomes[1])
    assert [_receipt(outcomes[i]).leaf_index for i in (0, 2)] == [1, 2]
    assert _stored(desk) == [(0, "a-p1-elsewhere"), (1, "a-p0"), (2, "a-p2")]


def test_the_same_submission_stored_elsewhere_is_answered_as_a_duplicate(
    desk: SubmissionDesk,
) -> None:
    desk._record([_item("a", "p1")])
    desk_log_size = desk._log.refresh()
    outcomes = desk._record([_item("a", "p2"), _item("a", "p1")])  # p1 again: its own receipt
    again = outcomes[1]
    assert isinstance(again, tuple) and again[1] is True and again[0].leaf_index == 0
    assert _receipt(outcomes[0]).leaf_index == desk_log_size


def test_a_resend_racing_its_original_gets_its_receipt_even_when_the_campaign_filled(
    desk: SubmissionDesk,
) -> None:
    """The resend passed the look-up before its original was stored; by the time it is
    appended the campaign is full (or closed): it is still answered as what it is, the same
    submission, and a different one from the same participant is named as such."""
    desk._record([_item("a", "p1", room=1)])
    outcomes = desk._record([_item("a", "p1", room=1), _item("a", "p1", "-v2", room=1)])
    again, other = outcomes
    assert isinstance(again, tuple) and again[1] is True and again[0].leaf_index == 0
    assert isinstance(other, ConflictError) and "already submitted" in str(other)
    _store_elsewhere(desk, _item("shut", "p9", "-old"), 1)
    late = desk._record([_item("shut", "p9")])[0]
    assert isinstance(late, ConflictError)
    assert "already submitted" in str(late)
