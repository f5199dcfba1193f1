"""Answers past gRPC's default 4 MiB receive limit reach clients (found at N = 1,000 by
benchmarks/bench_submissions.py: a log page, and the aggregate bundle, outgrew it)."""

import pytest
from sqlmodel import Session

from coordinator import log as log_module
from coordinator.config import load_config
from coordinator.log import TransparencyLog
from coordinator.store import open_engine
from coordinator.submissions import stage_submission
from tests.integration.conftest import Federation

MIB = 1024 * 1024


def test_a_six_mib_log_page_reaches_a_member_over_tls(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two 3 MiB entries in one page: 6 MiB, past the default limit and under the new one.
    monkeypatch.setattr(log_module, "MAX_ENTRY_BYTES_PER_CALL", 16 * MIB)
    engine = open_engine(load_config(federation.coordinator_home).effective_database_url)
    entries = [bytes([1]) * (3 * MIB), bytes([2]) * (3 * MIB)]
    with Session(engine) as session:
        first = TransparencyLog.next_index(session)
        for offset, entry in enumerate(entries):
            index = first + offset
            stage_submission(session, index, f"large-{index}", "large", f"p-large-{index}", entry)
        session.commit()
    engine.dispose()
    with federation.client() as client:
        assert client.tree_head().tree_size == first + 2
        assert client.entries(first, first + 2) == entries
