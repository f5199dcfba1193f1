"""The ``fedcarbon`` command: a thin root that plugs in every command group.

Groups are found through the ``fedcarbon.cli`` entry-point group (see pyproject.toml), so
the shared core never imports the agent or the coordinator: each application registers its
own group, exactly as a third-party extension would.
"""

import sys
from importlib.metadata import entry_points, version

import typer

app = typer.Typer(
    name="fedcarbon",
    help=(
        "Federated, privacy-preserving carbon accounting. Suppliers compute their GHG footprint "
        "on-prem and share it only encrypted; a coordinator adds ciphertexts and releases totals "
        "and benchmarks. Start with `fedcarbon demo`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

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


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Federated, privacy-preserving carbon accounting."""


def _register() -> None:
    found = {ep.name: ep for ep in entry_points(group="fedcarbon.cli")}
    for name in sorted(found, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n)):
        try:
            sub = found[name].load()
        except Exception as error:  # a broken plug-in must not take the whole CLI down
            print(f"fedcarbon: command group {name!r} failed to load: {error}", file=sys.stderr)
            continue
        if isinstance(sub, typer.Typer):
            app.add_typer(sub, name=name)
        else:  # a single command (a plain function with typer annotations)
            app.command(name=name)(sub)


_register()


def main() -> None:
    app()
