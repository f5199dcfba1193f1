"""Real processes for crash tests: the coordinator and CLI commands as subprocesses to SIGKILL.

Every process the kill tests start goes through this module: coordinator ``init`` and
``serve`` (mutual TLS, with the material ``init`` makes), trustee and agent enrolment (with
invites, conftest's Federation), and the CLI commands that get killed. Starting them
differently is a change here, in one place.

Run as ``python -m tests.integration.processes ARGS...`` this module is the ``fedcarbon`` CLI
with two test-only additions, both driven by environment variables that only these tests set:

- ``FEDCARBON_TEST_READY=PATH``: touch PATH once the command group is imported, so a kill
  "after a delay" lands in the command's work rather than in Python's start-up;
- ``FEDCARBON_TEST_CRASH=POINT``: SIGKILL the process itself at a named point, to hit the
  narrow windows a random delay rarely finds (between a commit and its reply, say). POINT is
  ``call:MODULE:QUALNAME:before|after[:N]`` (just before or after the Nth call, default the
  first; the attribute is replaced where it is defined, so name it where callers look it up)
  or ``write:NAME`` (the first ``Path.write_text`` to a file whose name starts with NAME
  truncates it, writes half the text and dies: a kill in the middle of writing a file).

Nothing is simulated: the process really dies by SIGKILL (no atexit, no finally, no flush).
"""

import functools
import importlib
import itertools
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
READY_ENV = "FEDCARBON_TEST_READY"
CRASH_ENV = "FEDCARBON_TEST_CRASH"
KILLED = -signal.SIGKILL  # Popen.returncode of a process that died by SIGKILL
# The command group module each CLI group lives in (what `fedcarbon GROUP` imports).
_GROUP_MODULES = {
    "agent": "agent.cli",
    "trustee": "agent.trustee_cli",
    "coordinator": "coordinator.cli",
}
STARTUP_TIMEOUT_S = 60.0


# -- child side: the CLI with a ready marker and crash points --------------------------------


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _crash_on_call(spec: str) -> None:
    module_name, qualname, when, *nth = spec.split(":")
    if when not in ("before", "after"):
        raise ValueError(f"{CRASH_ENV}: {when!r} is neither 'before' nor 'after'")
    owner: Any = importlib.import_module(module_name)
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    target = int(nth[0]) if nth else 1
    calls = itertools.count(1)
    lock = threading.Lock()

    @functools.wraps(original)
    def crashing(*args: Any, **kwargs: Any) -> Any:
        with lock:
            call = next(calls)
        if when == "before" and call == target:
            _die()
        result = original(*args, **kwargs)
        if when == "after" and call == target:
            _die()
        return result

    setattr(owner, name, crashing)


def _crash_on_write(prefix: str) -> None:
    original = Path.write_text

    def half_written(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        if self.name.startswith(prefix):
            with open(self, "w") as handle:
                handle.write(data[: len(data) // 2])
                handle.flush()
            _die()
        return original(self, data, *args, **kwargs)

    Path.write_text = half_written  # type: ignore[method-assign]


def _install_crash_point(point: str) -> None:
    kind, _, spec = point.partition(":")
    if kind == "call":
        _crash_on_call(spec)
    elif kind == "write":
        _crash_on_write(spec)
    else:
        raise ValueError(f"{CRASH_ENV}: unknown crash point {point!r}")


def _child_main(args: list[str]) -> None:
    group = next((arg for arg in args if not arg.startswith("-")), "")
    if group in _GROUP_MODULES:
        importlib.import_module(_GROUP_MODULES[group])
    if os.environ.get(CRASH_ENV):
        _install_crash_point(os.environ[CRASH_ENV])
    if os.environ.get(READY_ENV):
        Path(os.environ[READY_ENV]).touch()
    from fedcarbon.cli import main

    sys.argv = ["fedcarbon", *args]
    main()


# -- parent side: commands and the coordinator as subprocesses -------------------------------


@dataclass
class Command:
    """One ``fedcarbon`` CLI command running in its own process."""

    args: tuple[str, ...]
    process: subprocess.Popen[bytes]
    ready: Path
    output: Path

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> bool:
        """Wait until the command's imports are done; False if it exited first."""
        deadline = time.monotonic() + timeout
        while not self.ready.exists():
            if self.process.poll() is not None:
                return self.ready.exists()
            if time.monotonic() > deadline:
                raise TimeoutError(f"fedcarbon {' '.join(self.args)} did not start in {timeout} s")
            time.sleep(0.02)
        return True

    def kill(self) -> bool:
        """SIGKILL the command if it still runs; True if this call killed it."""
        alive = self.process.poll() is None
        if alive:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        return alive

    def finish(self, timeout: float = 120.0) -> int:
        """Wait for the command to end; its return code (KILLED when it died by SIGKILL)."""
        return self.process.wait(timeout)

    @property
    def text(self) -> str:
        return self.output.read_text(errors="replace")


def launch(
    workdir: Path, *args: str, crash: str = "", env: dict[str, str] | None = None
) -> Command:
    """Start ``fedcarbon ARGS`` in a new process (this checkout's code), optionally with a
    crash point; its stdout and stderr go to a file in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(4)
    ready, output = workdir / f"{tag}.ready", workdir / f"{tag}.out"
    child_env = {**os.environ, **(env or {}), READY_ENV: str(ready)}
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    child_env.pop(CRASH_ENV, None)
    if crash:
        child_env[CRASH_ENV] = crash
    with open(output, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.processes", *args],
            cwd=REPO,
            env=child_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Command(tuple(args), process, ready, output)


@dataclass
class CoordinatorProcess:
    """``fedcarbon coordinator serve`` in its own process, restarted on the same port.

    Stands in for conftest's RunningServer in a Federation (``port``, ``engine``); the engine
    is this test process's own connection to the coordinator's database, for inspection.
    """

    home: Path
    database_url: str
    port: int = 0
    command: Command | None = None
    starts: int = 0
    _engine: Any = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from coordinator.config import load_config
            from coordinator.store import open_engine

            self._engine = open_engine(load_config(self.home).effective_database_url)
        return self._engine

    def start(self, crash: str = "") -> None:
        """Serve (again): the first start takes any free port, restarts take the same one."""
        assert not self.running, "the coordinator is already running"
        port_file = self.home / "serve.port"
        port_file.unlink(missing_ok=True)
        listen = ("--listen", f"127.0.0.1:{self.port}") if self.port else ()
        self.command = launch(
            self.home / "processes",
            "coordinator", "serve", "--home", str(self.home), "--port-file", str(port_file),
            "--log-level", "WARNING", *listen,
            crash=crash,
        )  # fmt: skip
        self.starts += 1
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not (port_file.exists() and port_file.read_text().strip().isdigit()):
            if self.command.process.poll() is not None:
                raise RuntimeError(f"the coordinator did not start:\n{self.command.text}")
            if time.monotonic() > deadline:
                self.command.kill()
                raise TimeoutError(f"the coordinator did not listen in {STARTUP_TIMEOUT_S} s")
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    @property
    def running(self) -> bool:
        return self.command is not None and self.command.process.poll() is None

    def kill(self) -> bool:
        """SIGKILL the server; True if it was still running."""
        return self.command.kill() if self.command is not None else False

    def wait_dead(self, timeout: float) -> bool:
        """Wait for the server to die (at a crash point); True if it did within ``timeout``."""
        if self.command is None:
            return True
        try:
            self.command.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> None:
        """SIGTERM (graceful drain), then SIGKILL if it hangs; release the inspection engine."""
        if self.running and self.command is not None:
            self.command.process.send_signal(signal.SIGTERM)
            try:
                self.command.process.wait(15)
            except subprocess.TimeoutExpired:
                self.command.kill()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def init_coordinator(home: Path, database_url: str = "") -> None:
    """``fedcarbon coordinator init`` on a loopback port: configuration, database, log key,
    and the CA and server certificate it serves mutual TLS with (conftest's flow)."""
    from tests.integration.conftest import init_coordinator as init

    init(home, "--database-url", database_url)


def start_coordinator(home: Path, database_url: str = "") -> CoordinatorProcess:
    """A fresh coordinator home, served by its own process."""
    init_coordinator(home, database_url)
    coordinator = CoordinatorProcess(home, database_url)
    coordinator.start()
    return coordinator


# Enrolment goes through the Federation's CLI flow (tests/integration/conftest.py); these are
# the only calls the kill tests make to it, so a new enrolment flow is wired in here.


def enrol_trustee(fed: Any, name: str) -> str:
    """Enrol a trustee home ``fed.root / name`` with the coordinator; its participant id."""
    return str(fed.add_trustee(name))


def enrol_agent(fed: Any, company: Any) -> str:
    """Enrol and attest an agent for a demo company; its participant id."""
    return str(fed.add_agent(company))


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """CREATE DATABASE fedcarbon_<random> on the PostgreSQL server; yield its SQLAlchemy URL;
    DROP it afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"fedcarbon_{secrets.token_hex(6)}"
    admin = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            # FORCE: engines of in-process CLI calls may still hold idle pooled connections.
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    _child_main(sys.argv[1:])
