"""The deployable artefacts: Dockerfile, compose.yaml and the systemd units in deploy/systemd.

Each is checked by the tool that runs it where this machine has that tool: the image is
built and its CLI run when a Docker engine answers (`docker info`), compose.yaml goes through
`docker compose config` then too, and the units through `systemd-analyze verify`. Without
them the test says why it skipped. Structural checks run everywhere: compose.yaml is parsed
with PyYAML (a project dependency, so always there, unlike an engine), the wheel is built
from exactly the files the Dockerfile copies, and every command the artefacts start is run
with ``--help`` through the real CLI.
"""

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from fedcarbon.cli import app

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
SERVICES = sorted(UNITS.glob("*.service"))
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "RestrictSUIDSGID": "yes",
    "CapabilityBoundingSet": "",
}


def _docker_engine_missing() -> str | None:
    """Why no Docker engine can be used here, or None when `docker info` succeeds."""
    if shutil.which("docker") is None:
        return "no Docker engine: the docker CLI is not installed"
    try:
        probe = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "no Docker engine: docker info did not answer within 60 s"
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["(no output)"])[-1]
        return f"no Docker engine: docker info failed: {last}"
    return None


def _help(*command: str) -> str:
    """``fedcarbon COMMAND --help`` through the real CLI; fails if the command does not exist."""
    result = CliRunner().invoke(app, [*command, "--help"], catch_exceptions=False)
    assert result.exit_code == 0, f"fedcarbon {' '.join(command)} --help:\n{result.output}"
    return result.output


def _split_command(words: list[str]) -> tuple[list[str], list[str]]:
    """(the subcommand path, the option names) of a ``fedcarbon ...`` argument list."""
    path = []
    for word in words:
        if word.startswith("-"):
            break
        path.append(word)
    return path, [w.split("=")[0] for w in words if w.startswith("--")]


# -- Dockerfile -----------------------------------------------------------------------------


def _dockerfile() -> list[str]:
    """Dockerfile instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def _copied_sources() -> list[str]:
    """Sources of the COPY instructions that read the build context (not another stage)."""
    sources = []
    for line in _dockerfile():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += shlex.split(line)[1:-1]
    return sources


def test_the_dockerfile_builds_in_one_stage_and_runs_unprivileged_in_another() -> None:
    lines = _dockerfile()
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) == 2 and " AS builder" in stages[0] and "slim" in stages[1]
    runtime = lines[lines.index(stages[1]) :]
    (user,) = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert user.split(":")[0] not in ("0", "root")
    assert 'ENTRYPOINT ["fedcarbon"]' in runtime
    assert not any("gcc" in line or "build-essential" in line for line in runtime)


def test_the_docker_build_context_holds_what_the_dockerfile_copies() -> None:
    """Every COPY source exists and is let through by .dockerignore (which excludes all
    else: tests, examples, benchmarks, the venv, databases)."""
    allowed = [
        line[1:]
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    for source in _copied_sources():
        assert list(ROOT.glob(source)), f"COPY {source}: nothing in the repository"
        assert any(source == rule.rstrip("/") or Path(source).match(rule) for rule in allowed), (
            f"COPY {source} is excluded by .dockerignore"
        )
    assert "!examples/" not in allowed and "!tests/" not in allowed


@pytest.mark.slow
def test_the_wheel_builds_from_the_files_the_dockerfile_copies(tmp_path: Path) -> None:
    """The builder stage's `pip wheel`, on exactly its inputs: the wheel has every package,
    its data files, the CLI entry points and pyproject's dependencies (and no examples)."""
    context = tmp_path / "context"
    context.mkdir()
    for source in _copied_sources():
        if source.startswith("deploy/"):
            continue  # copied into the runtime stage, not part of the wheel
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(origin, context / source)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path / "wheels"), str(context)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (tmp_path / "wheels").glob("fedcarbon-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = [
            line.removeprefix("Requires-Dist: ")
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist: ") and "extra ==" not in line
        ]
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entries = archive.read(entry_points).decode()
    for package in ("fedcarbon/cli.py", "agent/cli.py", "coordinator/server.py"):
        assert package in names
    assert any(n.startswith("fedcarbon/accounting/data/") and n.endswith(".csv") for n in names)
    assert not any(n.startswith(("examples/", "tests/")) for n in names)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert sorted(r.replace(" ", "") for r in requires) == sorted(
        d.replace(" ", "") for d in project["dependencies"]
    )
    assert "postgres" in project["optional-dependencies"]  # the image installs [postgres]
    assert "fedcarbon = fedcarbon.cli:main" in entries
    assert "coordinator = coordinator.cli:app" in entries


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_image_builds_and_its_cli_runs_as_a_non_root_user() -> None:
    missing = _docker_engine_missing()
    if missing:
        pytest.skip(missing)
    tag = f"fedcarbon-test:{secrets.token_hex(4)}"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1700)
    try:
        shown = subprocess.run(
            ["docker", "run", "--rm", tag, "--help"], capture_output=True, text=True, timeout=120
        )
        assert shown.returncode == 0, shown.stderr
        assert "coordinator" in shown.stdout and "trustee" in shown.stdout
        uid = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"],
            capture_output=True, text=True, timeout=120, check=True,
        ).stdout.strip()  # fmt: skip
        assert uid != "0"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)


