"""Language identification: the shipped model, vectorized, with `und` for short/unsure text."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from groundswell.triage.language import UNDETERMINED, LanguageModel

# One everyday brand-directed sentence per required language, written for these tests.
SAMPLES = {
    "en": "I ordered a new phone last week and it still has not arrived, can you help me?",
    "es": "Pedí un teléfono nuevo la semana pasada y todavía no ha llegado, ¿me pueden ayudar?",
    "fr": "J'ai commandé un nouveau téléphone la semaine dernière et il n'est toujours pas arrivé.",
    "de": "Ich habe letzte Woche ein neues Handy bestellt und es ist immer noch nicht angekommen.",
    "pt": "Encomendei um telemóvel novo na semana passada e ainda não chegou, podem ajudar-me?",
    "it": "Ho ordinato un nuovo telefono la settimana scorsa e non è ancora arrivato, mi aiutate?",
    "nl": "Ik heb vorige week een nieuwe telefoon besteld en hij is nog steeds niet aangekomen.",
    "tr": "Geçen hafta yeni bir telefon sipariş ettim ve hâlâ gelmedi, yardımcı olabilir misiniz?",
    "ar": "طلبت هاتفا جديدا الأسبوع الماضي ولم يصل بعد، هل يمكنكم مساعدتي؟",
    "ja": "先週新しい電話を注文しましたが、まだ届いていません。助けてもらえますか？",
    "id": "Saya memesan ponsel baru minggu lalu dan sampai sekarang belum datang, bisa dibantu?",
    "pl": "W zeszłym tygodniu zamówiłem nowy telefon i nadal nie dotarł, czy możecie mi pomóc?",
}


@pytest.fixture(scope="module")
def model() -> LanguageModel:
    path = resources.files("groundswell").joinpath("models", "language.npz")
    with path.open("rb") as fh, np.load(fh) as npz:
        return LanguageModel.from_arrays(dict(npz))


def test_each_required_language_is_identified(model: LanguageModel) -> None:
    langs, conf = model.identify(list(SAMPLES.values()))
    assert dict(zip(SAMPLES, langs, strict=True)) == {k: k for k in SAMPLES}
    assert np.all(conf >= model.min_confidence)


@pytest.mark.parametrize("text", ["", "ok", "lol", "@someone https://t.co/abc #tag 123", "👍👍"])
def test_short_or_letterless_text_is_undetermined(model: LanguageModel, text: str) -> None:
    langs, conf = model.identify([text])
    assert langs == [UNDETERMINED]
    assert 0.0 <= float(conf[0]) <= 1.0


def test_links_and_handles_do_not_decide_the_language(model: LanguageModel) -> None:
    text = SAMPLES["de"]
    langs, _ = model.identify([f"@CustomerCare https://example.com/track?id=1 {text}"])
    assert langs == ["de"]


def test_result_does_not_depend_on_the_batch(model: LanguageModel) -> None:
    texts = list(SAMPLES.values())
    batch_langs, batch_conf = model.identify(texts)
    for i, text in enumerate(texts):
        one_lang, one_conf = model.identify([text])
        assert one_lang[0] == batch_langs[i]
        assert one_conf[0] == pytest.approx(batch_conf[i], abs=1e-5)


def test_empty_batch(model: LanguageModel) -> None:
    langs, conf = model.identify([])
    assert langs == []
    assert conf.shape == (0,)
