"""The adapter conformance checks, as plain functions over a prepared source.

Each check has a stable, numbered id (``AC01`` .. ``AC10``, in the manner of the PACT
conformance test cases ``TESTCASE#n``) so a failure report means the same thing to every
integrator. ``fedcarbon.adapters.testing`` runs them as pytest tests; ``fedcarbon adapter check``
runs the ones that need no planted data against a live configuration.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from fedcarbon.accounting.records import (
    CANONICAL_COLUMNS,
    OPTIONAL_COLUMNS,
    ActivityRecord,
    parse_activity_rows,
)
from fedcarbon.adapters.contract import Adapter, FetchResult, Period
from fedcarbon.adapters.errors import SourceUnavailableError
from fedcarbon.adapters.mapping import convert_quantity, is_known_unit
from fedcarbon.adapters.registry import available_adapters


class CheckSkipped(Exception):
    """The adapter lacks the capability a check is about (or the case gives no data for it)."""


class CheckFailed(AssertionError):
    """The adapter broke one rule of the contract; the message says which record and why."""


@dataclass(frozen=True)
class ConformanceCase:
    """A prepared source and what the kit should find in it.

    Attributes:
        make_adapter: builds a fresh adapter over the prepared source on every call.
        period: the period to fetch.
        expected_records: how many valid records the source holds for ``period`` (unchecked when
            ``None``).
        expected_rejected: how many bad rows were planted in the source; each must be reported.
        expected_quantities: record id -> ``(quantity, unit)`` after unit mapping, to prove that
            units convert (e.g. a source row of 1.5 MWh expected as ``(1500.0, "kWh")``).
        make_unreachable: builds an adapter whose source is down (wrong port, missing folder);
            ``None`` skips AC08.
        secret: a credential the adapter was given; it must never appear in ``repr`` or errors.
        registered: check that the adapter is installed under its name (AC09).
    """

    make_adapter: Callable[[], Adapter]
    period: Period
    expected_records: int | None = None
    expected_rejected: int = 0
    expected_quantities: Mapping[str, tuple[float, str]] = field(default_factory=dict)
    make_unreachable: Callable[[], Adapter] | None = None
    secret: str | None = None
    registered: bool = True


@dataclass(frozen=True)
class Check:
    """One numbered rule of the contract."""

    id: str
    title: str
    run: Callable[[ConformanceCase], None]
    needs_planted_data: bool = False


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: ``status`` is ``"pass"``, ``"fail"`` or ``"skip"``."""

    check_id: str
    title: str
    status: str
    detail: str = ""


def _as_text_row(record: ActivityRecord) -> dict[str, str]:
    row: dict[str, str] = {}
    for name in CANONICAL_COLUMNS + OPTIONAL_COLUMNS:
        value = getattr(record, name)
        if value is None:
            row[name] = ""
        elif isinstance(value, float):
            row[name] = repr(value)
        else:
            row[name] = str(value)
    return row


def _fail(message: str) -> NoReturn:
    raise CheckFailed(message)


def check_records_valid(case: ConformanceCase) -> None:
    """AC01: every record is an ``ActivityRecord`` that the canonical parser accepts unchanged."""
    result = case.make_adapter().fetch(case.period)
    for item in result.records:
        if not isinstance(item, ActivityRecord):
            _fail(f"fetch returned a {type(item).__name__}, not an ActivityRecord")
    _, errors = parse_activity_rows([_as_text_row(r) for r in result.records], first_row=0)
    if errors:
        e = errors[0]
        _fail(f"record {e.record_id!r} is invalid: {e.field}: {e.message}")
    for record in result.records:
        if not math.isfinite(record.quantity):
            _fail(f"record {record.record_id!r} has a non-finite quantity")
        if not is_known_unit(record.unit):
            _fail(f"record {record.record_id!r} has unit {record.unit!r}, which pint cannot read")


def check_period_respected(case: ConformanceCase) -> None:
    """AC02: every record overlaps the requested period."""
    for record in case.make_adapter().fetch(case.period).records:
        if not case.period.overlaps(record.period_start, record.period_end):
            _fail(
                f"record {record.record_id!r} covers {record.period_start}..{record.period_end},"
                f" outside {case.period}"
            )


def _by_id(result: FetchResult) -> dict[str, ActivityRecord]:
    return {r.record_id: r for r in result.records}


def check_ids_stable(case: ConformanceCase) -> None:
    """AC03: two independent adapters over the same source produce the same ids and records."""
    first = _by_id(case.make_adapter().fetch(case.period))
    second = _by_id(case.make_adapter().fetch(case.period))
    if set(first) != set(second):
        changed = sorted(set(first) ^ set(second))[:3]
        _fail(f"record ids differ between runs, e.g. {changed}")
    for rid, record in first.items():
        if second[rid] != record:
            _fail(f"record {rid!r} has different content on a second run")


def check_rerun_idempotent(case: ConformanceCase) -> None:
    """AC04: two fetches by one adapter agree on records and rejections, without duplicates."""
    adapter = case.make_adapter()
    first = adapter.fetch(case.period)
    second = adapter.fetch(case.period)
    ids = [r.record_id for r in first.records]
    if len(ids) != len(set(ids)):
        dup = next(i for i in ids if ids.count(i) > 1)
        _fail(f"record id {dup!r} occurs twice in one fetch")
    if sorted(first.records, key=_key) != sorted(second.records, key=_key):
        _fail("a second fetch returned different records")
    if sorted(map(str, first.rejected)) != sorted(map(str, second.rejected)):
        _fail("a second fetch reported different rejections")


def _key(record: ActivityRecord) -> str:
    return record.record_id


