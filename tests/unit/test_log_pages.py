"""GetEntries pages are capped in bytes, so a log of large submissions can be read at all.

A submission entry with three trustees is about 8.4 KB; a page of 1,000 of them overran the
gRPC message limits (found by benchmarks/bench_submissions.py at N = 1,000).
"""

from pathlib import Path

import pytest
from sqlmodel import Session

from coordinator import log as log_module
from coordinator.log import TransparencyLog
from coordinator.store import open_engine
from coordinator.submissions import stage_submission
from fedcarbon.audit import signing


def _log_with(tmp_path: Path, sizes: list[int]) -> tuple[TransparencyLog, list[bytes]]:
    engine = open_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    entries = [bytes([i % 256]) * size for i, size in enumerate(sizes)]
    with Session(engine) as session:
        for index, entry in enumerate(entries):
            stage_submission(session, index, f"s{index}", "c", f"p{index}", entry)
        session.commit()
    return TransparencyLog(engine, signing.generate_signing_key(), "test-log"), entries


def test_a_page_stops_before_the_byte_cap_and_reading_on_gets_every_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_module, "MAX_ENTRY_BYTES_PER_CALL", 25)
    log, entries = _log_with(tmp_path, [10, 10, 10, 30, 5, 5])
    assert log.entries(0, 6) == entries[:2]  # a third would make 30 > 25 bytes
    assert log.entries(3, 6) == entries[3:4]  # one entry over the cap still comes, alone
    read: list[bytes] = []
    while len(read) < len(entries):  # what every client does (agent/ledger.py)
        page = log.entries(len(read), len(entries))
        assert page
        read.extend(page)
    assert read == entries


def test_small_entries_fill_the_requested_range(tmp_path: Path) -> None:
    log, entries = _log_with(tmp_path, [100] * 20)
    assert log.entries(5, 15) == entries[5:15]
