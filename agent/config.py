"""Agent configuration: one typed object read once from ``agent.toml`` (+ environment).

``FEDCARBON_AGENT_COORDINATOR`` overrides the coordinator address. Relative paths (adapter
files, factor overlays) resolve against the agent's home directory.
"""

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import ConfigError
from fedcarbon.campaign import DEFAULT_MIN_CONTRIBUTORS
from fedcarbon.crypto.vector import MIN_KEY_BITS
from fedcarbon.federation.errors import LegalIdError
from fedcarbon.federation.legal_id import normalise_legal_id

CONFIG_FILE = "agent.toml"


@dataclass(frozen=True)
class Policy:
    """What this participant agrees to before anything leaves the building."""

    # Refuse campaigns whose k is below this (privacy model point 2 as the agent sees it).
    min_contributors: int = DEFAULT_MIN_CONTRIBUTORS
    kinds: tuple[str, ...] = ("supply_chain", "benchmark")
    min_key_bits: int = MIN_KEY_BITS
    # Refuse keys fewer than this many trustees must cooperate on (1 accepts a single holder).
    min_threshold: int = 2
    # Differential-privacy budget per reporting period (sum of campaign epsilons).
    epsilon_per_period: float = 10.0
    delta_per_period: float = 1e-6
    # Benchmarks without noise reveal exact cohort sums; accept them only if you agree.
    allow_unnoised_benchmarks: bool = True
    # Submit only to campaigns granted with `fedcarbon agent consent grant` (a revoked one is
    # refused whatever this says).
    require_consent: bool = False


@dataclass(frozen=True)
class AgentConfig:
    home: Path
    organisation: str
    coordinator: str
    role: str = "supplier"
    sector: str = ""
    region: str = ""
    size_band: str = ""
    # "LEI:...", "VAT:<CC>..." or "CRN:<CC>:...": sent (signed) at enrolment, for attesters.
    legal_id: str = ""
    gwp: str = "AR6"
    factors: tuple[Path, ...] = ()
    adapters: tuple[dict[str, Any], ...] = ()
    policy: Policy = field(default_factory=Policy)
    # Participant id -> the customer name this organisation's activity data uses for it.
    customers: dict[str, str] = field(default_factory=dict)
    # Trustees' gossip endpoints (host:port) to compare signed tree heads with (agent/gossip.py).
    gossip: tuple[str, ...] = ()
    # Endpoint -> its trustee's self-signed certificate (tls/gossip.pem), for endpoints above
    # that the pinned manifest does not vouch for (docs/tls.md, "Gossip").
    gossip_certificates: dict[str, Path] = field(default_factory=dict)
    # TLS (fedcarbon/transport.py, docs/tls.md): the CA that verifies the coordinator, or
    # plaintext for a loopback demo against `coordinator serve --insecure`.
    ca_file: str = "tls/ca.pem"
    insecure: bool = False

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.home / 'agent.sqlite'}"

    @property
    def identity_key_path(self) -> Path:
        return self.home / "identity.pem"


_POLICY_TYPES: dict[str, tuple[type, ...]] = {
    "min_contributors": (int,),
    "kinds": (tuple,),
    "min_key_bits": (int,),
    "min_threshold": (int,),
    "epsilon_per_period": (int, float),
    "delta_per_period": (int, float),
    "allow_unnoised_benchmarks": (bool,),
    "require_consent": (bool,),
}


def _check_policy_types(path: Path, options: dict[str, Any]) -> None:
    """Name the [policy] key whose value has the wrong type, before it is ever used."""
    for key, value in options.items():
        expected = _POLICY_TYPES.get(key)
        if expected is None:
            raise ConfigError(f"{path}: unknown key in [policy]: {key!r}")
        wrong_bool = isinstance(value, bool) and bool not in expected
        if wrong_bool or not isinstance(value, expected):
            names = " or ".join("list" if t is tuple else t.__name__ for t in expected)
            raise ConfigError(f"{path}: [policy] {key} must be {names}, got {value!r}")
        if isinstance(value, tuple) and not all(isinstance(k, str) for k in value):
            raise ConfigError(f"{path}: [policy] kinds must be a list of strings")


def _legal_id(path: Path, value: object) -> str:
    if value == "":
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{path}: [agent] legal_id must be a string, got {value!r}")
    try:
        return normalise_legal_id(value)
    except LegalIdError as error:
        raise ConfigError(f"{path}: [agent] {error}") from None


