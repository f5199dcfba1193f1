"""The ``fedcarbon`` command: a thin root that plugs in every command group.

Groups are found through the ``fedcarbon.cli`` entry-point group (see pyproject.toml), so
the shared core never imports the agent or the coordinator: each application registers its
own group, exactly as a third-party extension would.
"""

import errno
import sys
from importlib.metadata import entry_points, version
from typing import Any

import typer
from typer.core import TyperGroup

from fedcarbon.console import fail
from fedcarbon.errors import StoreError

# "No space left on device" and "disk quota exceeded": the person frees space and retries.
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class _Root(TyperGroup):
    """The root group: failures any command may meet end in one line, exit 1, no traceback.

    A store that is corrupt, locked past its timeout or unreachable (fedcarbon/storage.py),
    or a disk that filled up while a command wrote a file, is not a bug in that command; each
    command need not repeat the same handler. Anything else still shows its traceback.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except StoreError as error:
            fail(str(error))
        except OSError as error:
            if error.errno not in _DISK_FULL:
                raise
            where = f"{error.filename}: " if error.filename else ""
            fail(
                f"{where}no space left on device; free some space and run the command again "
                "(a failed init leaves no home behind)"
            )


def _new_app() -> typer.Typer:
    root = typer.Typer(
        name="fedcarbon",
        help=(
            "Federated, privacy-preserving carbon accounting. Suppliers compute their GHG "
            "footprint on-prem and share it only encrypted; a coordinator adds ciphertexts and "
            "releases totals and benchmarks. Start with `fedcarbon demo`."
        ),
        no_args_is_help=True,
        cls=_Root,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    root.callback()(_root)
    return root


# Order in --help: what a new user reaches for first.
_ORDER = (
    "demo",
    "agent",
    "coordinator",
    "trustee",
    "footprint",
    "factors",
    "pact",
    "adapter",
    "audit",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fedcarbon {version('fedcarbon')}")
        raise typer.Exit()


def _root(
    show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Federated, privacy-preserving carbon accounting."""


def _register(root: typer.Typer, only: str | None = None) -> typer.Typer:
    """Plug the command groups into ``root``: all of them, or just ``only`` if it names one.

    Loading one group instead of all keeps ``fedcarbon footprint compute`` from importing the
    agent, the coordinator, gRPC and SQLAlchemy first (about a second of start-up).
    """
    found = {ep.name: ep for ep in entry_points(group="fedcarbon.cli")}
    names = [only] if only in found else list(found)
    for name in sorted(names, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n)):
        try:
            sub = found[name].load()
        except Exception as error:  # a broken plug-in must not take the whole CLI down
            print(f"fedcarbon: command group {name!r} failed to load: {error}", file=sys.stderr)
            continue
        if isinstance(sub, typer.Typer):
            root.add_typer(sub, name=name)
        else:  # a single command (a plain function with typer annotations)
            root.command(name=name)(sub)
    return root


_full_app: typer.Typer | None = None


def __getattr__(name: str) -> typer.Typer:
    """``fedcarbon.cli.app``: the root with every group, built on first use."""
    global _full_app
    if name != "app":
        raise AttributeError(f"module 'fedcarbon.cli' has no attribute {name!r}")
    if _full_app is None:
        _full_app = _register(_new_app())
    return _full_app


def main() -> None:
    """The ``fedcarbon`` console script: loads only the group named on the command line."""
    first = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    _register(_new_app(), only=first)()
