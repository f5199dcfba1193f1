"""Factor matching quality and speed: top-1/top-5 on labelled purchase lines, 10,000 lines timed.

Run: ``.venv/bin/python benchmarks/bench_matching.py [--data FILE.csv] [--lines 10000] [--quick]
[--calibrate]``.

``--data`` is a labelled CSV with columns ``description,naics6`` (default: the held-out half of
the generated set, ``benchmarks/data/purchase_lines_test.csv``; the other half,
``purchase_lines_dev.csv``, is the only one used for tuning and ``--calibrate``). Printed, for the
matcher and for a plain character TF-IDF baseline measured in the same run (raw lower-cased text,
no normalisation, synonyms or service penalty, best phrase per code):

* top-1 and top-5 accuracy; "top-1 same factor" also counts a top-1 code whose EPA v1.2 factor is
  the one of the labelled code (EPA gives several NAICS-6 codes one USEEIO sector's factor);
* auto-accepted lines: their share and precision;
* with confirmed history, two scenarios: "recurring" (every line was confirmed last month and
  comes back re-typed - a word dropped or cut short, ``retype`` - with other quantities, pack
  sizes, PO numbers and case, ``vary``) and
  "sequential" (lines arrive in file order; each is confirmed after it is matched, so only
  earlier, different lines help);
* seconds to match ``--lines`` lines (the labelled lines varied and repeated), after building.

``--calibrate`` fits the logistic calibration (``CALIBRATION`` in ``fedcarbon/matching/
matcher.py``) on the dev set by Newton's method and prints the coefficients.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fedcarbon.matching.matcher import (
    AUTO_ACCEPT,
    Confirmed,
    History,
    Match,
    Matcher,
    Options,
)
from fedcarbon.matching.reference import load_reference

HERE = Path(__file__).resolve().parent
DEV = HERE / "data" / "purchase_lines_dev.csv"
TEST = HERE / "data" / "purchase_lines_test.csv"


def read_labelled(path: Path) -> list[tuple[str, str]]:
    """``(description, naics6)`` rows of a labelled CSV; rejects rows without both cells."""
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"description", "naics6"} - set(reader.fieldnames or ())
        if missing:
            raise SystemExit(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            text, code = (row["description"] or "").strip(), (row["naics6"] or "").strip()
            if not text or not re.fullmatch(r"\d{6}", code):
                raise SystemExit(f"{path}, row {reader.line_num}: need a description and a code")
            rows.append((text, code))
    return rows


def vary(text: str, rng: random.Random) -> str:
    """The same item bought again: other numbers, another PO reference, maybe other case."""
    out = re.sub(r"\d+", lambda m: str(int(m.group()) * rng.choice((1, 2, 3, 5)) or 1), text)
    if rng.random() < 0.5:
        out = out.upper() if rng.random() < 0.5 else out.lower()
    if rng.random() < 0.5:
        out = f"{out} PO{rng.randint(10000, 99999)}"
    return out


def retype(text: str, rng: random.Random) -> str:
    """The same item typed differently: one word dropped or cut to four letters."""
    words = text.split()
    if len(words) < 3:
        return text.upper()
    i = rng.randrange(len(words))
    if rng.random() < 0.5:
        del words[i]
    else:
        words[i] = words[i][:4]
    return " ".join(words)


@dataclass
class Score:
    """Counts over one run."""

    n: int = 0
    top1: int = 0
    top5: int = 0
    same_factor: int = 0
    auto: int = 0
    auto_right: int = 0

    def add(self, match: Match, label: str, groups: dict[str, str]) -> None:
        codes = [c.naics6 for c in match.candidates]
        self.n += 1
        self.top1 += bool(codes) and codes[0] == label
        self.top5 += label in codes[:5]
        self.same_factor += bool(codes) and groups.get(codes[0]) == groups.get(label)
        if match.best is not None and match.best.score >= AUTO_ACCEPT:
            self.auto += 1
            self.auto_right += codes[0] == label

    def row(self, name: str) -> str:
        def pct(a: int, b: int) -> str:
            return f"{100 * a / b:5.1f} %" if b else "   n/a"

        return (
            f"| {name} | {pct(self.top1, self.n)} | {pct(self.top5, self.n)} | "
            f"{pct(self.same_factor, self.n)} | {pct(self.auto, self.n)} | "
            f"{pct(self.auto_right, self.auto)} |"
        )


def evaluate(
    matcher: Matcher,
    rows: list[tuple[str, str]],
    history: History | None = None,
) -> Score:
    groups = matcher.reference.factor_group
    score = Score()
    matches = matcher.match([t for t, _ in rows], top=5, history=history)
    for match, (_, label) in zip(matches, rows, strict=True):
        score.add(match, label, groups)
    return score


def sequential(matcher: Matcher, rows: list[tuple[str, str]], base: list[Confirmed]) -> Score:
    groups = matcher.reference.factor_group
    score = Score()
    confirmed = list(base)
    for text, label in rows:
        match = matcher.match([text], top=5, history=History(confirmed))[0]
        score.add(match, label, groups)
        confirmed.append(Confirmed(text, label))
    return score


def calibrate(matcher: Matcher, rows: list[tuple[str, str]]) -> None:
    """Fit P(top-1 right) = logistic(a + b*score + c*margin) and print a, b, c."""
    feats: list[tuple[float, float, float]] = []
    for match, (_, label) in zip(matcher.match([t for t, _ in rows], top=2), rows, strict=True):
        found = match.candidates
        if not found:
            continue
        margin = found[0].similarity - (found[1].similarity if len(found) > 1 else 0.0)
        feats.append((found[0].similarity, margin, float(found[0].naics6 == label)))
    x = np.asarray([[1.0, f[0], f[1]] for f in feats])
    y = np.asarray([f[2] for f in feats])
    w = np.zeros(3)
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ (y - p)
        hess = -(x.T * (p * (1 - p))) @ x - 1e-3 * np.eye(3)
        w -= np.linalg.solve(hess, grad)
    print("calibration (a, b, c):", tuple(round(float(v), 2) for v in w))
    # History: the same item re-typed (a word dropped or cut short) should match its confirmed
    # line; a different item should not. Pairs: (similarity to the nearest confirmed line, same?).
    rng = random.Random(5)
    pairs: list[tuple[float, float]] = []
    for i, (text, label) in enumerate(rows):
        others = [Confirmed(t, c) for j, (t, c) in enumerate(rows) if j != i]
        variant = retype(text, rng)
        for confirmed in (others, [*others, Confirmed(text, label)]):
            hits = History(confirmed).lookup([variant], threshold=0.3)[0]
            if hits:
                pairs.append((hits[0][1], float(hits[0][0] == label)))
    hx = np.asarray([[1.0, s] for s, _ in pairs])
    hy = np.asarray([y for _, y in pairs])
    hw = np.zeros(2)
    for _ in range(50):
        p = 1 / (1 + np.exp(-hx @ hw))
        hess = -(hx.T * (p * (1 - p))) @ hx - 1e-3 * np.eye(2)
        hw -= np.linalg.solve(hess, hx.T @ (hy - p))
    print(
        f"history calibration (a, b) over {len(pairs)} pairs:",
        tuple(round(float(v), 2) for v in hw),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=TEST, help="labelled CSV (description,naics6)")
    parser.add_argument("--lines", type=int, default=10_000, help="lines in the speed run")
    parser.add_argument("--quick", action="store_true", help="1,000 lines in the speed run")
    parser.add_argument("--calibrate", action="store_true", help="fit the calibration on dev")
    args = parser.parse_args()
    lines = 1_000 if args.quick else args.lines
    rows = read_labelled(args.data)
    dev = read_labelled(DEV) if args.data.resolve() != DEV.resolve() else []
    load_reference()

    t0 = time.perf_counter()
    matcher = Matcher()
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline = Matcher(options=Options(normalise=False, synonyms=False, service_penalty=False))
    build_base = time.perf_counter() - t0
    if args.calibrate:
        calibrate(matcher, read_labelled(DEV))
        return

    rng = random.Random(17)
    month2 = [(vary(retype(t, rng), rng), c) for t, c in rows]
    base = [Confirmed(t, c) for t, c in dev]
    recurring = History(base + [Confirmed(t, c) for t, c in rows])
    print(f"{args.data.name}: {len(rows)} labelled lines; history base: {len(dev)} dev lines\n")
    print("| run | top-1 | top-5 | top-1 same factor | auto-accepted | auto precision |")
    print("|---|---|---|---|---|---|")
    print(evaluate(baseline, rows).row("baseline: plain char TF-IDF, no history"))
    print(evaluate(matcher, rows).row("matcher, no history"))
    print(evaluate(baseline, month2, recurring).row("baseline + history, recurring"))
    print(evaluate(matcher, month2, recurring).row("matcher + history, recurring"))
    print(sequential(matcher, rows, base).row("matcher + history, sequential"))

    # Distinct lines, as in a real month of purchases: a labelled line with other numbers plus
    # one word of another line, so that no two lines normalise alike (nothing is cached).
    words = [w for t, _ in rows for w in t.split() if w.isalpha()]
    speed_rows = [
        f"{vary(rows[i % len(rows)][0], rng)} {rng.choice(words)} PO{i}" for i in range(lines)
    ]
    t0, c0 = time.perf_counter(), time.process_time()
    baseline.match(speed_rows, top=5)
    base_s, base_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    matcher.match(speed_rows, top=5, history=recurring)
    mine_s, mine_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"\n{lines} lines: matcher {mine_s:.2f} s wall, {mine_cpu:.2f} s CPU (with history; "
        f"build {build:.2f} s); baseline {base_s:.2f} s wall, {base_cpu:.2f} s CPU "
        f"(build {build_base:.2f} s); wall ratio {mine_s / base_s:.2f}"
    )


if __name__ == "__main__":
    main()
