"""The adapter contract: what a connector to an ERP, MES, meter or file must provide.

An adapter turns one source system into canonical ``ActivityRecord`` rows for a reporting
period. That is the whole boundary: it does not compute emissions, store anything for the agent,
or talk to the coordinator. It reads, maps, validates, and reports every source row it could not
turn into a record (``Rejected``) instead of dropping it. Plain types in, plain types out, so an
integrator writes one small class and the agent, the CLI and the conformance kit all drive it the
same way (the idea follows httpx's ``BaseTransport``: a tiny base class whose docstring is the
contract).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar

from fedcarbon.accounting.records import ActivityRecord


@dataclass(frozen=True)
class Period:
    """A reporting period, both ends inclusive (a calendar year is 1 Jan .. 31 Dec)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read ``2024``, ``2024-Q1``, ``2024-03`` or ``2024-01-01..2024-06-30``.

        Raises:
            ValueError: naming the text when it is none of these forms.
        """
        value = text.strip()
        try:
            if ".." in value:
                first, last = value.split("..", 1)
                return cls(date.fromisoformat(first), date.fromisoformat(last))
            if len(value) == 4 and value.isdigit():
                return cls(date(int(value), 1, 1), date(int(value), 12, 31))
            if len(value) == 7 and value[4:6].upper() == "-Q" and value[6] in "1234":
                year, quarter = int(value[:4]), int(value[6])
                first_month = 3 * quarter - 2
                return cls(date(year, first_month, 1), _month_end(year, first_month + 2))
            if len(value) == 7 and value[4] == "-":
                year, month = int(value[:4]), int(value[5:])
                return cls(date(year, month, 1), _month_end(year, month))
        except ValueError:
            pass
        raise ValueError(f"period {text!r} is not YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD..YYYY-MM-DD")

    def overlaps(self, start: date, end: date) -> bool:
        """True when the inclusive range ``start..end`` shares at least one day with this period."""
        return start <= self.end and end >= self.start

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


@dataclass(frozen=True)
class Rejected:
    """A source row the adapter could not turn into a record, and why.

    ``source_ref`` locates the row in the source system's own terms: ``file.csv:17``, a table
    row key, an MQTT topic, an OPC UA node id.
    """

    source_ref: str
    record_id: str | None
    reason: str

    def __str__(self) -> str:
        rid = f" (record {self.record_id!r})" if self.record_id else ""
        return f"{self.source_ref}{rid}: {self.reason}"


@dataclass(frozen=True)
class FetchResult:
    """What one fetch produced: valid records, rejected rows, and the next sync watermark.

    ``ignored`` counts source rows the configuration deliberately leaves out (other periods,
    filtered document types, codes mapped to "ignore"), so a check can show them.
    """

    records: list[ActivityRecord]
    rejected: list[Rejected] = field(default_factory=list)
    watermark: str | None = None
    ignored: int = 0


class Adapter(ABC):
    """A connector from one source system to canonical activity records.

    Subclasses set ``name`` (the entry-point name, lower case) and ``config_type`` (a frozen
    dataclass whose fields are the adapter's configuration keys, as written in the agent's TOML)
    and implement ``fetch``. The rules every adapter follows, checked by the conformance kit in
    ``fedcarbon.adapters.testing``:

    * records are valid ``ActivityRecord`` values overlapping the requested period;
    * ``record_id`` is derived from the source's own keys, so it is the same on every run;
    * fetching twice gives the same records (a re-run is idempotent);
    * a source row that cannot be mapped becomes a ``Rejected`` entry, never a silent drop;
    * quantities carry a pint unit, converted as the configuration's unit table says;
    * if the source cannot be reached at all, raise ``SourceUnavailableError``: never return an
      empty result for "could not look";
    * secrets come from the environment or a private file (``fedcarbon.adapters.credentials``) and
      never appear in exceptions, logs or ``repr``.

    Heavy client libraries (database drivers, MQTT, OPC UA) are imported inside methods so that
    discovering adapters stays cheap.
    """

    name: ClassVar[str]
    config_type: ClassVar[type[Any]]
    incremental: bool = False
    """True when ``sync`` really returns only what changed after a watermark (may be per
    instance: an adapter can be incremental only when configured with a change column)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    @abstractmethod
    def fetch(self, period: Period) -> FetchResult:
        """Read every record of ``period`` from the source."""

    def sync(self, period: Period, watermark: str | None) -> FetchResult:
        """Read what changed since ``watermark`` (``None``: everything); default is ``fetch``.

        Incremental adapters override this, set ``incremental = True`` and return the watermark
        to pass next time. A watermark belongs to one period; given another period's watermark
        an adapter reads everything. Without an override every sync is a full fetch, which is
        correct, only slower.
        """
        return self.fetch(period)

    def describe(self) -> str:
        """A one-line, secret-free description of the source, for logs and CLI output."""
        return self.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"
