"""Errors of the adapter SDK; each names the adapter, configuration key or source it is about."""

from __future__ import annotations


class AdapterError(Exception):
    """Base class: anything an adapter or the registry could not do."""


class AdapterNotFoundError(AdapterError):
    """No installed adapter has the requested name."""

    def __init__(self, name: str, available: list[str]) -> None:
        listed = ", ".join(sorted(available)) or "none"
        super().__init__(f"no adapter named {name!r} is installed (installed: {listed})")
        self.name = name


class AdapterLoadError(AdapterError):
    """An entry point in group ``fedcarbon.adapters`` could not be imported or is not an Adapter."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"adapter {name!r} could not be loaded: {reason}")
        self.name = name


class AdapterConfigError(AdapterError):
    """A configuration value is missing, unknown or mistyped; ``key`` is its dotted path."""

    def __init__(self, adapter: str, key: str, message: str) -> None:
        super().__init__(f"adapter {adapter!r}: option {key!r} {message}")
        self.adapter = adapter
        self.key = key
        self.message = message


class CredentialError(AdapterConfigError):
    """A secret could not be read, or its file is readable by group or others."""


class SourceUnavailableError(AdapterError):
    """The source system (file, database, broker, server) could not be reached or read at all.

    Raised instead of returning an empty result, so the caller can tell "nothing there" from
    "could not look" and keep the data it already collected.
    """

    def __init__(self, adapter: str, source: str, reason: str) -> None:
        super().__init__(f"adapter {adapter!r} could not read {source}: {reason}")
        self.adapter = adapter
        self.source = source
        self.reason = reason


class MappingError(AdapterError):
    """A mapping table is malformed (unknown canonical field, bad template, bad unit)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"mapping {key!r}: {message}")
        self.key = key
        self.message = message
