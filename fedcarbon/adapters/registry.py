"""Finding installed adapters (entry-point group ``fedcarbon.adapters``) and building them.

Built-in adapters are registered in fedcarbon's own ``pyproject.toml`` exactly as third-party
packages register theirs, so there is one discovery path (as pytest does with ``pytest11``).
Only the entry-point metadata is read to list adapters; a module is imported when its adapter is
created or described.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from fedcarbon.adapters.contract import Adapter
from fedcarbon.adapters.errors import (
    AdapterConfigError,
    AdapterLoadError,
    AdapterNotFoundError,
    MappingError,
)
from fedcarbon.adapters.options import build_config, inline_mapping_file

GROUP = "fedcarbon.adapters"
"""The entry-point group adapter packages register in."""


@dataclass(frozen=True)
class AdapterInfo:
    """One installed adapter: its name, where it lives and which package provides it."""

    name: str
    target: str
    package: str
    version: str
    entry_point: EntryPoint

    @property
    def builtin(self) -> bool:
        """True for adapters shipped inside fedcarbon itself."""
        return self.package == "fedcarbon"

    def load(self) -> type[Adapter]:
        """Import the adapter class, checking that it really is an ``Adapter`` for this name."""
        try:
            cls = self.entry_point.load()
        except Exception as exc:
            raise AdapterLoadError(self.name, f"{self.target}: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Adapter)):
            raise AdapterLoadError(self.name, f"{self.target} is not an Adapter subclass")
        if getattr(cls, "name", None) != self.name:
            raise AdapterLoadError(
                self.name, f"{self.target} declares name {getattr(cls, 'name', None)!r}"
            )
        return cls


def available_adapters() -> dict[str, AdapterInfo]:
    """All adapters installed in this environment, by name (built-ins win a name clash)."""
    found: dict[str, AdapterInfo] = {}
    for ep in entry_points(group=GROUP):
        dist = ep.dist
        info = AdapterInfo(
            name=ep.name,
            target=ep.value,
            package=dist.metadata["Name"] if dist is not None else "?",
            version=dist.version if dist is not None else "?",
            entry_point=ep,
        )
        if ep.name in found and found[ep.name].builtin:
            continue
        found[ep.name] = info
    return dict(sorted(found.items()))


def adapter_class(name: str) -> type[Adapter]:
    """The class registered under ``name``; raises ``AdapterNotFoundError`` listing what exists."""
    adapters = available_adapters()
    if name not in adapters:
        raise AdapterNotFoundError(name, list(adapters))
    return adapters[name].load()


def create_adapter(
    name: str, options: Mapping[str, Any], *, base_dir: Path | None = None
) -> Adapter:
    """Build adapter ``name`` from one TOML table's keys (without ``name`` itself).

    ``mapping_file`` is read and inlined as ``mapping``; relative paths resolve against
    ``base_dir`` (the directory of the agent's configuration file).

    Raises:
        AdapterNotFoundError: no such adapter is installed.
        AdapterConfigError: an option is missing, unknown or mistyped (the error names the key).
    """
    cls = adapter_class(name)
    options = {k: v for k, v in options.items() if k != "name"}
    options = inline_mapping_file(name, options, base_dir)
    try:
        config = build_config(name, cls.config_type, options, base_dir)
    except MappingError as exc:
        raise AdapterConfigError(name, f"mapping.{exc.key}", exc.message) from None
    try:
        return cls(config)
    except MappingError as exc:
        raise AdapterConfigError(name, f"mapping.{exc.key}", exc.message) from None
    except ValueError as exc:
        raise AdapterConfigError(name, "<options>", str(exc)) from None
