"""``--timeout``: how long agent and trustee commands wait for the coordinator.

One option on the ``agent`` and ``trustee`` groups (``fedcarbon agent --timeout 120 submit
...``), or ``FEDCARBON_TIMEOUT``; it bounds each call to the coordinator, retries included
(agent/client.py retries UNAVAILABLE and DEADLINE_EXCEEDED with backoff inside it).
"""

import typer

from agent.client import DEFAULT_TIMEOUT_S, TIMEOUT_ENV, set_default_timeout


def client_options(
    timeout: float = typer.Option(
        DEFAULT_TIMEOUT_S,
        "--timeout",
        envvar=TIMEOUT_ENV,
        min=0.1,
        help="Seconds each call to the coordinator may take, retries included.",
    ),
) -> None:
    """Applied before any command of the group runs."""
    set_default_timeout(timeout)
