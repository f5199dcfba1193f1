"""Character n-gram TF-IDF: the lexical ranker behind the matcher.

Character n-grams inside word boundaries (scikit-learn's ``char_wb`` analyser) tolerate the
truncations, plurals and run-together words of ERP short texts ("CORRUG", "bolts", "lightbulb")
that defeat word matching. Weights follow the usual TF-IDF with sublinear term frequency and a
smoothed inverse document frequency, ``idf(t) = ln((1 + n) / (1 + df(t))) + 1`` (Manning,
Raghavan and Schütze, *Introduction to Information Retrieval*, 2008, section 6.4.3), and each
row is L2-normalised, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse

NGRAMS = (3, 4, 5)
"""n-gram lengths: 3 catches stems of abbreviations, 5 rewards whole-word agreement."""


def char_ngrams(text: str, sizes: Sequence[int] = NGRAMS) -> list[str]:
    """Every n-gram of each space-padded word of ``text``, for each n in ``sizes``."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        length = len(padded)
        for n in sizes:
            if length <= n:
                grams.append(padded)
                break
            grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return grams


class CharTfidf:
    """A vocabulary and IDF weights fitted on reference texts; ``transform`` embeds queries."""

    def __init__(self, texts: Iterable[str], sizes: Sequence[int] = NGRAMS) -> None:
        self.sizes = tuple(sizes)
        counted = [Counter(char_ngrams(t, self.sizes)) for t in texts]
        df: Counter[str] = Counter()
        for grams in counted:
            df.update(grams.keys())
        self.vocabulary: dict[str, int] = {g: i for i, g in enumerate(sorted(df))}
        n = len(counted)
        self.idf: npt.NDArray[np.float32] = np.asarray(
            [math.log((1 + n) / (1 + df[g])) + 1.0 for g in sorted(df)], dtype=np.float32
        )
        self.matrix = self._matrix(counted)

    @property
    def size(self) -> int:
        return len(self.vocabulary)

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """L2-normalised TF-IDF rows; n-grams outside the vocabulary are ignored."""
        return self._matrix([Counter(char_ngrams(t, self.sizes)) for t in texts])

    def _matrix(self, counted: Sequence[Counter[str]]) -> sparse.csr_matrix:
        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        vocabulary = self.vocabulary
        for grams in counted:
            for gram, count in grams.items():
                column = vocabulary.get(gram)
                if column is not None:
                    indices.append(column)
                    values.append(1.0 + math.log(count))
            indptr.append(len(indices))
        matrix = sparse.csr_matrix(
            (
                np.asarray(values, dtype=np.float32),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(counted), len(vocabulary)),
        )
        matrix = matrix.multiply(self.idf[np.newaxis, :]).tocsr()
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms).astype(np.float32) @ matrix)
