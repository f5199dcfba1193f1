"""The example third-party adapter package: installed like any plugin, found, and conformant.

The package under ``examples/`` is installed (editable, no dependencies, no network) into the
running virtualenv once per session; discovery and its own conformance suite then run in fresh
interpreters, exactly as an integrator would run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "fedcarbon-adapter-example"
BUILTINS = {"csv", "xlsx", "sql", "mqtt", "opcua", "pact", "sap"}


def _installed_from_here() -> bool:
    try:
        dist = metadata.distribution("fedcarbon-adapter-example")
    except metadata.PackageNotFoundError:
        return False
    direct_url = dist.read_text("direct_url.json") or "{}"
    return bool(EXAMPLE.as_uri() == json.loads(direct_url).get("url"))


@pytest.fixture(scope="session")
def example_package() -> Path:
    """Install examples/fedcarbon-adapter-example into this venv unless it already is."""
    if not _installed_from_here():
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        command += ["--editable", str(EXAMPLE)]
        # Offline first (the venv's own setuptools); with build isolation only if that fails.
        done = subprocess.run(
            [*command, "--no-build-isolation"], capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"pip could not install the example adapter:\n{done.stderr}")
    return EXAMPLE


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )


def test_adapter_list_shows_builtins_and_the_example(example_package: Path) -> None:
    done = _run("-c", "from fedcarbon.adapters.cli import app; app()", "list", "--json")
    listed = {row["name"]: row for row in json.loads(done.stdout)}
    assert (BUILTINS | {"utility-bills"}) <= set(listed)


def test_example_loads_without_error(example_package: Path) -> None:
    done = _run("-c", "from fedcarbon.adapters.cli import app; app()", "list", "--json")
    example = next(r for r in json.loads(done.stdout) if r["name"] == "utility-bills")
    assert (example["status"], example["builtin"]) == ("ok", False)


def test_example_passes_the_conformance_kit(example_package: Path) -> None:
    done = _run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=example_package)
    assert done.returncode == 0, done.stdout + done.stderr
