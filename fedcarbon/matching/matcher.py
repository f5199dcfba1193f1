"""Suggest NAICS-6 codes (and so EPA spend-based factors) for free-text purchase lines, offline.

How a line is ranked:

1. ``normalise`` strips units, pack sizes and part numbers and expands ERP abbreviations;
   ``expand`` adds the NAICS index's wording for common purchase terms.
2. The text is embedded with character n-gram TF-IDF and compared (cosine) with every reference
   phrase (NAICS 2017 index entries, code titles, EPA commodity titles).
3. A phrase describing a trade or service around a good ("merchant wholesalers", "repair",
   "installation") is down-weighted unless the line itself speaks of such a service: a buyer
   purchasing bolts buys their manufacture's footprint, which is what the EPA factor of the
   manufacturing code describes.
4. Phrases are aggregated per NAICS-6 code: the best phrase is the code's score and its reason.
5. A logistic function of the score and its margin over the next code turns scores into a
   calibrated confidence (coefficients fitted on generated lines by
   ``benchmarks/bench_matching.py --calibrate``), and thresholds decide: auto-accept, review,
   unknown.

Confirmed mappings (``History``) are looked up first: an exact description (case and spacing
aside) returns the confirmed code; a near-duplicate (cosine of normalised text above
``NEAR_DUPLICATE``) adds the confirmed code as a candidate with its own confidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import numpy as np
import numpy.typing as npt
from scipy import sparse

from fedcarbon.matching.normalise import expand, normalise
from fedcarbon.matching.reference import Reference, load_reference
from fedcarbon.matching.tfidf import CharTfidf

MATCHER_VERSION = "fedcarbon-matcher/1.0"
"""Recorded in every audit entry; bump whenever ranking, tables or calibration change."""

AUTO_ACCEPT = 0.90
"""Confidence from which a suggestion is used without review (precision target 90 %)."""
REVIEW = 0.30
"""Confidence from which a suggestion is shown for review; below it the line is unknown."""
NEAR_DUPLICATE = 0.75
"""Cosine similarity (normalised text) from which a confirmed line counts as a near-duplicate."""

# Logistic calibration: P(correct) = 1 / (1 + exp(-(A + B * score + C * margin))).
CALIBRATION = (-2.68, 4.16, 7.79)
HISTORY_CALIBRATION = (-10.61, 17.34)
"""Near-duplicate history: P(same code) = 1 / (1 + exp(-(A + B * similarity)))."""

SERVICE_PENALTY = 0.85
"""Factor on phrases about trading, repairing or installing a good (see the module docstring)."""
_SERVICE_PHRASE = re.compile(
    r"merchant wholesalers|wholesal|retailing|\bstores?\b|repair|installation|installing|"
    r"contractors?\b|rental|leasing|dealers|brokers|agents\b|distribut",
    re.IGNORECASE,
)
_SERVICE_QUERY = re.compile(
    r"repair|install|contract|rental|rent\b|lease|wholesale|retail|store|service|maint|fee|"
    r"hire|charges?\b",
    re.IGNORECASE,
)
_BATCH = 512
MIN_QUERY_IDF = 4.0
"""Query n-grams found in more than about 5 % of the phrases (idf below this) are skipped:
they barely move a cosine but dominate the cost of the sparse product (measured on the dev set:
same top-1/top-5, a third less time)."""


class Decision(StrEnum):
    """What to do with a line's best suggestion."""

    AUTO = "auto-accept"
    REVIEW = "review"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A suggested code: ``score`` is the calibrated confidence, ``reason`` the matched phrase."""

    naics6: str
    title: str
    score: float
    reason: str
    source: str = "reference"
    """``reference`` (ranked against the NAICS index) or ``confirmed`` (from history)."""
    similarity: float = 0.0
    """The uncalibrated cosine similarity behind ``score`` (kept for the audit trail)."""


@dataclass(frozen=True, slots=True)
class Match:
    """The ranked suggestions for one purchase line and the decision its best one implies."""

    description: str
    candidates: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def decision(self) -> Decision:
        best = self.best
        if best is None or best.score < REVIEW:
            return Decision.UNKNOWN
        return Decision.AUTO if best.score >= AUTO_ACCEPT else Decision.REVIEW


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A mapping a person confirmed or overrode: the line's text and the code chosen for it."""

    description: str
    naics6: str


