"""Submissions arriving together over gRPC share proof checks and a commit, and each still gets
its own answer (coordinator/batching.py, coordinator/submissions.py)."""

import threading
import time

from sqlmodel import Session, select

from coordinator.store import LogLeaf, SubmissionRow
from fedcarbon import serde, shares
from fedcarbon.audit import signing
from fedcarbon.audit.receipts import Receipt, verify_receipt
from fedcarbon.crypto import vector
from fedcarbon.submission import (
    SignedSubmission,
    SubmissionBody,
    sign_body,
    submission_proof_context,
)
from tests.integration.conftest import Federation, company

MEMBERS = ("nordstahl", "castings", "alpine", "rhein")


def _signed(fed: Federation, name: str, campaign_id: str) -> SignedSubmission:
    """A valid submission of zeros from ``name``, built and signed as its agent would."""
    with fed.client(fed.agent_home(name)) as client:
        campaign = client.get_campaign(campaign_id)
    participant = fed.agents[name]
    context = submission_proof_context(campaign.digest, participant)
    ciphertexts, proofs = shares.encrypt(campaign, [0] * len(campaign.moduli), context)
    body = SubmissionBody(
        campaign_id=campaign_id,
        participant_id=participant,
        campaign_digest=campaign.digest,
        ciphertexts=tuple(vector.to_bytes(ciphertexts, campaign.moduli)),
        nonce=name.encode().ljust(16, b"."),
        created_unix_ms=int(time.time() * 1000),
        proofs=tuple(proofs),
    )
    identity = signing.load_private_key(fed.root / "agents" / name / "identity.pem")
    return sign_body(identity, serde.body_to_bytes(body))


def test_concurrent_submissions_each_get_their_own_answer(federation: Federation) -> None:
    """Four members and one resent submission, all at once, into a campaign with three slots:
    three go in with valid receipts, the resend gets its twin's receipt, the fourth member is
    told the campaign is full, and the store holds exactly the three."""
    fed = federation
    for name in MEMBERS:
        fed.add_agent(company(name))
    fed.open_campaign("crowd", extra=("--max-contributors", "3"))
    signed = {name: _signed(fed, name, "crowd") for name in MEMBERS}
    senders = [*MEMBERS, MEMBERS[0]]  # the first member's submission goes twice
    clients = [fed.client(fed.agent_home(name)) for name in senders]
    outcomes: dict[int, tuple[Receipt, bool] | Exception] = {}
    start = threading.Barrier(len(senders))

    def send(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = clients[i].submit(signed[senders[i]])
        except Exception as error:  # compared below
            outcomes[i] = error

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(senders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for client in clients:
        client.close()

    by_member: dict[str, list[tuple[Receipt, bool] | Exception]] = {}
    for i, name in enumerate(senders):
        by_member.setdefault(name, []).append(outcomes[i])
    refused = [name for name, got in by_member.items() if isinstance(got[0], Exception)]
    assert len(refused) == 1, outcomes
    for name, got in by_member.items():
        if name in refused:
            assert all(isinstance(o, Exception) and "is full" in str(o) for o in got), got
            continue
        answers = [o for o in got if isinstance(o, tuple)]
        assert len(answers) == len(got), got
        assert len({receipt.leaf_index for receipt, _ in answers}) == 1
        assert sorted(duplicate for _, duplicate in answers) == [False, True][: len(got)]
        for receipt, _ in answers:
            assert receipt.entry == serde.signed_to_entry(signed[name])
            verify_receipt(receipt, fed.server.log.public_key)
    with Session(fed.server.engine) as session:
        stored = session.exec(
            select(SubmissionRow).where(SubmissionRow.campaign_id == "crowd")
        ).all()
        leaves = {leaf.submission_id for leaf in session.exec(select(LogLeaf)).all()}
    assert sorted(row.participant_id for row in stored) == sorted(
        fed.agents[name] for name in MEMBERS if name not in refused
    )
    assert {row.submission_id for row in stored} <= leaves
