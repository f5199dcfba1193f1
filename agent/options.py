"""Options every agent command group shares: where the agent's home is, and JSON output."""

from pathlib import Path

import typer

HOME = typer.Option(
    Path("fedcarbon-agent"),
    "--home",
    envvar="FEDCARBON_AGENT_HOME",
    help="Directory with agent.toml, the identity key and the local store.",
)
JSON = typer.Option(False, "--json", help="Print JSON instead of tables.")
