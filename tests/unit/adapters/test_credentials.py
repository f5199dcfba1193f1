"""Secrets come from the environment or a private file, never from a world-readable one."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedcarbon.adapters.credentials import read_secret, redact
from fedcarbon.adapters.errors import CredentialError


def test_secret_from_environment() -> None:
    assert read_secret("sql", env="PW", file=None, environ={"PW": "s3cret"}) == "s3cret"


def test_unset_variable_is_named() -> None:
    with pytest.raises(CredentialError, match=r"\$PW, which is not set"):
        read_secret("sql", env="PW", file=None, environ={})


def test_private_file_is_read_and_stripped(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    assert read_secret("sql", env=None, file=secret) == "s3cret"


def test_group_readable_file_is_refused_without_showing_the_secret(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret")
    secret.chmod(0o640)
    with pytest.raises(CredentialError, match="chmod 600") as info:
        read_secret("sql", env=None, file=secret)
    assert "s3cret" not in str(info.value)


def test_env_and_file_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CredentialError, match="cannot be combined"):
        read_secret("sql", env="PW", file=tmp_path / "pw", environ={"PW": "x"})


def test_no_secret_configured_is_none() -> None:
    assert read_secret("sql", env=None, file=None) is None


def test_redact_hides_secret_in_driver_messages() -> None:
    assert redact("connect to postgres://u:s3cret@h failed", "s3cret") == (
        "connect to postgres://u:***@h failed"
    )
