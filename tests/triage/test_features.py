"""The featurizer's word vectors: lookup, mean, storage, and their columns in the matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from groundswell.triage.features import N_DENSE, Featurizer, WordVectors
from groundswell.triage.models import _read_word_vectors

WORDS = ["!", "#sale", "late", "order", "sale"]
TABLE = np.array(
    [[0.0, 0.0, 1.0], [0.0, 5.0, 0.0], [3.0, 0.0, 0.0], [0.0, 4.0, 0.0], [1.0, 1.0, 0.0]],
    dtype=np.float16,
)


@pytest.fixture
def vectors() -> WordVectors:
    return WordVectors(WORDS, TABLE)


def unit(v: list[float]) -> np.ndarray:
    return np.asarray(v) / np.linalg.norm(v)


def test_the_mean_of_known_tokens_is_unit_length_and_unknown_ones_are_skipped(
    vectors: WordVectors,
) -> None:
    out = vectors.mean(["late", "zzz", "order", "qqq", "late", "!"], [3, 1, 2])
    assert out.shape == (3, 3)
    np.testing.assert_allclose(out[0], [0.6, 0.8, 0.0], rtol=1e-6)
    np.testing.assert_array_equal(out[1], 0.0)  # no known token: stays zero
    np.testing.assert_allclose(out[2], unit([3.0, 0.0, 1.0]), rtol=1e-6)
    assert vectors.mean([], []).shape == (0, 3)
    assert vectors.mean([], [0, 0]).tolist() == [[0.0] * 3] * 2


def test_a_hashtag_takes_its_own_entry_or_else_the_words(vectors: WordVectors) -> None:
    out = vectors.mean(["#sale", "#late", "#zzz", "#!"], [1, 1, 1, 1])
    np.testing.assert_allclose(out[0], [0.0, 1.0, 0.0])  # its own entry, not "sale"'s
    np.testing.assert_allclose(out[1], [1.0, 0.0, 0.0])  # "late"'s
    # no entry and no word behind it; only words get the fallback ("#!" is not "!")
    np.testing.assert_array_equal(out[2:], 0.0)


def test_the_stored_arrays_round_trip(vectors: WordVectors, tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "wv.npz", **vectors.arrays())
    back = WordVectors.load(tmp_path / "wv.npz")
    assert back.words == WORDS
    np.testing.assert_array_equal(back.vectors, TABLE)
    assert back.dims == 3


@pytest.mark.parametrize(
    ("words", "table", "message"),
    [
        (["a", "b"], np.zeros((3, 2)), "2 words for a table of shape"),
        ([], np.zeros((0, 2)), "0 words"),
        (["a"], np.zeros(2), "1 words"),
        (["a", "b"], np.array([[0.0, np.nan], [1.0, 1.0]]), "not finite"),
        (["a", "a"], np.zeros((2, 2)), "listed twice"),
        (["a", "b\nc"], np.zeros((2, 2)), "line break"),
        (["a", ""], np.zeros((2, 2)), "empty"),
    ],
)
def test_a_bad_table_is_refused(words: list[str], table: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WordVectors(words, table)


def test_the_featurizer_appends_the_mean_vector_after_the_lexicon_columns(
    vectors: WordVectors,
) -> None:
    plain = Featurizer(12, {"late": -2.0})
    with_vectors = Featurizer(12, {"late": -2.0}, vectors)
    texts = ["My ORDER is late!!", "nothing known here", ""]
    assert with_vectors.n_features == (1 << 12) + N_DENSE + 3 == plain.n_features + 3
    a, b = plain.featurize(texts), with_vectors.featurize(texts)
    assert b.matrix.shape == (3, with_vectors.n_features)
    # the hashed and lexicon columns are those of the featurizer without vectors
    np.testing.assert_array_equal(b.matrix[:, : plain.n_features].toarray(), a.matrix.toarray())
    np.testing.assert_array_equal(b.hashed.toarray(), a.hashed.toarray())
    tail = b.matrix[:, plain.n_features :].toarray()
    # "order", "late", "!" (the two "!" count twice), normalized to unit length
    expected = np.array([3.0, 4.0, 2.0]) / np.linalg.norm([3.0, 4.0, 2.0])
    np.testing.assert_allclose(tail[0], expected, rtol=1e-6)
    np.testing.assert_array_equal(tail[1:], 0.0)
    assert with_vectors.featurize([]).matrix.shape == (0, with_vectors.n_features)


def test_a_set_refuses_word_vectors_that_do_not_match_its_record(
    vectors: WordVectors, tmp_path: Path
) -> None:
    np.savez_compressed(tmp_path / "word_vectors.npz", **vectors.arrays())
    record = {"file": "word_vectors.npz", "words": 5, "dims": 3}
    loaded = _read_word_vectors(tmp_path, record)
    assert loaded is not None
    assert loaded.words == WORDS
    assert _read_word_vectors(tmp_path, None) is None
    with pytest.raises(ValueError, match="holds 5 x 3 vectors, the set was trained with 5 x 4"):
        _read_word_vectors(tmp_path, record | {"dims": 4})
    with pytest.raises(ValueError, match="must be an object"):
        _read_word_vectors(tmp_path, "word_vectors.npz")
    with pytest.raises(FileNotFoundError):
        _read_word_vectors(tmp_path, record | {"file": "missing.npz"})


def test_the_shipped_default_set_reads_the_word_vectors_it_was_trained_with() -> None:
    import json
    from importlib import resources

    from groundswell.triage.models import load_model_set

    folder = resources.files("groundswell").joinpath("models")
    record = json.loads(folder.joinpath("default.json").read_text(encoding="utf-8"))
    fz = load_model_set("default")._featurizer
    assert fz.word_vectors is not None
    assert (len(fz.word_vectors.words), fz.word_vectors.dims) == (
        record["word_vectors"]["words"],
        record["word_vectors"]["dims"],
    )
    # the post's mean vector is part of every prediction: a known word moves it off zero
    tail = fz.featurize(["refund", "zzzqqq"]).matrix[:, -fz.word_vectors.dims :].toarray()
    assert np.linalg.norm(tail[0]) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_array_equal(tail[1], 0.0)


def test_the_mean_adds_in_the_order_the_shipped_heads_were_trained_with() -> None:
    # The lbfgs heads move with the last bit of their inputs: the sums must stay those of a
    # COO matrix converted to CSR (duplicates merged, ids sorted), bit for bit.
    from scipy import sparse

    rng = np.random.default_rng(0)
    table = rng.normal(size=(50, 16)).astype(np.float16)
    words = [f"w{i}" for i in range(50)]
    vectors = WordVectors(words, table)
    per_row = rng.integers(0, 30, size=40)
    ids = rng.integers(0, 50, size=int(per_row.sum()))
    rows = np.repeat(np.arange(40), per_row)
    coo = sparse.csr_matrix((np.ones(len(ids), dtype=np.float32), (rows, ids)), shape=(40, 50))
    expected = np.asarray(coo @ table.astype(np.float32), dtype=np.float32)
    norms = np.linalg.norm(expected, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    expected /= norms
    got = vectors.mean([words[i] for i in ids], per_row.tolist())
    np.testing.assert_array_equal(got, expected)
