"""Every command answers --help, and the root lists every group a new user needs."""

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from fedcarbon.cli import app

runner = CliRunner()


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in getattr(group, "commands", {}).items():
        found += _commands(sub, (*prefix, name))
    return found


ALL = _commands(get_command(app))


def test_root_lists_every_command_group() -> None:
    out = runner.invoke(app, ["--help"]).output
    for group in (
        "demo",
        "agent",
        "coordinator",
        "trustee",
        "footprint",
        "factors",
        "pact",
        "adapter",
        "audit",
    ):
        assert group in out


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) or "fedcarbon" for p in ALL])
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    body = result.output.split("Usage:", 1)[1]
    assert len(body.strip().splitlines()) > 2  # more than a bare usage line


def test_unknown_command_fails_cleanly() -> None:
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code != 0
    assert "No such command" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("fedcarbon ")
