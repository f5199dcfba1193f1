"""User errors are shown verbatim: square brackets in a message are text, not markup."""

import pytest
import typer

from fedcarbon.console import fail


def test_fail_prints_brackets_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as caught:
        fail("agent.toml: [policy] min_contributors must be int; bounds [0, 10]")
    assert caught.value.exit_code == 1
    assert "[policy] min_contributors must be int; bounds [0, 10]" in capsys.readouterr().err
