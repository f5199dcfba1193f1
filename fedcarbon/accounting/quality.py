"""Data quality of activity records: primary or secondary, and data quality ratings (DQRs).

The ``data_quality`` column of a record holds words separated by spaces, commas or
semicolons:

* ``primary`` as the first word - the activity data is measured or metered at the company or
  its supplier (GHG Protocol Scope 3 Standard ch. 7.3 "primary data"); counted in the primary
  data share.
* ``dqr=T/G/Ti`` - the record's data quality ratings, technological / geographical / temporal,
  each 1 (very good) to 5 (very poor), on the scale of the PACT Methodology v3 (section 4.2.3,
  "Data quality ratings"), which follows the Product Standard's data quality indicators
  (ch. 7.4, Table 7.2). Example: ``primary dqr=1/1/2``.
* anything else (``secondary``, ``supplier-specific (PACT footprint ...)``, an estimator's
  note) is kept as text and read as secondary data without ratings.

Ratings travel with the record into the footprint (``Footprint.dqr``, an emissions-weighted
mean over the records that have one, and ``dqr_coverage``) and into exported PACT files.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from fedcarbon.accounting.errors import DataQualityError

DQR_NAMES: tuple[str, str, str] = ("technological", "geographical", "temporal")

_DQR_RE = re.compile(r"^dqr=([0-9.]+)/([0-9.]+)/([0-9.]+)$", re.IGNORECASE)


@dataclass(frozen=True)
class DataQuality:
    """What a record's ``data_quality`` says: primary or not, and its DQRs (or None)."""

    primary: bool
    dqr: tuple[float, float, float] | None


@lru_cache(maxsize=4096)
def parse_data_quality(text: str | None) -> DataQuality:
    """Read a ``data_quality`` cell (syntax in the module docstring).

    Raises:
        DataQualityError: a ``dqr=`` word whose ratings are not three numbers in 1..5.
    """
    if not text:
        return DataQuality(False, None)
    primary = False
    dqr: tuple[float, float, float] | None = None
    for position, word in enumerate(re.split(r"[\s,;]+", text.strip())):
        if word.lower() == "primary" and position == 0:  # "not primary" stays secondary
            primary = True
        elif word.lower().startswith("dqr="):
            match = _DQR_RE.match(word)
            values = tuple(float(v) for v in match.groups()) if match else ()
            if len(values) != 3 or not all(math.isfinite(v) and 1 <= v <= 5 for v in values):
                raise DataQualityError(
                    f"data_quality {word!r}: write dqr=T/G/Ti, three ratings from 1 to 5 "
                    "(technological/geographical/temporal, PACT Methodology 4.2.3)"
                )
            dqr = (values[0], values[1], values[2])
    return DataQuality(primary, dqr)


__all__ = ["DQR_NAMES", "DataQuality", "DataQualityError", "parse_data_quality"]
