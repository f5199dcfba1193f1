"""The data_quality column: primary or not, and data quality ratings."""

from __future__ import annotations

import pytest

from fedcarbon.accounting.errors import DataQualityError
from fedcarbon.accounting.quality import parse_data_quality


@pytest.mark.parametrize(
    ("text", "primary", "dqr"),
    [
        ("primary", True, None),
        ("Primary dqr=1/2/1.5", True, (1.0, 2.0, 1.5)),
        ("secondary; dqr=3/3/2", False, (3.0, 3.0, 2.0)),
        ("estimated, not primary", False, None),
        ("supplier-specific (PACT footprint 1234)", False, None),
        (None, False, None),
    ],
)
def test_data_quality_words_are_read(
    text: str | None, primary: bool, dqr: tuple[float, float, float] | None
) -> None:
    quality = parse_data_quality(text)
    assert (quality.primary, quality.dqr) == (primary, dqr)


@pytest.mark.parametrize("text", ["dqr=0/1/1", "dqr=1/2", "primary dqr=6/1/1", "dqr=a/b/c"])
def test_bad_ratings_are_refused_with_the_syntax(text: str) -> None:
    with pytest.raises(DataQualityError, match="dqr=T/G/Ti"):
        parse_data_quality(text)


def test_bad_ratings_name_the_record() -> None:
    from fedcarbon.accounting.engine import compute_footprint

    from .engine_samples import rec

    with pytest.raises(DataQualityError, match="record 'x'"):
        compute_footprint([rec("x", "electricity.grid", 1.0, "kWh", data_quality="dqr=9/9/9")])
