"""Derive the factor matcher's reference list from the US Census Bureau 2017 NAICS files.

Source: US Census Bureau, 2017 NAICS downloadables (``2017_NAICS_Index_File.csv``: about 20,000
activity and product descriptions, each with its NAICS-6 code; ``2-6_digit_2017_Codes.csv``: the
code titles), as converted to CSV in the ``rajrao/NAICS`` repository. US Government work, public
domain.

* Only entries whose code has a factor in ``fedcarbon/accounting/data/epa_supply_chain_v1_2.csv``
  are kept: the matcher exists to find a spend-based factor, and a code without one (the
  electric utilities 2211xx, public administration 92xxxx) cannot be used for that.
* Output ``fedcarbon/matching/data/naics_2017_index.csv`` with columns ``naics6,kind,text``:
  ``kind`` is ``index`` for an Index File entry and ``title`` for the code's own title.
* Whitespace is collapsed; nothing else is changed, so each row can be found in the source.

Usage:  python scripts/derive_naics_index.py [NAICS_DIR] [OUT.csv]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The data folder sits beside the repository (a worktree may sit one level deeper).
DEFAULT_SOURCE = next(
    (
        p / "shared" / "data" / "naics"
        for p in (ROOT.parent, ROOT.parent.parent)
        if (p / "shared").is_dir()
    ),
    ROOT.parent / "shared" / "data" / "naics",
)
DEFAULT_OUT = ROOT / "fedcarbon" / "matching" / "data" / "naics_2017_index.csv"
EPA = ROOT / "fedcarbon" / "accounting" / "data" / "epa_supply_chain_v1_2.csv"


def _clean(text: str) -> str:
    return " ".join(text.split())


def derive(source: Path, out: Path) -> int:
    """Write the reference list; returns the number of rows written."""
    with EPA.open(encoding="utf-8", newline="") as handle:
        covered = {row["activity"].rsplit(".", 1)[-1] for row in csv.DictReader(handle)}
    rows: list[tuple[str, str, str]] = []
    with (source / "2-6_digit_2017_Codes.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for cells in reader:
            code = cells[1].strip() if len(cells) > 2 else ""
            if code in covered:
                rows.append((code, "title", _clean(cells[2])))
    with (source / "2017_NAICS_Index_File.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for cells in reader:
            code = cells[0].strip()
            if code in covered and cells[1].strip():
                rows.append((code, "index", _clean(cells[1])))
    rows.sort(key=lambda r: (r[0], r[1] != "title"))
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("naics6", "kind", "text"))
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_OUT
    print(f"{derive(source, out)} rows -> {out}")
