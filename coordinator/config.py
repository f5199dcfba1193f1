"""Coordinator configuration: one typed object, read once at start-up from TOML and environment.

Environment variables override the file: FEDCARBON_COORDINATOR_LISTEN,
FEDCARBON_COORDINATOR_DATABASE_URL, FEDCARBON_COORDINATOR_METRICS_PORT.

TLS (docs/tls.md): ``tls_cert_file``/``tls_key_file`` are the server certificate and key,
``tls_client_ca_file`` the CA that client certificates must chain to, and
``tls_client_ca_key_file`` its key, with which the coordinator signs the client certificates
of enrolling participants and of invites. Paths may be relative to the home directory.
``insecure = true`` serves plaintext, and only on a loopback address.
"""

import json
import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from coordinator.errors import CoordinatorError

DEFAULT_LISTEN = "127.0.0.1:50051"
CONFIG_FILE = "coordinator.toml"


@dataclass(frozen=True)
class CoordinatorConfig:
    """Where the coordinator listens and keeps its state."""

    home: Path
    listen: str = DEFAULT_LISTEN
    database_url: str = ""
    log_id: str = "fedcarbon-log"
    metrics_port: int = 0  # 0 = no Prometheus endpoint
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""
    tls_client_ca_key_file: str = ""
    insecure: bool = False

    def tls_path(self, value: str) -> Path:
        """A configured TLS file path; relative ones are inside the home directory."""
        return self.home / value

    @property
    def log_key_path(self) -> Path:
        return self.home / "log-key.pem"

    @property
    def manifest_path(self) -> Path:
        """The federation manifest installed by `fedcarbon coordinator manifest install`."""
        return self.home / "federation-manifest.json"

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite default in the home directory."""
        return self.database_url or f"sqlite:///{self.home / 'coordinator.sqlite'}"


def load_config(home: Path) -> CoordinatorConfig:
    """Read ``home/coordinator.toml`` (if present) and apply environment overrides."""
    path = home / CONFIG_FILE
    values: dict[str, object] = {}
    if path.exists():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8")).get("coordinator", {})
        except UnicodeDecodeError:
            raise CoordinatorError(
                f"{path}: not a text file (not UTF-8); restore it from a backup, or move it "
                "away and run `fedcarbon coordinator init` with this --home again"
            ) from None
        except tomllib.TOMLDecodeError as error:
            raise CoordinatorError(f"{path}: not valid TOML ({error})") from None
    known = {
        "listen",
        "database_url",
        "log_id",
        "metrics_port",
        "tls_cert_file",
        "tls_key_file",
        "tls_client_ca_file",
        "tls_client_ca_key_file",
        "insecure",
    }
    unknown = set(values) - known
    if unknown:
        raise CoordinatorError(f"{path}: unknown keys in [coordinator]: {sorted(unknown)}")
    if not isinstance(values.get("insecure", False), bool):
        raise CoordinatorError(f"{path}: [coordinator] insecure must be true or false")
    for key in ("tls_cert_file", "tls_key_file", "tls_client_ca_file", "tls_client_ca_key_file"):
        if not isinstance(values.get(key, ""), str):
            raise CoordinatorError(f"{path}: [coordinator] {key} must be a path string")
    config = CoordinatorConfig(home=home, **values)  # type: ignore[arg-type]
    env = os.environ
    overrides: dict[str, object] = {}
    if "FEDCARBON_COORDINATOR_LISTEN" in env:
        overrides["listen"] = env["FEDCARBON_COORDINATOR_LISTEN"]
    if "FEDCARBON_COORDINATOR_DATABASE_URL" in env:
        overrides["database_url"] = env["FEDCARBON_COORDINATOR_DATABASE_URL"]
    if "FEDCARBON_COORDINATOR_METRICS_PORT" in env:
        raw = env["FEDCARBON_COORDINATOR_METRICS_PORT"]
        if not raw.isdigit() or not 0 <= int(raw) <= 65535:
            raise CoordinatorError(
                f"FEDCARBON_COORDINATOR_METRICS_PORT must be a port number 0..65535, got {raw!r}"
            )
        overrides["metrics_port"] = int(raw)
    return replace(config, **overrides)  # type: ignore[arg-type]


def _quote(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's (plus DEL, which TOML forbids raw)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def write_config(config: CoordinatorConfig) -> Path:
    path = config.home / CONFIG_FILE
    lines = [
        "# fedcarbon coordinator configuration",
        "[coordinator]",
        f"listen = {_quote(config.listen)}",
        "# Empty = embedded SQLite in this directory; e.g. postgresql+psycopg://user@host/db",
        f"database_url = {_quote(config.database_url)}",
        f"log_id = {_quote(config.log_id)}",
        "# Prometheus metrics on this port (0 = off)",
        f"metrics_port = {config.metrics_port}",
        "# TLS (docs/tls.md); paths relative to this directory. insecure = true serves",
        "# plaintext, on a loopback address only (demos).",
        f"tls_cert_file = {_quote(config.tls_cert_file)}",
        f"tls_key_file = {_quote(config.tls_key_file)}",
        f"tls_client_ca_file = {_quote(config.tls_client_ca_file)}",
        f"tls_client_ca_key_file = {_quote(config.tls_client_ca_key_file)}",
        f"insecure = {'true' if config.insecure else 'false'}",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path