# -- compose.yaml ---------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def _script_in_image(path: str) -> Path:
    """The deploy/ script a container path names, after checking the Dockerfile copies it."""
    name = Path(path).name
    copies = [line for line in _dockerfile() if line.startswith("COPY ") and name in line]
    assert copies and copies[0].split()[-1].rstrip("/") == str(Path(path).parent), path
    return ROOT / "deploy" / "compose" / name


def test_compose_brings_up_postgres_a_coordinator_and_three_trustees() -> None:
    services = _compose()["services"]
    assert sorted(services) == ["coordinator", "postgres", "trustee-1", "trustee-2", "trustee-3"]
    assert services["coordinator"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = services["coordinator"]["environment"]["FEDCARBON_COORDINATOR_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and ":" not in url.split("//")[1].split("@")[0]
    for name, service in services.items():
        if name == "postgres":
            continue
        assert service["image"] == "fedcarbon:local" and service["build"] == "."
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        if name.startswith("trustee-"):
            assert "coordinator" in service["depends_on"]


def test_every_compose_volume_is_declared_and_homes_are_not_shared() -> None:
    document = _compose()
    declared = set(document["volumes"])
    homes = []
    for service in document["services"].values():
        for mount in service.get("volumes", []):
            volume, target = mount.split(":")[:2]
            assert volume in declared, mount
            if target == "/var/lib/fedcarbon/home":
                homes.append(volume)
    assert len(homes) == len(set(homes)) == 4


def test_compose_start_scripts_exist_parse_and_use_tls() -> None:
    """The scripts compose runs are copied into the image, are valid sh, never ask for
    plaintext, and only call CLI commands that exist."""
    services = _compose()["services"]
    scripts = {
        _script_in_image(s["entrypoint"][-1]) for s in services.values() if "entrypoint" in s
    }
    assert {p.name for p in scripts} == {"coordinator-start.sh", "trustee-start.sh"}
    calls: list[list[str]] = []
    for script in scripts:
        subprocess.run(["sh", "-n", str(script)], check=True, timeout=30)
        text = script.read_text()
        assert "--insecure" not in text
        joined = re.sub(r"\\\n\s*", " ", text)
        calls += [
            shlex.split(line.strip().removeprefix("exec ").removeprefix("fedcarbon "))
            for line in joined.splitlines()
            if line.strip().startswith(("fedcarbon ", "exec fedcarbon "))
        ]
    assert "--tls-hostname" in (ROOT / "deploy/compose/coordinator-start.sh").read_text()
    assert len(calls) == 5  # init, token issue, serve; trustee init, trustee run
    for call in calls:
        path, options = _split_command(call)
        shown = _help(*path)
        for option in options:
            assert option in shown, f"fedcarbon {' '.join(path)} has no {option}"


def test_docker_compose_accepts_compose_yaml() -> None:
    missing = _docker_engine_missing()
    if missing:
        pytest.skip(missing)
    checked = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "FEDCARBON_DB_PASSWORD": "test-only"},
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


# -- systemd --------------------------------------------------------------------------------


def _unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A unit file's sections as (key, value) pairs in order (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_a_unit_is_hardened_and_may_write_only_its_home(unit: Path) -> None:
    service = dict(_unit(unit)["Service"])
    assert service["User"] and service["User"] != "root"
    for key, value in HARDENING.items():
        assert service.get(key) == value, f"{unit.name}: {key}={service.get(key)!r}"
    words = shlex.split(service["ExecStart"])
    home = words[words.index("--home") + 1]
    assert service["ReadWritePaths"] == home
    environment = [v for k, v in _unit(unit)["Service"] if k == "Environment"]
    assert any(v.endswith(f"_HOME={home}") for v in environment)


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_a_unit_starts_an_existing_cli_command(unit: Path) -> None:
    words = shlex.split(dict(_unit(unit)["Service"])["ExecStart"])
    assert Path(words[0]).name == "fedcarbon"
    path, options = _split_command(words[1:])
    shown = _help(*path)
    for option in options:
        assert option in shown, f"{unit.name}: fedcarbon {' '.join(path)} has no {option}"


def test_the_agent_timer_starts_the_agent_service() -> None:
    timer = dict(_unit(UNITS / "fedcarbon-agent.timer")["Timer"])
    assert (UNITS / timer["Unit"]).exists() and timer["OnCalendar"]


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    """`systemd-analyze verify`, with ExecStart pointed at this environment's fedcarbon (it
    checks the binary exists; /opt/fedcarbon is where docs/operators.md installs it)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the units were checked structurally")
    here = Path(sys.executable).parent / "fedcarbon"
    assert here.exists(), f"{here}: no fedcarbon script beside this Python"
    for unit in UNITS.iterdir():
        text = unit.read_text().replace("/opt/fedcarbon/bin/fedcarbon", str(here))
        (tmp_path / unit.name).write_text(text)
    checked = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    complaints = [line for line in checked.stderr.splitlines() if "fedcarbon" in line]
    assert checked.returncode == 0 and not complaints, checked.stderr
