"""Shared text featurizer for the triage heads: hashed word n-grams, built with numpy only.

Every linear head reads the same sparse matrix, so a batch is tokenized and hashed once.
Hashing uses ``zlib.crc32`` (deterministic across processes and Python versions, unlike
``hash``), which lets the shipped weights stay plain arrays instead of a pickled vocabulary.

The featurizer also keeps, for each stored (row, column) entry, the first token that produced
it, so explanations ("which words pushed this output") cost one array lookup per cue.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

FEATURE_VERSION = 7

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_ELONGATED = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(
    r"[#@]?\w[\w'’]*"  # words, hashtags, handles, contractions
    r"|[:;=8][-o*']?[)(\]\[dDpP/\\|*3]"  # western emoticons
    r"|<3"
    r"|[!?]"
    r"|[^\w\s]",  # any other symbol, one at a time (emoji included)
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


def normalize(text: str) -> str:
    """Lower-case and replace volatile pieces (links, handles, numbers, elongations).

    ``@handle`` becomes ``@user`` and links become ``httpurl`` so that the model learns the
    pattern, not the account; "soooo" becomes "soo" so elongated words share a feature.
    """
    # The substring tests are much cheaper than a regex scan and most posts have no link.
    if "http" in text or "www." in text:
        text = _URL.sub(" httpurl ", text)
    if "@" in text:
        text = _MENTION.sub(" @user ", text)
    text = text.lower()
    text = _NUMBER.sub("0", text)
    return _ELONGATED.sub(r"\1\1", text)


def tokenize(text: str) -> list[str]:
    """Tokens of the normalized text; apostrophes are dropped first ("don't" -> "dont")."""
    return _TOKEN.findall(normalize(text).replace("'", "").replace("’", ""))


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
    toks = tokenize(text)
    readable: list[str] = []
    other: list[str] = []
    keep = readable.append
    hide = other.append
    negated = False
    lex = lexicon.get
    # Module constants bound to locals: this loop runs for every token of every post.
    quiet, clause_end, shown_marks, negators = _QUIET, _CLAUSE_END, _SHOWN_MARKS, _NEGATORS
    valence_tokens = _VALENCE_TOKENS
    spell = spelled.append
    for tok in toks:
        if tok in clause_end:
            negated = False
            if tok == "!":
                dense[7] += 1.0
            (keep if tok in shown_marks else hide)(tok)
            continue
        val = lex(tok)
        if negated:
            (hide if tok in quiet else keep)("¬" + tok)
            if val is not None:
                val = -0.75 * val
        else:
            (hide if tok in quiet else keep)(tok)
            negated = tok in negators
        if val is not None:
            # A shared feature per valence step lets the model use lexicon words that are
            # rare or absent in its training tweets.
            hide(valence_tokens[round(val) + 4])
            if val > 0:
                dense[0] += val
                dense[2] += 1.0
            else:
                dense[1] -= val
                dense[3] += 1.0
            dense[4] = max(dense[4], val)
            dense[5] = min(dense[5], val)
            dense[6] = val
        size = len(tok)
        if size > 6 and tok[0] != "#":
            hide("~" + tok[:6])
        if size >= 4 and tok.isalpha():
            # Character 4-grams of this word are hashed later, for the whole batch at once.
            spell(tok)
    prev = "<s>"
    for tok in toks:
        (hide if prev in quiet or tok in quiet else keep)(prev + " " + tok)
        prev = tok
    hide(prev + " </s>")
    return readable, other


@dataclass(frozen=True)
class Features:
    """A batch's features.

    ``matrix`` is CSR, n_texts x (2**bits + N_DENSE), float32: hashed columns L2-normalized
    per row, then the scaled dense lexicon columns. ``hashed`` is the CSR of the hashed
    columns alone (same rows); ``source[j]`` is the index into ``tokens`` of the first feature
    string that produced its stored entry ``j`` (-1 for a character n-gram), and
    ``readable[j]`` tells whether that string is a readable one (see :func:`analyze`).
    """

    matrix: sparse.csr_matrix
    hashed: sparse.csr_matrix
    tokens: list[str]
    source: npt.NDArray[np.int64]
    readable: npt.NDArray[np.bool_]


class Featurizer:
    """Turns texts into :class:`Features`; stateless apart from its fixed parameters."""

    def __init__(self, bits: int, lexicon: Mapping[str, float]) -> None:
        self.bits = bits
        self.lexicon = dict(lexicon)

    @property
    def n_features(self) -> int:
        """Total columns of :attr:`Features.matrix`."""
        return (1 << self.bits) + N_DENSE

    def featurize(self, texts: Sequence[str]) -> Features:
        """Featurize a batch; repeated strings count 1 + log(count); empty texts give zero rows."""
        bits = self.bits
        mask = (1 << bits) - 1
        crc = zlib.crc32
        n = len(texts)
        tokens: list[str] = []
        lengths = np.empty(n, dtype=np.int64)
        shown = np.empty(n, dtype=np.int64)
        n_spelled = np.empty(n, dtype=np.int64)
        spelled: list[str] = []
        dense = np.zeros((n, N_DENSE), dtype=np.float64)
        lexicon = self.lexicon
        for i, text in enumerate(texts):
            row = [0.0] * N_DENSE
            before = len(spelled)
            readable, other = analyze(text, lexicon, row, spelled)
            n_spelled[i] = len(spelled) - before
            dense[i] = row
            shown[i] = len(readable)
            lengths[i] = len(readable) + len(other)
            tokens.extend(readable)
            tokens.extend(other)
        hashes = np.array(list(map(crc, map(str.encode, tokens))), dtype=np.int64)
        hashes &= mask
        char_rows, char_hashes = _char_ngrams(spelled, n_spelled, mask)
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        # Character n-grams come after the token features, so a column that both produce in
        # one row keeps a token as its source.
        keys = np.concatenate([(rows << bits) | hashes, (char_rows << bits) | char_hashes])
        uniq, first, counts = np.unique(keys, return_index=True, return_counts=True)
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
        # Dense lexicon statistics, squashed to about [-1, 1] so one L2 penalty suits all.
        dense_scaled = np.tanh(dense / _DENSE_SCALE).astype(np.float32)
        full_data = np.empty(len(data) + n * N_DENSE, dtype=np.float32)
        full_cols = np.empty(len(data) + n * N_DENSE, dtype=np.int32)
        full_indptr = indptr + np.arange(n + 1, dtype=np.int64) * N_DENSE
        # Row r's hashed entries go first, then its N_DENSE dense ones.
        pos = np.arange(len(data), dtype=np.int64) + np.repeat(
            np.arange(n, dtype=np.int64) * N_DENSE, counts_per_row
        )
        full_data[pos] = data
        full_cols[pos] = cols
        dense_pos = (full_indptr[1:, None] - N_DENSE) + np.arange(N_DENSE)[None, :]
        full_data[dense_pos.ravel()] = dense_scaled.ravel()
        full_cols[dense_pos.ravel()] = np.tile(
            np.arange(1 << bits, (1 << bits) + N_DENSE, dtype=np.int32), n
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
    joined = "".join([" " + w + " \0" for w in words])
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    word_len = np.fromiter((len(w) + 3 for w in words), dtype=np.int64, count=len(words))
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
