"""Errors shared by agent and coordinator; each names the campaign, participant or field."""


class FedcarbonError(Exception):
    """Base class for fedcarbon's own errors (user-facing: the message is the explanation)."""


class CampaignError(FedcarbonError):
    """A campaign definition is inconsistent or unusable (names the campaign and field)."""


class MetricError(FedcarbonError):
    """A metric cannot be computed from a footprint (names the metric and why)."""


class WireError(FedcarbonError):
    """A message from the network is malformed (names the field)."""


class StoreError(FedcarbonError):
    """A database (the agent's SQLite, the coordinator's SQLite or PostgreSQL) failed; the
    message names the database and what to do. Raised instead of the driver's error."""


class StoreUnavailableError(StoreError):
    """Transient: locked past its timeout, unreachable, disk full. Retrying later may work."""


class StoreDamagedError(StoreError):
    """The file is not a database, or is corrupt: retrying will not help, restoring will."""