def exact_key(description: str) -> str:
    """The key of exact lookups: case, accents of spacing and surrounding blanks ignored."""
    return " ".join(description.casefold().split())


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def confidence(score: float, margin: float) -> float:
    """Calibrated probability that a reference candidate is right (see ``CALIBRATION``)."""
    a, b, c = CALIBRATION
    return round(_logistic(a + b * score + c * margin), 4)


def history_confidence(similarity: float) -> float:
    """Calibrated probability that a near-duplicate's confirmed code is right."""
    if similarity >= 0.999:
        return 0.99
    a, b = HISTORY_CALIBRATION
    return round(min(0.99, _logistic(a + b * similarity)), 4)


class History:
    """Confirmed mappings, looked up before the reference list (exact, then near-duplicate)."""

    def __init__(self, confirmed: Iterable[Confirmed]) -> None:
        latest: dict[str, Confirmed] = {}
        for item in confirmed:
            latest[exact_key(item.description)] = item  # a later override wins
        self.exact = latest
        items = list(latest.values())
        self._codes = [c.naics6 for c in items]
        self._texts = [c.description for c in items]
        self._tfidf = CharTfidf(normalise(c.description) for c in items) if items else None

    def __len__(self) -> int:
        return len(self.exact)

    def lookup(
        self, descriptions: Sequence[str], *, threshold: float = NEAR_DUPLICATE
    ) -> list[list[tuple[str, float, str]]]:
        """Per line, confirmed ``(code, similarity, confirmed text)`` at or above ``threshold``."""
        found: list[list[tuple[str, float, str]]] = [[] for _ in descriptions]
        pending: list[int] = []
        for i, text in enumerate(descriptions):
            hit = self.exact.get(exact_key(text))
            if hit is not None:
                found[i].append((hit.naics6, 1.0, hit.description))
            else:
                pending.append(i)
        if self._tfidf is None or not pending:
            return found
        queries = self._tfidf.transform(normalise(descriptions[i]) for i in pending)
        sims = np.asarray((queries @ self._tfidf.matrix.T).todense())
        for row, i in enumerate(pending):
            best: dict[str, tuple[float, str]] = {}
            for j in np.flatnonzero(sims[row] >= threshold):
                code, sim = self._codes[j], float(sims[row, j])
                if sim > best.get(code, (0.0, ""))[0]:
                    best[code] = (sim, self._texts[j])
            found[i] = sorted(((c, s, t) for c, (s, t) in best.items()), key=lambda x: -x[1])
        return found


@dataclass(frozen=True)
class Options:
    """Which refinements the matcher applies (all on; the benchmark's baseline turns them off)."""

    normalise: bool = True
    synonyms: bool = True
    service_penalty: bool = True


