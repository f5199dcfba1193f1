"""agent.toml: parsed into one typed object, unknown keys named, environment overrides."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import CONFIG_FILE, Policy, load_config, write_config
from agent.errors import ConfigError

MINIMAL = """
[agent]
organisation = "Nordstahl Werke GmbH"
coordinator = "coordinator.example:50051"
"""


def _home(tmp_path: Path, text: str) -> Path:
    (tmp_path / CONFIG_FILE).write_text(text)
    return tmp_path


@pytest.fixture(autouse=True)
def _no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEDCARBON_AGENT_COORDINATOR", raising=False)


def test_a_minimal_file_gives_the_defaults(tmp_path: Path) -> None:
    config = load_config(_home(tmp_path, MINIMAL))
    assert (config.organisation, config.coordinator, config.role, config.gwp) == (
        "Nordstahl Werke GmbH",
        "coordinator.example:50051",
        "supplier",
        "AR6",
    )
    assert config.policy == Policy() and config.adapters == () and config.customers == {}


def test_every_agent_key_is_read(tmp_path: Path) -> None:
    home = _home(
        tmp_path,
        MINIMAL
        + 'role = "buyer"\nsector = "C24"\nregion = "DE"\nsize_band = "large"\ngwp = "AR5"\n'
        'factors = ["ours.csv", "sub/more.csv"]\n',
    )
    config = load_config(home)
    assert (config.role, config.sector, config.region, config.size_band, config.gwp) == (
        "buyer",
        "C24",
        "DE",
        "large",
        "AR5",
    )
    assert config.factors == (home / "ours.csv", home / "sub" / "more.csv")


def test_policy_customers_and_adapters_are_read(tmp_path: Path) -> None:
    home = _home(
        tmp_path,
        MINIMAL
        + """
[policy]
min_contributors = 5
kinds = ["benchmark"]
min_key_bits = 3072
epsilon_per_period = 2.5
delta_per_period = 1e-9
allow_unnoised_benchmarks = false

[customers]
"participant-9" = "Helix Motors AG"