def check_bad_rows_reported(case: ConformanceCase) -> None:
    """AC05: each planted bad row is reported as ``Rejected`` with a location and a reason."""
    if case.expected_rejected == 0:
        raise CheckSkipped("the case plants no bad rows (set expected_rejected)")
    result = case.make_adapter().fetch(case.period)
    for item in result.rejected:
        if not item.source_ref or not item.reason:
            _fail(f"rejection {item!r} lacks a source reference or a reason")
    if len(result.rejected) != case.expected_rejected:
        listed = "; ".join(map(str, result.rejected)) or "none"
        _fail(
            f"expected {case.expected_rejected} rejected rows, got {len(result.rejected)}: {listed}"
        )
    if case.expected_records is not None and len(result.records) != case.expected_records:
        _fail(f"expected {case.expected_records} records, got {len(result.records)}")


def check_units_convert(case: ConformanceCase) -> None:
    """AC06: quantities arrive in the mapped units with the converted magnitudes."""
    if not case.expected_quantities:
        raise CheckSkipped("the case gives no expected_quantities")
    records = _by_id(case.make_adapter().fetch(case.period))
    for rid, (quantity, unit) in case.expected_quantities.items():
        if rid not in records:
            _fail(f"record {rid!r} is missing")
        record = records[rid]
        try:
            got = convert_quantity(record.quantity, record.unit, unit)
        except ValueError as exc:
            _fail(f"record {rid!r}: {exc}")
        if not math.isclose(got, quantity, rel_tol=1e-9, abs_tol=1e-9):
            _fail(
                f"record {rid!r}: expected {quantity} {unit}, got {record.quantity} {record.unit}"
            )


def check_incremental_sync(case: ConformanceCase) -> None:
    """AC07: a sync from the returned watermark brings no new or changed records."""
    adapter = case.make_adapter()
    if not adapter.incremental:
        raise CheckSkipped(f"{adapter.name} is not incremental")
    first = adapter.sync(case.period, None)
    if first.watermark is None:
        _fail("an incremental adapter returned no watermark")
    baseline = _by_id(first)
    again = case.make_adapter().sync(case.period, first.watermark)
    for record in again.records:
        if baseline.get(record.record_id) != record:
            _fail(f"record {record.record_id!r} came back new or changed though nothing changed")


def check_source_down_raises(case: ConformanceCase) -> None:
    """AC08: an unreachable source raises ``SourceUnavailableError``, never an empty result."""
    if case.make_unreachable is None:
        raise CheckSkipped("the case gives no make_unreachable")
    adapter = case.make_unreachable()
    try:
        result = adapter.fetch(case.period)
    except SourceUnavailableError as exc:
        if case.secret and case.secret in str(exc):
            _fail("the SourceUnavailableError message contains the secret")
        return
    except Exception as exc:
        _fail(f"raised {type(exc).__name__} ({exc}) instead of SourceUnavailableError")
    _fail(f"returned {len(result.records)} records instead of raising SourceUnavailableError")


def check_declares_contract(case: ConformanceCase) -> None:
    """AC09: the class names itself, has a dataclass config and is installed under its name."""
    adapter = case.make_adapter()
    cls = type(adapter)
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name or name != name.lower():
        _fail(f"{cls.__name__}.name must be a non-empty lower-case string, not {name!r}")
    config_type = getattr(cls, "config_type", None)
    if not (isinstance(config_type, type) and dataclasses.is_dataclass(config_type)):
        _fail(f"{cls.__name__}.config_type must be a dataclass")
    if case.registered:
        installed = available_adapters()
        if name not in installed:
            _fail(f"{name!r} is not in the entry-point group fedcarbon.adapters")
        if installed[str(name)].load() is not cls:
            _fail(f"the entry point {name!r} points to another class")


def check_secret_not_shown(case: ConformanceCase) -> None:
    """AC10: the credential appears in neither ``repr`` nor ``describe`` nor the config's repr."""
    if case.secret is None:
        raise CheckSkipped("the case gives no secret")
    adapter = case.make_adapter()
    for label, text in (
        ("repr(adapter)", repr(adapter)),
        ("describe()", adapter.describe()),
        ("repr(config)", repr(adapter.config)),
    ):
        if case.secret in text:
            _fail(f"{label} shows the secret")


CHECKS: tuple[Check, ...] = (
    Check("AC01", "records are valid activity records", check_records_valid),
    Check("AC02", "records lie in the requested period", check_period_respected),
    Check("AC03", "record ids are stable across runs", check_ids_stable),
    Check("AC04", "a re-run is idempotent", check_rerun_idempotent),
    Check("AC05", "bad source rows are reported", check_bad_rows_reported, True),
    Check("AC06", "units convert", check_units_convert, True),
    Check("AC07", "incremental sync brings nothing twice", check_incremental_sync),
    Check("AC08", "an unreachable source raises", check_source_down_raises, True),
    Check("AC09", "the adapter declares the contract", check_declares_contract),
    Check("AC10", "secrets are never shown", check_secret_not_shown, True),
)
"""Every check, in id order."""


def run_checks(case: ConformanceCase, checks: Sequence[Check] = CHECKS) -> list[Finding]:
    """Run ``checks`` and collect findings; an unexpected exception is a failure, not a crash."""
    findings: list[Finding] = []
    for check in checks:
        try:
            check.run(case)
        except CheckSkipped as exc:
            findings.append(Finding(check.id, check.title, "skip", str(exc)))
        except CheckFailed as exc:
            findings.append(Finding(check.id, check.title, "fail", str(exc)))
        except Exception as exc:
            findings.append(Finding(check.id, check.title, "fail", f"{type(exc).__name__}: {exc}"))
        else:
            findings.append(Finding(check.id, check.title, "pass"))
    return findings
