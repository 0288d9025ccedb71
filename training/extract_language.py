"""Extract the langid.py / py3langid naive Bayes model into groundswell/models/language.npz.

py3langid (BSD-2-Clause, a fork of langid.py by Lui & Baldwin) stores its byte n-gram features
inside an Aho-Corasick automaton. We recover each feature's bytes (the shortest path from the
start state to any state that outputs it), keep only the languages we report, and save plain
arrays that ``groundswell.triage.language`` scores with numpy over a whole batch.
Needs ``pip install py3langid==0.4.0`` at training time only.

    python training/extract_language.py
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE
from py3langid.modelio import load_model

LANGUAGES = [
    "en",
    "es",
    "fr",
    "de",
    "pt",
    "it",
    "nl",
    "tr",
    "ar",
    "ja",
    "id",
    "pl",
    "ru",
    "zh",
    "ko",
    "hi",
    "sv",
    "da",
    "no",
    "fi",
    "cs",
    "ro",
    "el",
    "he",
    "th",
    "vi",
    "uk",
    "hu",
    "ms",
    "ca",
]
MIN_LETTERS = 8
MIN_CONFIDENCE = 0.6
OUT = Path(__file__).resolve().parents[1] / "src" / "groundswell" / "models" / "language.npz"


def main() -> None:
    ptc, pc, classes, nextmove, row, out = load_model(MODEL_DIR / MODEL_FILE)
    nm = np.frombuffer(nextmove, dtype=np.uint16 if nextmove.itemsize == 2 else np.uint32)
    nm = nm.reshape(-1, 256)
    rows = np.frombuffer(row, dtype=np.uint16 if row.itemsize == 2 else np.uint32)
    # Breadth-first search gives each state its shortest input, which is its trie string.
    path: dict[int, bytes] = {0: b""}
    queue = collections.deque([0])
    while queue:
        state = queue.popleft()
        for byte, nxt in enumerate(nm[rows[state]].tolist()):
            if nxt not in path:
                path[nxt] = path[state] + bytes([byte])
                queue.append(nxt)
    feature: dict[int, bytes] = {}
    for state, fid in enumerate(out):
        if fid >= 0:
            s = path[state]
            if fid not in feature or len(s) < len(feature[fid]):
                feature[fid] = s
    assert all(b"\0" not in f for f in feature.values())
    cols = [classes.index(lang) for lang in LANGUAGES]
    table = np.asarray(ptc, dtype=np.float32)[:, cols]
    arrays: dict[str, np.ndarray] = {
        "languages": np.array(LANGUAGES),
        "ptc": table.astype(np.float16),
        "pc": np.asarray(pc, dtype=np.float32)[cols],
        "min_letters": np.array(MIN_LETTERS),
        "min_confidence": np.array(MIN_CONFIDENCE),
    }
    max_order = max(len(f) for f in feature.values())
    assert max_order <= 6, max_order
    for order in range(7):
        items = sorted(
            (int.from_bytes(f, "big"), fid) for fid, f in feature.items() if len(f) == order
        )
        arrays[f"keys{order}"] = np.array([k for k, _ in items], dtype=np.int64)
        arrays[f"ids{order}"] = np.array([i for _, i in items], dtype=np.int32)
    np.savez_compressed(OUT, **arrays)
    print(f"{OUT}: {len(feature)} features, {len(LANGUAGES)} languages, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