[[adapters]]
name = "csv"
path = "activities.csv"
""",
    )
    config = load_config(home)
    assert config.policy == Policy(
        min_contributors=5,
        kinds=("benchmark",),
        min_key_bits=3072,
        epsilon_per_period=2.5,
        delta_per_period=1e-9,
        allow_unnoised_benchmarks=False,
    )
    assert config.customers == {"participant-9": "Helix Motors AG"}
    assert config.adapters == ({"name": "csv", "path": "activities.csv"},)


def test_a_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no agent configuration; run `fedcarbon agent init`"):
        load_config(tmp_path)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    home = _home(tmp_path, "[agent\norganisation = 1")
    with pytest.raises(ConfigError, match=rf"{CONFIG_FILE}: not valid TOML"):
        load_config(home)


@pytest.mark.parametrize("key", ["organisation", "coordinator"])
def test_a_missing_required_key_is_named(tmp_path: Path, key: str) -> None:
    text = "\n".join(line for line in MINIMAL.splitlines() if not line.startswith(key))
    with pytest.raises(ConfigError, match=rf"\[agent\] needs '{key}'"):
        load_config(_home(tmp_path, text))


def test_unknown_agent_keys_are_named(tmp_path: Path) -> None:
    home = _home(tmp_path, MINIMAL + 'coordinater = "typo:1"\ncolour = "blue"\n')
    with pytest.raises(
        ConfigError, match=r"unknown keys in \[agent\]: \['colour', 'coordinater'\]"
    ):
        load_config(home)


def test_an_unknown_policy_key_is_named(tmp_path: Path) -> None:
    home = _home(tmp_path, MINIMAL + "[policy]\nmin_contributor = 4\n")
    with pytest.raises(ConfigError, match=r"\[policy\].*min_contributor"):
        load_config(home)


def test_an_adapter_without_a_name_is_refused(tmp_path: Path) -> None:
    home = _home(tmp_path, MINIMAL + '[[adapters]]\npath = "activities.csv"\n')
    with pytest.raises(ConfigError, match=r"every \[\[adapters\]\] table needs a name"):
        load_config(home)


def test_the_environment_overrides_the_coordinator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDCARBON_AGENT_COORDINATOR", "10.0.0.7:443")
    assert load_config(_home(tmp_path, MINIMAL)).coordinator == "10.0.0.7:443"


def test_paths_derive_from_the_home(tmp_path: Path) -> None:
    config = load_config(_home(tmp_path, MINIMAL))
    assert config.identity_key_path == tmp_path / "identity.pem"
    assert config.database_url == f"sqlite:///{tmp_path / 'agent.sqlite'}"


def test_write_config_then_load_config_round_trips(tmp_path: Path) -> None:
    organisation = 'Müller "Stahl" \\ Söhne'
    write_config(
        tmp_path,
        organisation=organisation,
        coordinator="127.0.0.1:50051",
        role="buyer",
        sector="C24",
        region="AT",
        size_band="medium",
        activities="data/activities.csv",
        customers={"participant-1": 'Helix "Motors" AG'},
    )
    config = load_config(tmp_path)
    assert (config.organisation, config.coordinator, config.role) == (
        organisation,
        "127.0.0.1:50051",
        "buyer",
    )
    assert (config.sector, config.region, config.size_band) == ("C24", "AT", "medium")
    assert config.customers == {"participant-1": 'Helix "Motors" AG'}
    assert config.adapters == ({"name": "csv", "path": "data/activities.csv"},)


def test_a_written_configuration_carries_the_default_policy(tmp_path: Path) -> None:
    write_config(tmp_path, organisation="Acme", coordinator="127.0.0.1:1")
    assert load_config(tmp_path).policy == Policy()


def test_write_config_creates_the_home(tmp_path: Path) -> None:
    home = tmp_path / "new" / "agent"
    assert write_config(home, organisation="Acme", coordinator="h:1") == home / CONFIG_FILE
    assert load_config(home).organisation == "Acme"


_names = st.text(min_size=1, max_size=30)


@settings(max_examples=50, deadline=None)
@given(organisation=_names, customer=_names)
def test_any_names_round_trip(organisation: str, customer: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        write_config(
            home,
            organisation=organisation,
            coordinator="h:1",
            customers={"participant-1": customer},
        )
        config = load_config(home)
    assert (config.organisation, config.customers) == (organisation, {"participant-1": customer})


def test_a_name_with_a_newline_round_trips(tmp_path: Path) -> None:
    write_config(tmp_path, organisation="Acme\nGmbH", coordinator="h:1")
    assert load_config(tmp_path).organisation == "Acme\nGmbH"


def test_a_policy_value_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    home = _home(tmp_path, MINIMAL + '[policy]\nmin_contributors = "five"\n')
    with pytest.raises(ConfigError, match="min_contributors"):
        load_config(home)


def test_gossip_endpoints_are_read(tmp_path: Path) -> None:
    home = _home(tmp_path, MINIMAL + 'gossip = ["trustee-a.example:7443", "10.0.0.2:7443"]\n')
    assert load_config(home).gossip == ("trustee-a.example:7443", "10.0.0.2:7443")


@pytest.mark.parametrize(
    "value", ['"t.example:7443"', '["t.example"]', '["t.example:port"]', "[7443]", '[":7443"]']
)
def test_a_malformed_gossip_endpoint_is_refused(tmp_path: Path, value: str) -> None:
    home = _home(tmp_path, MINIMAL + f"gossip = {value}\n")
    with pytest.raises(ConfigError, match=r"\[agent\] gossip must be a list of \"host:port\""):
        load_config(home)


def test_gossip_certificates_are_read_relative_to_the_home(tmp_path: Path) -> None:
    home = _home(
        tmp_path,
        MINIMAL + 'gossip = ["t.example:7443"]\n'
        'gossip_certificates = {"t.example:7443" = "certs/t.pem"}\n',
    )
    assert load_config(home).gossip_certificates == {"t.example:7443": tmp_path / "certs/t.pem"}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ('"t.pem"', "must be a table"),
        ('{"t.example:7443" = 1}', "must be a table"),
        ('{"u.example:7443" = "u.pem"}', r"names \['u.example:7443'\], not listed in gossip"),
    ],
)
def test_malformed_gossip_certificates_are_named(tmp_path: Path, value: str, why: str) -> None:
    home = _home(
        tmp_path, MINIMAL + f'gossip = ["t.example:7443"]\ngossip_certificates = {value}\n'
    )
    with pytest.raises(ConfigError, match=rf"\[agent\] gossip_certificates {why}"):
        load_config(home)