def load_config(home: Path) -> AgentConfig:
    path = home / CONFIG_FILE
    if not path.exists():
        raise ConfigError(f"{path}: no agent configuration; run `fedcarbon agent init` first")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path}: not a text file (not UTF-8); restore it from a backup, or move it away "
            "and run `fedcarbon agent init` (or `trustee init`) with this --home again"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    section = document.get("agent", {})
    for key in ("organisation", "coordinator"):
        if not section.get(key):
            raise ConfigError(f"{path}: [agent] needs {key!r}")
    known = {
        "organisation",
        "coordinator",
        "role",
        "sector",
        "region",
        "size_band",
        "legal_id",
        "gwp",
        "factors",
        "gossip",
        "gossip_certificates",
        "ca_file",
        "insecure",
    }
    unknown = set(section) - known
    if unknown:
        raise ConfigError(f"{path}: unknown keys in [agent]: {sorted(unknown)}")
    policy_section = document.get("policy", {})
    try:
        options: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in policy_section.items()
        }
        _check_policy_types(path, options)
        policy = Policy(**options)
    except TypeError as error:
        raise ConfigError(f"{path}: [policy]: {error}") from None
    gossip = section.get("gossip", [])
    if not isinstance(gossip, list) or not all(
        isinstance(g, str) and g.rpartition(":")[0] and g.rpartition(":")[2].isdigit()
        for g in gossip
    ):
        raise ConfigError(f'{path}: [agent] gossip must be a list of "host:port" strings')
    certificates = section.get("gossip_certificates", {})
    if not isinstance(certificates, dict) or not all(
        isinstance(v, str) and v for v in certificates.values()
    ):
        raise ConfigError(
            f'{path}: [agent] gossip_certificates must be a table {{"host:port" = "file.pem"}}'
        )
    unlisted = sorted(set(certificates) - set(gossip))
    if unlisted:
        raise ConfigError(
            f"{path}: [agent] gossip_certificates names {unlisted}, not listed in gossip"
        )
    if not isinstance(section.get("insecure", False), bool):
        raise ConfigError(f"{path}: [agent] insecure must be true or false")
    if not isinstance(section.get("ca_file", "tls/ca.pem"), str):
        raise ConfigError(f"{path}: [agent] ca_file must be a path string")
    adapters = document.get("adapters", [])
    if not isinstance(adapters, list) or any("name" not in a for a in adapters):
        raise ConfigError(f"{path}: every [[adapters]] table needs a name")
    return AgentConfig(
        home=home,
        organisation=section["organisation"],
        coordinator=os.environ.get("FEDCARBON_AGENT_COORDINATOR", section["coordinator"]),
        role=section.get("role", "supplier"),
        sector=section.get("sector", ""),
        region=section.get("region", ""),
        size_band=section.get("size_band", ""),
        legal_id=_legal_id(path, section.get("legal_id", "")),
        gwp=section.get("gwp", "AR6"),
        factors=tuple(home / p for p in section.get("factors", [])),
        adapters=tuple(adapters),
        policy=policy,
        customers={str(k): str(v) for k, v in document.get("customers", {}).items()},
        gossip=tuple(gossip),
        gossip_certificates={k: home / v for k, v in certificates.items()},
        ca_file=section.get("ca_file", "tls/ca.pem"),
        insecure=section.get("insecure", False),
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # JSON string escapes (\n, \", \\, \uXXXX) are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def write_config(
    home: Path,
    *,
    organisation: str,
    coordinator: str,
    role: str = "supplier",
    sector: str = "",
    region: str = "",
    size_band: str = "",
    activities: str | None = None,
    customers: dict[str, str] | None = None,
    legal_id: str = "",
    insecure: bool = False,
) -> Path:
    """A commented starting configuration the participant can edit."""
    lines = [
        "# fedcarbon agent configuration. Nothing here leaves this machine.",
        "[agent]",
        f"organisation = {_toml_value(organisation)}",
        f"coordinator = {_toml_value(coordinator)}",
        f"role = {_toml_value(role)}  # supplier, buyer or trustee",
        f"sector = {_toml_value(sector)}",
        f"region = {_toml_value(region)}  # ISO 3166-1 alpha-2",
        f"size_band = {_toml_value(size_band)}",
        f"legal_id = {_toml_value(legal_id)}  # LEI:..., VAT:<CC>... or CRN:<CC>:...",
        'gwp = "AR6"  # or AR5',
        "# TLS: the CA certificate that verifies the coordinator (from your invite)",
        'ca_file = "tls/ca.pem"',
        f"insecure = {_toml_value(insecure)}  # true: plaintext, loopback demos only",
        '# factors = ["our-supplier-factors.csv"]  # your own factors, searched first',
        "# Gossip: the pinned manifest's trustees are used; extra endpoints need their",
        "# trustee's certificate (tls/gossip.pem) unless insecure = true:",
        '# gossip = ["trustee.example:7443"]  # trustees to compare the log\'s tree heads with',
        '# gossip_certificates = {"trustee.example:7443" = "trustee-gossip.pem"}',
        "",
        "[policy]",
        f"min_contributors = {DEFAULT_MIN_CONTRIBUTORS}  # refuse campaigns with a smaller k",
        'kinds = ["supply_chain", "benchmark"]',
        f"min_key_bits = {MIN_KEY_BITS}",
        "# distinct organisations of the pinned federation manifest that must cooperate to",
        "# decrypt; 1 accepts a single holder and campaigns without a pinned manifest",
        "min_threshold = 2",
        "epsilon_per_period = 10.0  # differential-privacy budget per reporting period",
        "allow_unnoised_benchmarks = true",
        "require_consent = false  # true: submit only to what `agent consent grant` allowed",
    ]
    lines += [
        "",
        "# How buyers' participant ids appear as `customer` in your activity data:",
        "[customers]",
        *(f"{_toml_value(pid)} = {_toml_value(name)}" for pid, name in (customers or {}).items()),
    ]
    if activities:
        lines += ["", "[[adapters]]", 'name = "csv"', f"path = {_toml_value(activities)}"]
    home.mkdir(parents=True, exist_ok=True)
    path = home / CONFIG_FILE
    path.write_text("\n".join(lines) + "\n")
    return path
