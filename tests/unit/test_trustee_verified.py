"""What a trustee remembers having verified (agent/verified.py): durable, exact, and never
trusted beyond what it names."""

from pathlib import Path

from agent.verified import VerifiedAttestations


def test_remembered_attestations_survive_a_restart_and_a_cut_line_is_ignored(
    tmp_path: Path,
) -> None:
    first, second = "a" * 64, "b" * 64
    VerifiedAttestations(tmp_path).add([first, second])
    path = tmp_path / "verified" / "attestations.txt"
    path.write_text(path.read_text() + "c" * 20)  # a crash cut the last line short
    again = VerifiedAttestations(tmp_path)
    assert first in again and second in again and len(again) == 2
    again.add(["d" * 64])
    assert len(VerifiedAttestations(tmp_path)) == 3


def test_a_corrupted_attestation_line_is_not_a_remembered_success(tmp_path: Path) -> None:
    VerifiedAttestations(tmp_path).add(["a" * 64])
    path = tmp_path / "verified" / "attestations.txt"
    path.write_bytes(b"\xff" * 64 + b"\n" + b"A" * 64 + b"\n")
    assert len(VerifiedAttestations(tmp_path)) == 0
