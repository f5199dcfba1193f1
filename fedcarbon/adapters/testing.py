"""The conformance kit as pytest tests: subclass ``AdapterConformance`` and give it a case.

Usage in an adapter package's tests::

    from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase

    class TestMyAdapter(AdapterConformance):
        @pytest.fixture
        def conformance_case(self, tmp_path):
            ...  # prepare a source with good rows and planted bad rows
            return ConformanceCase(make_adapter=lambda: MyAdapter(MyConfig(...)), period=...)

The subclass inherits one test per contract rule, named after its stable id
(``test_AC05_bad_rows_reported``), so reports read the same for every adapter. A rule the
adapter has no capability for (``incremental``, an unreachable source) is skipped with the
reason, as SQLAlchemy's dialect suite skips by requirement. fedcarbon's built-in adapters run
this very class against their real servers.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fedcarbon.adapters.conformance import (
    Check,
    CheckSkipped,
    ConformanceCase,
    check_bad_rows_reported,
    check_declares_contract,
    check_ids_stable,
    check_incremental_sync,
    check_period_respected,
    check_records_valid,
    check_rerun_idempotent,
    check_secret_not_shown,
    check_source_down_raises,
    check_units_convert,
)

__all__ = ["AdapterConformance", "Check", "ConformanceCase"]


def _run(check: Callable[[ConformanceCase], None], case: ConformanceCase) -> None:
    try:
        check(case)
    except CheckSkipped as exc:
        pytest.skip(str(exc))


class AdapterConformance:
    """Base class of conformance tests; subclasses provide the ``conformance_case`` fixture."""

    def test_AC01_records_are_valid(self, conformance_case: ConformanceCase) -> None:
        _run(check_records_valid, conformance_case)

    def test_AC02_records_lie_in_period(self, conformance_case: ConformanceCase) -> None:
        _run(check_period_respected, conformance_case)

    def test_AC03_ids_are_stable_across_runs(self, conformance_case: ConformanceCase) -> None:
        _run(check_ids_stable, conformance_case)

    def test_AC04_rerun_is_idempotent(self, conformance_case: ConformanceCase) -> None:
        _run(check_rerun_idempotent, conformance_case)

    def test_AC05_bad_rows_are_reported(self, conformance_case: ConformanceCase) -> None:
        _run(check_bad_rows_reported, conformance_case)

    def test_AC06_units_convert(self, conformance_case: ConformanceCase) -> None:
        _run(check_units_convert, conformance_case)

    def test_AC07_incremental_sync_brings_nothing_twice(
        self, conformance_case: ConformanceCase
    ) -> None:
        _run(check_incremental_sync, conformance_case)

    def test_AC08_unreachable_source_raises(self, conformance_case: ConformanceCase) -> None:
        _run(check_source_down_raises, conformance_case)

    def test_AC09_declares_the_contract(self, conformance_case: ConformanceCase) -> None:
        _run(check_declares_contract, conformance_case)

    def test_AC10_secrets_are_never_shown(self, conformance_case: ConformanceCase) -> None:
        _run(check_secret_not_shown, conformance_case)