class Matcher:
    """Ranks NAICS-6 codes for purchase lines against the shipped reference list."""

    def __init__(self, reference: Reference | None = None, options: Options = Options()) -> None:
        self.reference = reference or load_reference()
        self.options = options
        phrases = sorted(self.reference.phrases, key=lambda p: p.naics6)
        self._phrases = phrases
        self._tfidf = CharTfidf(self._prepare(p.text, phrase=True) for p in phrases)
        codes = [p.naics6 for p in phrases]
        starts = [0] + [i for i in range(1, len(codes)) if codes[i] != codes[i - 1]]
        self._codes = [codes[i] for i in starts]
        self._starts: npt.NDArray[np.intp] = np.asarray(starts, dtype=np.intp)
        self._ends = np.append(self._starts[1:], len(codes))
        self._service: npt.NDArray[np.bool_] = np.asarray(
            [_SERVICE_PHRASE.search(p.text) is not None for p in phrases], dtype=np.bool_
        )
        self._doc_matrix_t = self._tfidf.matrix.T.tocsr()
        # The same with service phrases down-weighted, for lines that are not about a service.
        penalty = np.where(self._service, np.float32(SERVICE_PENALTY), np.float32(1.0))
        self._doc_matrix_t_goods = (self._doc_matrix_t @ sparse.diags(penalty)).tocsr()
        self._informative = (self._tfidf.idf >= MIN_QUERY_IDF).astype(np.float32)[np.newaxis, :]

    def _prepare(self, text: str, *, phrase: bool = False) -> str:
        if not self.options.normalise:
            return text.lower()
        words = normalise(text)
        if phrase or not self.options.synonyms:
            return words
        return expand(words)

    def match(
        self, descriptions: Sequence[str], *, top: int = 5, history: History | None = None
    ) -> list[Match]:
        """The ``top`` candidates of each line, best first, in input order."""
        if top < 1:
            raise ValueError(f"top must be at least 1, not {top}")
        confirmed = history.lookup(descriptions) if history is not None else None
        results: list[Match] = []
        for start in range(0, len(descriptions), _BATCH):
            batch = descriptions[start : start + _BATCH]
            ranked = self._rank(batch, top)
            for offset, (text, candidates) in enumerate(zip(batch, ranked, strict=True)):
                if confirmed is not None:
                    candidates = self._merge(confirmed[start + offset], candidates, top)
                results.append(Match(text, tuple(candidates)))
        return results

    def _merge(
        self, hits: list[tuple[str, float, str]], candidates: list[Candidate], top: int
    ) -> list[Candidate]:
        if not hits:
            return candidates
        merged: dict[str, Candidate] = {}
        for code, sim, text in hits:
            merged[code] = Candidate(
                code,
                self.reference.titles.get(code, ""),
                history_confidence(sim),
                f"confirmed mapping of {text!r}",
                "confirmed",
                round(sim, 4),
            )
        for c in candidates:
            if c.naics6 not in merged or merged[c.naics6].score < c.score:
                merged[c.naics6] = c
        return sorted(merged.values(), key=lambda c: -c.score)[:top]

    def _rank(self, texts: Sequence[str], top: int) -> list[list[Candidate]]:
        prepared = [self._prepare(t) for t in texts]
        queries = self._tfidf.transform(prepared)
        if self.options.normalise:
            queries = queries.multiply(self._informative).tocsr()
        scores = np.empty((len(texts), len(self._phrases)), dtype=np.float32)
        goods = np.zeros(len(texts), dtype=np.bool_)
        if self.options.service_penalty:
            goods = np.asarray([_SERVICE_QUERY.search(t) is None for t in texts], dtype=np.bool_)
        for rows, docs in ((goods, self._doc_matrix_t_goods), (~goods, self._doc_matrix_t)):
            if rows.any():
                scores[rows] = (queries[rows] @ docs).toarray()
        per_code = np.maximum.reduceat(scores, self._starts, axis=1)
        k = min(top + 1, per_code.shape[1])
        out: list[list[Candidate]] = []
        for row in range(len(texts)):
            line = per_code[row]
            best = np.argpartition(-line, k - 1)[:k]
            best = best[np.argsort(-line[best], kind="stable")]
            values = [float(line[j]) for j in best]
            candidates: list[Candidate] = []
            for rank, j in enumerate(best[:top]):
                value = values[rank]
                if value <= 0.0:
                    break
                other = values[1] if rank == 0 and len(values) > 1 else values[0]
                lo, hi = int(self._starts[j]), int(self._ends[j])
                phrase = self._phrases[lo + int(np.argmax(scores[row, lo:hi]))]
                code = self._codes[j]
                candidates.append(
                    Candidate(
                        code,
                        self.reference.titles.get(code, ""),
                        confidence(value, value - other),
                        phrase.text,
                        similarity=round(value, 4),
                    )
                )
            out.append(candidates)
        return out


@cache
def default_matcher() -> Matcher:
    """The matcher over the shipped reference list, built once per process (about 2 s)."""
    return Matcher()
