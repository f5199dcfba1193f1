"""Character n-gram TF-IDF: cosine similarities between L2-normalised rows."""

import numpy as np

from fedcarbon.matching.tfidf import CharTfidf, char_ngrams


def test_ngrams_are_taken_inside_padded_words() -> None:
    assert char_ngrams("ab", (3,)) == [" ab", "ab "]
    assert " a " in char_ngrams("a", (3, 4))


def test_a_text_is_most_similar_to_itself() -> None:
    model = CharTfidf(["steel bolts", "paper mills", "computer monitors"])
    sims = (model.transform(["steel bolts"]) @ model.matrix.T).toarray()[0]
    assert int(np.argmax(sims)) == 0
    assert abs(sims[0] - 1.0) < 1e-5


def test_unknown_ngrams_give_a_zero_row() -> None:
    model = CharTfidf(["steel bolts"])
    row = model.transform(["qqqq"])
    assert row.nnz == 0


def test_rows_are_unit_length() -> None:
    model = CharTfidf(["steel bolts", "paper"])
    norms = np.sqrt(np.asarray(model.matrix.multiply(model.matrix).sum(axis=1)).ravel())
    assert np.allclose(norms, 1.0, atol=1e-5)
