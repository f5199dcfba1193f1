"""Running every configured adapter for a period: one failure never stops the others.

The agent calls ``load_adapters`` once with its ``[[adapters]]`` tables and ``collect`` per
run. A source that is down, or an adapter that crashes, becomes a ``failure`` entry and the rest
carry on; the caller keeps what it stored from that source before (nothing is replaced by an
empty result). Two adapters producing the same record id is reported rather than counted
twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.adapters.contract import Adapter, FetchResult, Period, Rejected
from fedcarbon.adapters.errors import AdapterConfigError, AdapterError, SourceUnavailableError
from fedcarbon.adapters.registry import create_adapter


@dataclass(frozen=True)
class ConfiguredAdapter:
    """An adapter built from the ``index``-th ``[[adapters]]`` table; ``label`` names it in
    reports and keys its sync watermark (``label`` option, else ``<name>#<index>``)."""

    index: int
    label: str
    adapter: Adapter


def load_adapters(
    tables: Sequence[Mapping[str, Any]], *, base_dir: Path | None = None
) -> list[ConfiguredAdapter]:
    """Build every adapter of the agent configuration, failing on the first bad table.

    Raises:
        AdapterConfigError: naming ``adapters[i].<key>``, so the user finds the table.
        AdapterNotFoundError: a table names an adapter that is not installed.
    """
    built: list[ConfiguredAdapter] = []
    labels: set[str] = set()
    for index, table in enumerate(tables):
        name = table.get("name")
        if not isinstance(name, str) or not name:
            raise AdapterConfigError("?", f"adapters[{index}].name", "is required")
        label = table.get("label", f"{name}#{index}")
        if not isinstance(label, str) or label in labels:
            raise AdapterConfigError(name, f"adapters[{index}].label", f"{label!r} is not unique")
        labels.add(label)
        options = {k: v for k, v in table.items() if k != "label"}
        try:
            adapter = create_adapter(name, options, base_dir=base_dir)
        except AdapterConfigError as exc:
            raise AdapterConfigError(name, f"adapters[{index}].{exc.key}", exc.message) from None
        built.append(ConfiguredAdapter(index, label, adapter))
    return built


@dataclass(frozen=True)
class Failure:
    """An adapter that produced nothing this run, and why (secret-free)."""

    label: str
    error: str
    unavailable: bool
    """True when the source could not be reached (try again later), False for a crash or a
    configuration problem (needs a person)."""


@dataclass
class Collection:
    """Everything one run read, with per-adapter results, rejections and failures."""

    records: list[ActivityRecord] = field(default_factory=list)
    rejected: list[tuple[str, Rejected]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    results: dict[str, FetchResult] = field(default_factory=dict)

    @property
    def watermarks(self) -> dict[str, str | None]:
        """Next sync watermark per adapter label (only for adapters that ran)."""
        return {label: result.watermark for label, result in self.results.items()}


def collect(
    adapters: Sequence[ConfiguredAdapter],
    period: Period,
    *,
    watermarks: Mapping[str, str | None] | None = None,
) -> Collection:
    """Run each adapter (``sync`` from its watermark when given) and gather the results."""
    out = Collection()
    owner: dict[str, str] = {}
    for item in adapters:
        try:
            if watermarks is not None:
                result = item.adapter.sync(period, watermarks.get(item.label))
            else:
                result = item.adapter.fetch(period)
        except SourceUnavailableError as exc:
            out.failures.append(Failure(item.label, str(exc), True))
            continue
        except AdapterError as exc:
            out.failures.append(Failure(item.label, str(exc), False))
            continue
        except Exception as exc:  # a bug in one adapter must not stop the others
            reason = f"adapter crashed: {type(exc).__name__}: {exc}"
            out.failures.append(Failure(item.label, reason, False))
            continue
        out.results[item.label] = result
        out.rejected += [(item.label, r) for r in result.rejected]
        for record in result.records:
            first = owner.setdefault(record.record_id, item.label)
            if first != item.label:
                why = f"record id also produced by adapter {first!r} (would double count)"
                out.rejected.append((item.label, Rejected(item.label, record.record_id, why)))
                continue
            out.records.append(record)
    return out
