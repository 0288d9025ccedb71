"""Shared text featurizer for the triage heads: hashed word n-grams, built with numpy only.

Every linear head reads the same sparse matrix, so a batch is tokenized and hashed once.
Hashing uses ``zlib.crc32`` (deterministic across processes and Python versions, unlike
``hash``), which lets the shipped weights stay plain arrays instead of a pickled vocabulary.

The featurizer also keeps, for each stored (row, column) entry, the first token that produced
it, so explanations ("which words pushed this output") cost one array lookup per cue.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from types import ModuleType
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

FEATURE_VERSION = 8

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_ELONGATED = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(
    # Spaces are taken as part of the match and left out of the group `findall` returns: the
    # scanner then skips them at once instead of trying every branch at each one.
    r"\s*("
    r"[#@]?\w[\w'’]*"  # words, hashtags, handles, contractions
    r"|[:;=8][-o*']?[)(\]\[dDpP/\\|*3]"  # western emoticons
    r"|<3"
    r"|[!?]"
    r"|[^\w\s]"  # any other symbol, one at a time (emoji included)
    r")",
)
_NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "nor",
        "neither",
        "cannot",
        "without",
        "dont",
        "doesnt",
        "didnt",
        "cant",
        "wont",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "havent",
        "hasnt",
        "hadnt",
        "shouldnt",
        "wouldnt",
        "couldnt",
        "aint",
    }
)
_SHOWN_MARKS = frozenset({"!", "?"})
# Words (and marks) too common to explain anything; they still count as features.
_QUIET = frozenset(
    [
        "<s>",
        "@user",
        "httpurl",
        "0",
        "rt",
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "i",
        "me",
        "my",
        "mine",
        "you",
        "your",
        "yours",
        "he",
        "him",
        "his",
        "she",
        "her",
        "they",
        "them",
        "their",
        "we",
        "us",
        "our",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "so",
        "just",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "shall",
        "may",
        "might",
        "must",
        ".",
        ",",
        ";",
        ":",
        "-",
        "'",
        '"',
        "(",
        ")",
        "[",
        "]",
        "/",
        "&",
        "*",
        "…",
        "!",
        "?",
    ]
)
_VALENCE_TOKENS = tuple(f"$val{v:+d}" for v in range(-4, 5))
_CLAUSE_END = frozenset({".", ",", "!", "?", ";", ":", "but"})


SPEEDUPS_VERSION = 2
"""The ``VERSION`` of ``_speedups.c`` this code was written for: a module built from another
version (an editable install that was not rebuilt) is not used."""


def compiled_module() -> ModuleType | None:
    """The C module ``_speedups`` when it was built from this version of ``_speedups.c``,
    else None (no C compiler at install, a stale build, or ``GROUNDSWELL_PURE_PYTHON=1``: the
    Python code then runs, with the same results)."""
    if os.environ.get("GROUNDSWELL_PURE_PYTHON") == "1":
        return None
    try:
        from groundswell.triage import _speedups
    except ImportError:
        return None
    return _speedups if getattr(_speedups, "VERSION", None) == SPEEDUPS_VERSION else None


def _compiled_analyze() -> Callable[..., tuple[list[str], list[str]]] | None:
    """`analyze_tokens` in C (``_speedups.c``), or None (see `compiled_module`)."""
    _speedups = compiled_module()
    if _speedups is None:
        return None
    _speedups.setup(_QUIET, _CLAUSE_END, _SHOWN_MARKS, _NEGATORS, _VALENCE_TOKENS)
    analyze: Callable[..., tuple[list[str], list[str]]] = _speedups.analyze_tokens
    return analyze


def normalize(text: str) -> str:
    """Lower-case and replace volatile pieces (links, handles, numbers, elongations).

    ``@handle`` becomes ``@user`` and links become ``httpurl`` so that the model learns the
    pattern, not the account; "soooo" becomes "soo" so elongated words share a feature.
    """
    text = _NUMBER.sub("0", _lower_links_handles(text))
    # A function, not the template r"\1\1": Python 3.11 parses a template in Python on every
    # call, which costs more than the scan itself.
    return _ELONGATED.sub(_two_of, text)


def _lower_links_handles(text: str) -> str:
    """The first steps of `normalize`: links, handles, lower case."""
    # The substring tests are much cheaper than a regex scan and most posts have no link.
    if "http" in text or "www." in text:
        text = _URL.sub(" httpurl ", text)
    if "@" in text:
        text = _MENTION.sub(" @user ", text)
    return text.lower()


def _two_of(match: re.Match[str]) -> str:
    return match.group(1) * 2


# No code point below this one is a decimal digit (``\d``) except ASCII 0-9.
_FIRST_OTHER_DIGIT = 0x660


def normalize_batch(texts: Sequence[str]) -> list[str]:
    """`normalize` of every text. One numpy pass over the batch finds the texts that can
    hold a number (a digit) or an elongation (a character three times in a row); only
    those pay for the regular expressions that rewrite them."""
    heads = [_lower_links_handles(t) for t in texts]
    if not heads:
        return heads
    # One code point per character; a lone surrogate (valid JSON "\\ud800") passes as is.
    cps = np.frombuffer("\0".join(heads).encode("utf-32-le", "surrogatepass"), np.uint32)
    sizes = np.fromiter(map(len, heads), np.int64, len(heads)) + 1
    owner = np.repeat(np.arange(len(heads)), sizes)[: len(cps)]
    digit = ((cps >= 0x30) & (cps <= 0x39)) | (cps >= _FIRST_OTHER_DIGIT)
    has_digit = np.zeros(len(heads), dtype=bool)
    has_digit[owner[digit]] = True
    # A triple that a 0 separator joins is a false alarm, never a miss: every real one
    # lies inside its text. Replacing numbers never makes a new triple.
    triple = np.flatnonzero((cps[:-2] == cps[1:-1]) & (cps[1:-1] == cps[2:]))
    has_triple = np.zeros(len(heads), dtype=bool)
    has_triple[owner[triple]] = True
    number, elongated, two_of = _NUMBER.sub, _ELONGATED.sub, _two_of
    out = []
    for head, digits, triples in zip(heads, has_digit.tolist(), has_triple.tolist(), strict=True):
        if digits:
            head = number("0", head)
        out.append(elongated(two_of, head) if triples else head)
    return out


def tokenize(text: str) -> list[str]:
    """Tokens of the normalized text; apostrophes are dropped first ("don't" -> "dont")."""
    return _tokens_of_normalized(normalize(text))


def _tokens_of_normalized(text: str) -> list[str]:
    return _TOKEN.findall(text.replace("'", "").replace("’", ""))


N_DENSE = 8
"""Dense lexicon columns appended after the hashed ones (see :meth:`Featurizer.featurize`)."""


def analyze(
    text: str, lexicon: Mapping[str, float], dense: list[float], spelled: list[str]
) -> tuple[list[str], list[str]]:
    """Feature strings of one text, as ``(readable, other)``; words whose character 4-grams
    should count are appended to ``spelled``.

    ``readable``: unigrams and bigrams that can explain an output to a person (words, emoji,
    "?" and "!"). ``other``: stop words, punctuation, 6-letter stems,
    valence-step tokens of lexicon words, and bigrams with a stop word. Both
    lists feed the model alike; the split only serves explanations.

    Words following a negator up to the end of the clause get a ``¬`` prefix, so "not good"
    and "good" are different features; bigrams keep the plain words. ``dense`` (length
    :data:`N_DENSE`, zeroed by the caller) receives lexicon statistics: sums and counts of
    positive and negative valences (sign flipped under negation), the extreme valences, the
    last valence seen, and the count of "!".
    """
    return analyze_tokens(tokenize(text), lexicon, dense, spelled)


def analyze_tokens(
    toks: list[str], lexicon: Mapping[str, float], dense: list[float], spelled: list[str]
) -> tuple[list[str], list[str]]:
    """`analyze` of a text already tokenized by `tokenize`."""
    readable: list[str] = []
    other: list[str] = []
    keep = readable.append
    hide = other.append
    negated = False
    # The shipped model set has no lexicon: then no token needs a lookup.
    lex = lexicon.get if lexicon else None
    # Module constants bound to locals: this loop runs for every token of every post.
    quiet, clause_end, shown_marks, negators = _QUIET, _CLAUSE_END, _SHOWN_MARKS, _NEGATORS
    spell = spelled.append
    for tok in toks:
        if tok in clause_end:
            negated = False
            if tok == "!":
                dense[7] += 1.0
            (keep if tok in shown_marks else hide)(tok)
            continue
        if negated:
            (hide if tok in quiet else keep)("¬" + tok)
            if lex is not None and (val := lex(tok)) is not None:
                _add_valence(-0.75 * val, dense, hide)
        else:
            (hide if tok in quiet else keep)(tok)
            negated = tok in negators
            if lex is not None and (val := lex(tok)) is not None:
                _add_valence(val, dense, hide)
        size = len(tok)
        if size > 6 and tok[0] != "#":
            hide("~" + tok[:6])
        if size >= 4 and tok.isalpha():
            # Character 4-grams of this word are hashed later, for the whole batch at once.
            spell(tok)
    prev = "<s>"
    for tok in toks:
        (hide if prev in quiet or tok in quiet else keep)(f"{prev} {tok}")
        prev = tok
    hide(f"{prev} </s>")
    return readable, other


def _add_valence(val: float, dense: list[float], hide: Callable[[str], None]) -> None:
    """Count a lexicon word of valence ``val`` (already flipped under negation)."""
    # A shared feature per valence step lets the model use lexicon words that are rare or
    # absent in its training tweets.
    hide(_VALENCE_TOKENS[round(val) + 4])
    if val > 0:
        dense[0] += val
        dense[2] += 1.0
    else:
        dense[1] -= val
        dense[3] += 1.0
    dense[4] = max(dense[4], val)
    dense[5] = min(dense[5], val)
    dense[6] = val


_ANALYZE_COMPILED = _compiled_analyze()


@dataclass(frozen=True)
class Features:
    """A batch's features.

    ``matrix`` is CSR, n_texts x (2**bits + ``Featurizer.n_dense``), float32: hashed columns
    L2-normalized per row, then the scaled dense lexicon columns and the mean word vector
    (:class:`WordVectors`, when the set has one). ``hashed`` is the CSR of the hashed
    columns alone (same rows); ``source[j]`` is the index into ``tokens`` of the first feature
    string that produced its stored entry ``j`` (-1 for a character n-gram), and
    ``readable[j]`` tells whether that string is a readable one (see :func:`analyze`).
    """

    matrix: sparse.csr_matrix
    hashed: sparse.csr_matrix
    tokens: list[str]
    source: npt.NDArray[np.int64]
    readable: npt.NDArray[np.bool_]


class WordVectors:
    """A fixed vector per word (``models/word_vectors.npz``, built by
    ``training/word_vectors.py``): a post's vector is the mean of its known tokens' vectors,
    scaled to unit length (zero when it has none). A hashtag with no entry of its own takes the
    word's ("#refund" -> "refund")."""

    def __init__(self, words: Sequence[str], vectors: npt.NDArray[np.floating[Any]]) -> None:
        if vectors.ndim != 2 or vectors.shape[0] != len(words) or not len(words):
            raise ValueError(
                f"word vectors: {len(words)} words for a table of shape {vectors.shape}"
            )
        if not np.all(np.isfinite(vectors)):
            raise ValueError("word vectors: the table holds a value that is not finite")
        self.words = list(words)
        # Only the float32 table is kept (the float16 one read from the file is let go).
        self._table = np.asarray(vectors, dtype=np.float32)
        index = {w: i for i, w in enumerate(self.words)}
        if len(index) != len(self.words):
            raise ValueError("word vectors: a word is listed twice")
        if any("\n" in w or not w for w in self.words):
            raise ValueError("word vectors: a word is empty or holds a line break")
        for w, i in list(index.items()):
            if w.isalpha():
                index.setdefault("#" + w, i)
        self._index = index

    @property
    def dims(self) -> int:
        return int(self._table.shape[1])

    @property
    def vectors(self) -> npt.NDArray[np.float16]:
        """The table as stored: float16 (which the float32 one holds exactly)."""
        return self._table.astype(np.float16)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """What ``word_vectors.npz`` stores: the words as UTF-8, one per line, and the table."""
        joined = "\n".join(self.words).encode("utf-8")
        return {"words": np.frombuffer(joined, dtype=np.uint8), "vectors": self.vectors}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, npt.NDArray[Any]]) -> WordVectors:
        words = bytes(np.asarray(arrays["words"], dtype=np.uint8)).decode("utf-8").split("\n")
        return cls(words, np.asarray(arrays["vectors"]))

    @classmethod
    def load(cls, file: str | os.PathLike[str] | IO[bytes]) -> WordVectors:
        """Read a ``word_vectors.npz`` (a path or a binary file object)."""
        with np.load(file) as npz:
            return cls.from_arrays({key: npz[key] for key in npz.files})

    def mean(self, tokens: Sequence[str], per_row: Sequence[int]) -> npt.NDArray[np.float32]:
        """Unit-length mean vectors of the known tokens: row ``r`` reads the next ``per_row[r]``
        of ``tokens`` (unknown ones are skipped; a row with none stays zero)."""
        n = len(per_row)
        # One lookup pass in C over the whole batch; -1 marks an unknown token.
        ids = np.fromiter(map(self._index.get, tokens, repeat(-1)), np.int64, len(tokens))
        rows = np.repeat(np.arange(n, dtype=np.int64), np.asarray(per_row, dtype=np.int64))
        known = ids >= 0
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows[known], minlength=n), out=indptr[1:])
        # A sum per row (the ids are in row order already): one sparse product in C. Repeated
        # words are merged and each row's ids sorted first, so the float32 sums come out in
        # the order the shipped heads were trained with (they are sensitive to the last bit).
        picks = sparse.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), ids[known], indptr),
            shape=(n, len(self.words)),
        )
        picks.sum_duplicates()
        out = np.asarray(picks @ self._table, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        out /= norms
        return out


class Featurizer:
    """Turns texts into :class:`Features`; stateless apart from its fixed parameters."""

    def __init__(
        self, bits: int, lexicon: Mapping[str, float], word_vectors: WordVectors | None = None
    ) -> None:
        self.bits = bits
        # Plain floats: the same arithmetic in the Python and the compiled loop (a numpy
        # float32 value would add in float32 in Python).
        self.lexicon = {str(k): float(v) for k, v in lexicon.items()}
        self.word_vectors = word_vectors

    @property
    def n_dense(self) -> int:
        """Columns after the hashed ones: the lexicon statistics, then the word vector."""
        return N_DENSE + (self.word_vectors.dims if self.word_vectors is not None else 0)

    @property
    def n_features(self) -> int:
        """Total columns of :attr:`Features.matrix`."""
        return (1 << self.bits) + self.n_dense

    def featurize(self, texts: Sequence[str]) -> Features:
        """Featurize a batch; repeated strings count 1 + log(count); empty texts give zero rows."""
        bits = self.bits
        mask = (1 << bits) - 1
        crc = zlib.crc32
        n = len(texts)
        tokens: list[str] = []
        # Per-text counts gathered in lists: numpy item assignment costs more than appending.
        lengths_list: list[int] = []
        shown_list: list[int] = []
        spelled_list: list[int] = []
        dense_rows: list[list[float]] = []
        spelled: list[str] = []
        lexicon = self.lexicon
        extend = tokens.extend
        vectors = self.word_vectors
        analyze_one = _ANALYZE_COMPILED or analyze_tokens
        # Every token of the batch and the count per text, for the word vectors.
        all_tokens: list[str] = []
        token_counts: list[int] = []
        for text in normalize_batch(texts):
            row = [0.0] * N_DENSE
            before = len(spelled)
            toks = _tokens_of_normalized(text)
            if vectors is not None:
                all_tokens += toks
                token_counts.append(len(toks))
            readable, other = analyze_one(toks, lexicon, row, spelled)
            spelled_list.append(len(spelled) - before)
            dense_rows.append(row)
            shown_list.append(len(readable))
            lengths_list.append(len(readable) + len(other))
            extend(readable)
            extend(other)
        lengths = np.array(lengths_list, dtype=np.int64)
        shown = np.array(shown_list, dtype=np.int64)
        n_spelled = np.array(spelled_list, dtype=np.int64)
        dense = np.array(dense_rows, dtype=np.float64).reshape(n, N_DENSE)
        try:
            hashes = np.fromiter(map(crc, map(str.encode, tokens)), np.int64, len(tokens))
        except UnicodeEncodeError:  # a lone surrogate ("\\ud800" in JSON): hash its bytes too
            hashes = np.array([crc(t.encode("utf-8", "surrogatepass")) for t in tokens], np.int64)
        hashes &= mask
        char_rows, char_hashes = _char_ngrams(spelled, n_spelled, mask)
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        # Character n-grams come after the token features, so a column that both produce in
        # one row keeps a token as its source.
        keys = np.concatenate([(rows << bits) | hashes, (char_rows << bits) | char_hashes])
        uniq, first, counts = _unique_first(keys, bits + max(n, 1).bit_length())
        cols = (uniq & mask).astype(np.int32)
        urows = uniq >> bits
        data = (1.0 + np.log(counts)).astype(np.float32)
        sq = np.bincount(urows, weights=data.astype(np.float64) ** 2, minlength=n)
        norms = np.sqrt(sq).astype(np.float32)
        norms[norms == 0] = 1.0
        data /= norms[urows]
        counts_per_row = np.bincount(urows, minlength=n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts_per_row, out=indptr[1:])
        hashed = sparse.csr_matrix((data, cols, indptr), shape=(n, 1 << bits))
        # Dense lexicon statistics, squashed to about [-1, 1] so one L2 penalty suits all; then
        # the unit-length mean word vector (its entries are on the hashed columns' scale).
        dense_scaled = np.tanh(dense / _DENSE_SCALE).astype(np.float32)
        if vectors is not None:
            dense_scaled = np.hstack([dense_scaled, vectors.mean(all_tokens, token_counts)])
        width = self.n_dense
        full_data = np.empty(len(data) + n * width, dtype=np.float32)
        full_cols = np.empty(len(data) + n * width, dtype=np.int32)
        full_indptr = indptr + np.arange(n + 1, dtype=np.int64) * width
        # Row r's hashed entries go first, then its ``width`` dense ones.
        pos = np.arange(len(data), dtype=np.int64) + np.repeat(
            np.arange(n, dtype=np.int64) * width, counts_per_row
        )
        full_data[pos] = data
        full_cols[pos] = cols
        dense_pos = (full_indptr[1:, None] - width) + np.arange(width)[None, :]
        full_data[dense_pos.ravel()] = dense_scaled.ravel()
        full_cols[dense_pos.ravel()] = np.tile(
            np.arange(1 << bits, (1 << bits) + width, dtype=np.int32), n
        )
        matrix = sparse.csr_matrix((full_data, full_cols, full_indptr), shape=(n, self.n_features))
        source = first.astype(np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        from_token = source < len(tokens)
        readable_entry = from_token & ((source - offsets[urows]) < shown[urows])
        source[~from_token] = -1
        return Features(
            matrix=matrix, hashed=hashed, tokens=tokens, source=source, readable=readable_entry
        )


def _unique_first(
    keys: npt.NDArray[np.int64], key_bits: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``np.unique(keys, return_index=True, return_counts=True)`` for keys below
    ``2**key_bits``: each key is packed with its position and the packed values sorted,
    which is faster than the stable argsort ``np.unique`` needs for first positions."""
    size = len(keys)
    index_bits = max(size, 1).bit_length()
    if not size or key_bits + index_bits > 63:
        return np.unique(keys, return_index=True, return_counts=True)
    packed = (keys << index_bits) | np.arange(size, dtype=np.int64)
    packed.sort()
    sorted_keys = packed >> index_bits
    starts = np.empty(size, dtype=bool)
    starts[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=starts[1:])
    at = np.flatnonzero(starts)
    first = packed[at] & ((1 << index_bits) - 1)
    counts = np.diff(np.append(at, size))
    return sorted_keys[at], first, counts


_DENSE_SCALE = np.array([4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0])


_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def _char_ngrams(
    words: list[str], per_row: npt.NDArray[np.int64], mask: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Row and hashed column of every character 4-gram of `` word `` (padded with spaces)
    for each word, ``per_row[r]`` of them belonging to row ``r``; computed with numpy over
    the code points of the whole batch at once."""
    if not words:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # Each padded word is followed by a 0 code point; a window containing one is dropped.
    joined = " " + " \0 ".join(words) + " \0"
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    word_len = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 3
    word_row = np.repeat(np.arange(len(per_row), dtype=np.int64), per_row)
    pos_row = np.repeat(word_row, word_len)
    m = len(cps) - 3
    c0, c1, c2, c3 = cps[:m], cps[1 : m + 1], cps[2 : m + 2], cps[3 : m + 3]
    valid = (c0 != 0) & (c1 != 0) & (c2 != 0) & (c3 != 0)
    with np.errstate(over="ignore"):
        h = (c0 << np.uint64(42)) ^ (c1 << np.uint64(28)) ^ (c2 << np.uint64(14)) ^ c3
        h = (h ^ np.uint64(0x5BD1E995)) * _MIX[0]
        h ^= h >> np.uint64(31)
        h *= _MIX[1]
        h ^= h >> np.uint64(29)
        h *= _MIX[2]
        h ^= h >> np.uint64(32)
    cols = (h & np.uint64(mask)).astype(np.int64)
    return pos_row[:m][valid], cols[valid]
