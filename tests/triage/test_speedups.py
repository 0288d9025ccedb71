"""The compiled featurizer loops (``_speedups.c``) give exactly what the Python code gives.

The package uses the C module when it was built at install (a C compiler was there) and the
Python code otherwise, so both must produce the same features and the same language scores,
to the bit: the shipped weights were trained on the Python ones. In CI the module must be
there (a missing compiler would otherwise turn every speed figure and these tests into
silent no-ops).
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundswell.triage import features, language
from groundswell.triage.models import load_model_set
from tests.triage.test_fast_paths import TEXTS


def test_compiled_module_is_built_in_ci() -> None:
    if os.environ.get("CI") != "true":
        pytest.skip("only CI insists on the compiled module")
    from groundswell.triage import _speedups  # noqa: F401

    assert features._ANALYZE_COMPILED is not None
    assert language._SCORES is not None


def test_a_module_built_from_another_version_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    if features.compiled_module() is None:
        pytest.skip("the C module was not built")
    from groundswell.triage import _speedups

    monkeypatch.setattr(_speedups, "VERSION", features.SPEEDUPS_VERSION + 1)
    assert features.compiled_module() is None
    assert features._compiled_analyze() is None
    assert language._compiled_scores() is None


def test_pure_python_can_be_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDSWELL_PURE_PYTHON", "1")
    assert features.compiled_module() is None


# Words, marks, negators, lexicon words, emoji, other scripts, long words, hashtags.
PIECES = [
    "not",
    "never",
    "good",
    "bad",
    "great",
    "awful",
    "but",
    "!",
    "?",
    ".",
    ",",
    ";",
    ":",
    "the",
    "i",
    "#refund",
    "#great",
    "@user",
    "httpurl",
    "loooove",
    "supercalifragilistic",
    "dont",
    "cant",
    "😀",
    "🔥",
    "<3",
    ":)",
    ";-(",
    "çà",
    "straße",
    "İstanbul",
    "ΟΔΟΣ",
    "日本語",
    "٣٤٥",
    "x",
    "ab_cd",
    "a'b",
    "no",
    "without",
    "love",
    "hate",
    "terrible",
]


def _sentences(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30))) for _ in range(count)]


def _analyze_both(text: str, lexicon: dict[str, float]) -> None:
    toks = features.tokenize(text)
    dense_py, dense_c = [0.0] * features.N_DENSE, [0.0] * features.N_DENSE
    spelled_py: list[str] = []
    spelled_c: list[str] = []
    got_py = features.analyze_tokens(toks, lexicon, dense_py, spelled_py)
    compiled = features._ANALYZE_COMPILED
    if compiled is None:
        pytest.skip("the C module was not built")
    got_c = compiled(toks, lexicon, dense_c, spelled_c)
    assert got_c == got_py
    assert dense_c == dense_py
    assert [type(x) for x in dense_c] == [float] * features.N_DENSE
    assert spelled_c == spelled_py


@pytest.fixture(scope="module")
def lexicon() -> dict[str, float]:
    return dict(load_model_set("default")._featurizer.lexicon)


def test_analyze_tokens_matches_python(lexicon: dict[str, float]) -> None:
    for text in TEXTS + _sentences(1, 400):
        _analyze_both(text, lexicon)
        _analyze_both(text, {})  # no lexicon: no valence features


def test_analyze_tokens_valence_rounding_and_negative_index() -> None:
    # Python's round() rounds half to even, and a valence below -4.5 indexes from the end.
    lex = {"a": 0.5, "b": 1.5, "c": 2.5, "d": -0.5, "e": -3.5, "f": -5.0, "g": 4.0, "h": 3.0}
    for text in ["a b c d e f g h", "not a b c d e f g h", "no h", "h"]:
        _analyze_both(text, lex)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (float("nan"), ValueError),
        (float("inf"), OverflowError),
        (-1e300, IndexError),
        (9.0, IndexError),
    ],
)
def test_analyze_tokens_bad_valences_raise_as_python_does(value: float, error: type) -> None:
    compiled = features._ANALYZE_COMPILED
    if compiled is None:
        pytest.skip("the C module was not built")
    for analyze in (features.analyze_tokens, compiled):
        with pytest.raises(error):
            analyze(["w"], {"w": value}, [0.0] * features.N_DENSE, [])


def test_the_featurizer_keeps_lexicon_values_as_floats() -> None:
    fz = features.Featurizer(10, {"good": np.float32(0.1), "bad": -2})  # type: ignore[dict-item]
    assert fz.lexicon == {"good": float(np.float32(0.1)), "bad": -2.0}
    assert all(type(v) is float for v in fz.lexicon.values())


def test_analyze_tokens_rejects_bad_arguments() -> None:
    if features._ANALYZE_COMPILED is None:
        pytest.skip("the C module was not built")
    analyze = features._ANALYZE_COMPILED
    with pytest.raises(TypeError):
        analyze(["ok", 3], {}, [0.0] * 8, [])
    with pytest.raises(ValueError):
        analyze(["ok"], {}, [0.0] * 7, [])
    with pytest.raises(TypeError):
        analyze(["ok"], [("ok", 1.0)], [0.0] * 8, [])

    class Token(str):
        pass

    # Only exact str: a subclass's __hash__ could change the lists while C holds them.
    with pytest.raises(TypeError):
        analyze([Token("ok")], {}, [0.0] * 8, [])
    with pytest.raises(TypeError):
        analyze(["ok"], {}, [0] * 8, [])
    with pytest.raises(TypeError):
        analyze(["ok"], {"ok": 1}, [0.0] * 8, [])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_analyze_tokens_matches_python_on_any_text(text: str) -> None:
    _analyze_both(text, {"good": 2.0, "bad": -2.5, "not": -0.5})


def test_featurize_matches_python(monkeypatch: pytest.MonkeyPatch) -> None:
    fz = load_model_set("default")._featurizer
    texts = TEXTS + _sentences(2, 300)
    compiled = fz.featurize(texts)
    monkeypatch.setattr(features, "_ANALYZE_COMPILED", None)
    plain = fz.featurize(texts)
    for a, b in ((compiled.matrix, plain.matrix), (compiled.hashed, plain.hashed)):
        assert np.array_equal(a.indptr, b.indptr)
        assert np.array_equal(a.indices, b.indices)
        assert a.data.tobytes() == b.data.tobytes()
    assert compiled.tokens == plain.tokens
    assert np.array_equal(compiled.source, plain.source)
    assert np.array_equal(compiled.readable, plain.readable)


def _language_model() -> language.LanguageModel:
    model = load_model_set("default")._language
    assert isinstance(model, language.LanguageModel)
    return model


def _identify_both(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    model = _language_model()
    if language._SCORES is None:
        pytest.skip("the C module was not built")
    langs_c, conf_c = model.identify(texts)
    with monkeypatch.context() as m:
        m.setattr(language, "_SCORES", None)
        langs_py, conf_py = model.identify(texts)
    assert langs_c == langs_py
    assert conf_c.tobytes() == conf_py.tobytes()


MULTILINGUAL = [
    "Je ne suis pas content du tout, le colis est encore en retard",
    "Das Paket ist schon wieder zu spät angekommen, sehr ärgerlich",
    "El pedido llegó tarde otra vez y nadie responde",
    "O pedido chegou atrasado de novo e ninguém responde",
    "Il pacco è arrivato in ritardo ancora una volta",
    "Het pakket is weer te laat aangekomen",
    "Paket yine geç geldi ve kimse cevap vermiyor",
    "الطلب وصل متأخر مرة أخرى ولا أحد يرد",
    "荷物がまた遅れて届きました。誰も返事をくれません",
    "Paketnya terlambat lagi dan tidak ada yang menjawab",
    "Paczka znowu przyszła za późno i nikt nie odpowiada",
    "THE PACKAGE IS LATE AGAIN",
]


def test_language_scores_match_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = TEXTS + MULTILINGUAL + _sentences(3, 300)
    # One text with more distinct features than 128 (the pairwise sum's block size).
    texts.append(" ".join(MULTILINGUAL) * 3)
    _identify_both(texts, monkeypatch)
    for text in texts[:40]:
        _identify_both([text], monkeypatch)


def test_language_text_with_a_nul_byte_takes_the_numpy_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _identify_both(["nul\x00inside this text", "and another one"], monkeypatch)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=6))
def test_language_scores_match_numpy_on_any_text(texts: list[str]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _identify_both(texts, monkeypatch)


def test_language_scores_reject_mismatched_buffers() -> None:
    if language._SCORES is None:
        pytest.skip("the C module was not built")
    model = _language_model()
    n_lang = len(model.languages)
    scores = np.empty((2, n_lang), dtype=np.float32)
    found = np.empty(2, dtype=np.int64)
    table = np.log1p(np.arange(8)).astype(np.float32)
    with pytest.raises(ValueError, match="too short"):
        language._SCORES(
            b"abcdefgh\0b\0", model._compiled_tables, model._ptc, table, n_lang, scores, found
        )
    with pytest.raises(ValueError, match="mismatched"):
        # Three texts in the buffer, room for two.
        language._SCORES(
            b"a\0b\0c\0", model._compiled_tables, model._ptc, table, n_lang, scores, found
        )
    with pytest.raises(ValueError, match="mismatched"):
        language._SCORES(b"a\0b", model._compiled_tables, model._ptc, table, n_lang, scores, found)
    # A full table (no empty slot) still ends: an absent byte finds no feature.
    full = ((1, np.array([ord("a"), ord("b")], np.int64), np.zeros(2, np.int32), 1),)
    language._SCORES(b"c\0z\0", full, model._ptc, table, n_lang, scores, found)
    assert found.tolist() == [0, 0]
    bad = ((1, np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int32), 4),)
    with pytest.raises(ValueError, match="malformed"):
        language._SCORES(b"a\0b\0", bad, model._ptc, table, n_lang, scores, found)
