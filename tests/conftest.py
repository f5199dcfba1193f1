"""Shared test configuration: local services are used for real, or skipped with a reason.

With FEDCARBON_REQUIRE_SERVICES=1 (set by .ci/run) a missing service fails the test instead
of skipping it, so CI cannot go green by skipping.
"""

import os
import socket

import pytest
from hypothesis import HealthCheck, settings

# Property tests here do big-integer crypto; on a shared 2-core machine one example can take
# longer than hypothesis's default 200 ms deadline without anything being wrong. Correctness is
# what they check; speed belongs in benchmarks/.
settings.register_profile("fedcarbon", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fedcarbon")

SERVICES_REQUIRED = os.environ.get("FEDCARBON_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get(
    "FEDCARBON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, in CI, fail) unless something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as error:
        message = f"{name} is not reachable at {host}:{port} ({error})"
    if SERVICES_REQUIRED:
        pytest.fail(f"{message}; FEDCARBON_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL
