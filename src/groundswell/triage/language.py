"""Vectorized language identification for short posts (naive Bayes over byte n-grams).

The parameters are those of langid.py / py3langid (Lui & Baldwin 2012, BSD-2-Clause),
extracted by ``training/extract_language.py`` into ``groundswell/models/language.npz`` and
restricted to the languages we report. py3langid walks an automaton byte by byte in Python
(about 1,300 posts/s here); this module finds the same features with numpy over a whole
batch: at every byte it counts the longest model feature that ends there, which is what the
automaton's single output per state counts. Where the optional C module was built
(``_speedups.c``), one pass in C over the batch's bytes gives the same scores to the bit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from groundswell.triage.features import compiled_module

UNDETERMINED = "und"
MAX_ORDER = 6
"""Longest feature, in bytes (checked when the model is loaded)."""

# Starts with a character class so the scanner skips plain text quickly.
_STRIP = re.compile(r"[hw@#\d](?:(?<=h)ttps?://\S+|(?<=w)ww\.\S+|(?<=[@#\d])\w*)")
_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


def _compiled_scores() -> Callable[..., None] | None:
    """``_speedups.language_scores`` (C), or None (see ``features.compiled_module``)."""
    module = compiled_module()
    if module is None:
        return None
    scores: Callable[..., None] = module.language_scores
    return scores


_SCORES = _compiled_scores()


@dataclass(frozen=True)
class _FeatureTable:
    """The features of one length, ``order`` bytes, as big-endian integers in an
    open-addressing hash table ``keys`` (-1 = empty) with their rows ``ids`` into ``ptc``.
    Kept per length, so each table stays small enough for the CPU's cache."""

    order: int
    keys: npt.NDArray[np.int64]
    ids: npt.NDArray[np.int32]
    bits: int
    max_probe: int

    @classmethod
    def build(
        cls, order: int, keys: npt.NDArray[np.int64], ids: npt.NDArray[np.int64]
    ) -> _FeatureTable:
        # About 4 slots per key: most absent keys end at their first, empty, slot.
        bits = max(int(len(keys) * 4).bit_length(), 4)
        slots = np.full(1 << bits, -1, dtype=np.int64)
        slot_ids = np.zeros(1 << bits, dtype=np.int32)
        pending = np.arange(len(keys))
        home = _slot(keys, bits)
        probe = 0
        # Linear probing, inserted in rounds: each round places, for every still-empty slot,
        # one of the keys that want it; the rest move on to the next slot.
        while len(pending):
            want = (home[pending] + probe) & ((1 << bits) - 1)
            free = slots[want] == -1
            cand, first = np.unique(want[free], return_index=True)
            chosen = pending[free][first]
            slots[cand] = keys[chosen]
            slot_ids[cand] = ids[chosen]
            placed = np.zeros(len(keys), dtype=bool)
            placed[chosen] = True
            pending = pending[~placed[pending]]
            if len(pending):
                probe += 1
        return cls(order, slots, slot_ids, bits, probe)

    def lookup(
        self, key: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int32]]:
        """Indices into ``key`` of the keys found in the table, and their feature rows."""
        mask = (1 << self.bits) - 1
        slot = _slot(key, self.bits)
        stored = self.keys[slot]
        hit = stored == key
        found_at = [np.flatnonzero(hit)]
        found_ids = [self.ids[slot[found_at[0]]]]
        # A key is absent once its probe reaches an empty slot.
        pending = np.flatnonzero(~hit & (stored != -1))
        slot = slot[pending]
        for _probe in range(self.max_probe):
            if not len(pending):
                break
            slot = (slot + 1) & mask
            stored = self.keys[slot]
            hit = stored == key[pending]
            found_at.append(pending[hit])
            found_ids.append(self.ids[slot[hit]])
            keep = ~hit & (stored != -1)
            pending, slot = pending[keep], slot[keep]
        return np.concatenate(found_at), np.concatenate(found_ids)


@dataclass(frozen=True)
class LanguageModel:
    """Naive Bayes parameters. Features (byte strings of 1..MAX_ORDER bytes, none containing
    a 0 byte) sit in one `_FeatureTable` per length, longest first, with their rows into
    ``ptc`` (features x languages, log-probabilities); ``pc`` holds the language priors.
    A key's leading byte is never zero, which tells real keys from windows that run past
    the start of a text."""

    languages: tuple[str, ...]
    tables: tuple[_FeatureTable, ...]
    ptc: npt.NDArray[np.float32]
    pc: npt.NDArray[np.float32]
    min_letters: int
    min_confidence: float

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[np.generic]]) -> LanguageModel:
        """Build from the arrays of ``language.npz`` (see ``training/extract_language.py``):
        ``keys{n}``/``ids{n}`` hold the features of ``n`` bytes."""
        tables = []
        for order in range(MAX_ORDER, 0, -1):
            keys = np.asarray(arrays[f"keys{order}"], np.int64)
            if len(keys):
                ids = np.asarray(arrays[f"ids{order}"], np.int64)
                tables.append(_FeatureTable.build(order, keys, ids))
        return cls(
            languages=tuple(str(x) for x in arrays["languages"]),
            tables=tuple(tables),
            ptc=np.asarray(arrays["ptc"], dtype=np.float32),
            pc=np.asarray(arrays["pc"], dtype=np.float32),
            min_letters=int(arrays["min_letters"]),
            min_confidence=float(arrays["min_confidence"]),
        )

    def identify(self, texts: Sequence[str]) -> tuple[list[str], npt.NDArray[np.float32]]:
        """Language code (or ``und``) and confidence in [0, 1] for every text.

        A text is ``und`` when, links, handles, hashtags and digits removed, it has fewer than
        ``min_letters`` letters, or when the best language's probability is below
        ``min_confidence``; its confidence is still the best probability (0 when no letters).
        """
        n = len(texts)
        if n == 0:
            return [], np.zeros(0, dtype=np.float32)
        encoded = [_clean(t) for t in texts]
        lengths = np.fromiter((len(e) + 1 for e in encoded), np.int64, n)
        # One buffer for the batch; the 0 separator never occurs inside a model feature, so
        # no n-gram that straddles two texts can match.
        bytes_ = b"\0".join(encoded) + b"\0"
        buf = np.frombuffer(bytes_, dtype=np.uint8).astype(np.int64)
        doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
        # Letters, approximately: ASCII letters plus the lead byte of every 2- or 3-byte UTF-8
        # character (accented Latin, Greek, Cyrillic, Arabic, CJK...), not emoji (4 bytes).
        lower = buf | 0x20
        is_letter = ((lower >= 0x61) & (lower <= 0x7A)) | ((buf >= 0xC0) & (buf < 0xF0))
        letters = np.bincount(doc, weights=is_letter, minlength=n)
        del lower, is_letter
        # A text holding a 0 byte itself ("\u0000" in JSON) would shift the C code's count of
        # texts: such a batch takes the numpy way.
        if _SCORES is not None and bytes_.count(0) == n:
            # The same sums in C, one pass over the bytes (``_speedups.language_scores``).
            scores = np.empty((n, len(self.languages)), dtype=np.float32)
            found_per_text = np.empty(n, dtype=np.int64)
            # log1p of every count a text can reach, as numpy computes it (float64, then
            # float32), so that the C loop weighs counts exactly as the numpy path does.
            counts = np.arange(int(lengths.max()) + 1, dtype=np.int64)
            log1p_table = np.log1p(counts).astype(np.float32)
            _SCORES(
                bytes_,
                self._compiled_tables,
                self._ptc,
                log1p_table,
                len(self.languages),
                scores,
                found_per_text,
            )
        else:
            scores, found_per_text = self._scores_numpy(buf, doc, n)
        scores += self.pc
        # Temperature sqrt(bytes), as py3langid does, keeps probabilities comparable across
        # lengths; rows with no feature at all become uniform.
        scores /= np.sqrt(np.maximum(lengths - 1, 1)).astype(np.float32)[:, None]
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        top = scores.argmax(axis=1)
        conf = scores[np.arange(n), top].astype(np.float32)
        no_feature = found_per_text == 0
        conf[no_feature | (letters == 0)] = 0.0
        unsure = (letters < self.min_letters) | (conf < self.min_confidence) | no_feature
        langs = [UNDETERMINED if unsure[i] else self.languages[top[i]] for i in range(n)]
        return langs, conf

    @cached_property
    def _ptc(self) -> npt.NDArray[np.float32]:
        return np.ascontiguousarray(self.ptc, dtype=np.float32)

    @cached_property
    def _compiled_tables(self) -> tuple[tuple[int, Any, Any, int], ...]:
        """The tables as ``_speedups.language_scores`` reads them, longest first."""
        return tuple(
            (
                t.order,
                np.ascontiguousarray(t.keys, dtype=np.int64),
                np.ascontiguousarray(t.ids, dtype=np.int32),
                t.bits,
            )
            for t in self.tables
        )

    def _scores_numpy(
        self, buf: npt.NDArray[np.int64], doc: npt.NDArray[np.int64], n: int
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Per text, the sum over its distinct features of ``ptc`` weighted by log(1 + count),
        and how many bytes end a feature."""
        best = self._longest_numpy(buf)
        found = best >= 0
        rows = doc[found]
        feats = best[found]
        n_feat = self.ptc.shape[0]
        uniq, counts = np.unique(rows * n_feat + feats, return_counts=True)
        urows = uniq // n_feat
        weighted = self.ptc[uniq % n_feat] * np.log1p(counts).astype(np.float32)[:, None]
        scores = np.zeros((n, len(self.languages)), dtype=np.float32)
        if len(uniq):
            starts = np.flatnonzero(np.r_[True, urows[1:] != urows[:-1]])
            scores[urows[starts]] = np.add.reduceat(weighted, starts, axis=0)
        return scores, np.bincount(rows, minlength=n)

    def _longest_numpy(self, buf: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Row into ``ptc`` of the longest model feature ending at each byte of ``buf`` (-1:
        none), in numpy (``_speedups.language_scores`` finds the same in C)."""
        # Big-endian key of the n-gram of each length ending at each position, built from the
        # one a byte shorter. A window that reaches past a text's start contains a 0 byte, so
        # its key is smaller than any real key of that length (features have no 0 byte).
        keys_by_order = {}
        key = buf
        for order in range(2, MAX_ORDER + 1):
            shifted = np.zeros(len(buf), dtype=np.int64)
            shifted[1:] = key[:-1]
            key = (shifted << 8) | buf
            keys_by_order[order] = key
        keys_by_order[1] = buf
        # At every byte, the longest model feature that ends there counts (what py3langid's
        # automaton outputs): look for the longest first, then only where none was found.
        best = np.full(len(buf), -1, dtype=np.int64)
        remaining = np.arange(len(buf))
        for table in self.tables:
            at, ids = table.lookup(keys_by_order[table.order][remaining])
            best[remaining[at]] = ids
            missing = np.ones(len(remaining), dtype=bool)
            missing[at] = False
            remaining = remaining[missing]
        return best


def _slot(keys: npt.NDArray[np.int64], bits: int) -> npt.NDArray[np.int64]:
    """Home slot of each key (Fibonacci hashing)."""
    mixed = keys.astype(np.uint64) * _HASH_MULT
    return (mixed >> np.uint64(64 - bits)).astype(np.int64)


def _clean(text: str) -> bytes:
    """UTF-8 bytes of the text without links, handles, hashtags and digits, NFC-normalized
    and lower-cased when all upper-case (as py3langid does)."""
    text = _STRIP.sub(" ", text)
    if text.isupper():
        text = text.lower()
    if not text.isascii():  # ASCII text is already in NFC
        text = unicodedata.normalize("NFC", text)
    return text.encode("utf-8", errors="surrogatepass")
