"""coordinator.toml: defaults, unknown keys named, environment overrides, write/read."""

from pathlib import Path

import pytest

from coordinator.config import (
    CONFIG_FILE,
    DEFAULT_LISTEN,
    CoordinatorConfig,
    load_config,
    write_config,
)
from coordinator.errors import CoordinatorError

_ENV = (
    "FEDCARBON_COORDINATOR_LISTEN",
    "FEDCARBON_COORDINATOR_DATABASE_URL",
    "FEDCARBON_COORDINATOR_METRICS_PORT",
)


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


def _home(tmp_path: Path, text: str) -> Path:
    (tmp_path / CONFIG_FILE).write_text(text)
    return tmp_path


def test_without_a_file_the_defaults_apply(tmp_path: Path) -> None:
    assert load_config(tmp_path) == CoordinatorConfig(home=tmp_path)


def test_the_default_database_is_sqlite_in_the_home(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.listen == DEFAULT_LISTEN
    assert config.effective_database_url == f"sqlite:///{tmp_path / 'coordinator.sqlite'}"


def test_a_configured_database_url_is_used_as_is(tmp_path: Path) -> None:
    url = "postgresql+psycopg://fedcarbon@db.internal/fedcarbon"
    home = _home(tmp_path, f'[coordinator]\ndatabase_url = "{url}"\n')
    assert load_config(home).effective_database_url == url


def test_every_key_is_read(tmp_path: Path) -> None:
    home = _home(
        tmp_path,
        '[coordinator]\nlisten = "0.0.0.0:7000"\ndatabase_url = "sqlite:////tmp/x.db"\n'
        'log_id = "acme-log"\nmetrics_port = 9100\n',
    )
    assert load_config(home) == CoordinatorConfig(
        tmp_path, "0.0.0.0:7000", "sqlite:////tmp/x.db", "acme-log", 9100
    )


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    home = _home(tmp_path, '[coordinator]\nlisten = "h:1"\ndatabase = "x"\nport = 3\n')
    with pytest.raises(
        CoordinatorError, match=r"unknown keys in \[coordinator\]: \['database', 'port'\]"
    ):
        load_config(home)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    home = _home(tmp_path, '[coordinator\nlisten = "h:1"\n')
    with pytest.raises(CoordinatorError, match=rf"{CONFIG_FILE}: not valid TOML"):
        load_config(home)


def test_the_environment_overrides_listen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _home(tmp_path, '[coordinator]\nlisten = "127.0.0.1:1"\n')
    monkeypatch.setenv("FEDCARBON_COORDINATOR_LISTEN", "[::]:50051")
    assert load_config(home).listen == "[::]:50051"


def test_the_environment_overrides_the_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _home(tmp_path, '[coordinator]\ndatabase_url = "sqlite:////tmp/file.db"\n')
    monkeypatch.setenv("FEDCARBON_COORDINATOR_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert load_config(home).effective_database_url == "postgresql+psycopg://u@h/db"


def test_the_environment_overrides_the_metrics_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDCARBON_COORDINATOR_METRICS_PORT", "9200")
    assert load_config(tmp_path).metrics_port == 9200


def test_an_override_leaves_other_keys_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _home(tmp_path, '[coordinator]\nlisten = "127.0.0.1:1"\nlog_id = "acme-log"\n')
    monkeypatch.setenv("FEDCARBON_COORDINATOR_LISTEN", "127.0.0.1:2")
    assert load_config(home).log_id == "acme-log"


def test_a_non_numeric_metrics_port_override_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDCARBON_COORDINATOR_METRICS_PORT", "ninety")
    with pytest.raises(CoordinatorError, match="FEDCARBON_COORDINATOR_METRICS_PORT"):
        load_config(tmp_path)


def test_write_config_then_load_config_round_trips(tmp_path: Path) -> None:
    config = CoordinatorConfig(
        tmp_path, "0.0.0.0:50052", "postgresql+psycopg://postgres@127.0.0.1/fc", "eu-log", 9101
    )
    assert write_config(config) == tmp_path / CONFIG_FILE
    assert load_config(tmp_path) == config


def test_the_default_configuration_round_trips(tmp_path: Path) -> None:
    write_config(CoordinatorConfig(tmp_path))
    assert load_config(tmp_path) == CoordinatorConfig(tmp_path)


def test_strings_with_quotes_and_backslashes_round_trip(tmp_path: Path) -> None:
    config = CoordinatorConfig(tmp_path, log_id='acme "eu" log \\ 2024')
    write_config(config)
    assert load_config(tmp_path) == config


def test_derived_paths_live_in_the_home(tmp_path: Path) -> None:
    assert CoordinatorConfig(tmp_path).log_key_path == tmp_path / "log-key.pem"
