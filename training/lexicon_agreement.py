"""Agreement of the two independent rating passes of the project's valence lexicon.

Compares ``training/data/lexicon/valence_a.tsv`` (first pass, before the omission sweep and
adjudication) with ``valence_b.tsv`` (second pass over the sample: candidates whose rank is
divisible by 10, rated without seeing the first pass) and prints weighted Cohen's kappa
(quadratic and linear), Spearman's rho, sign agreement and exact agreement. See
docs/lexicon-guide.md.

    python training/lexicon_agreement.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score

LEXICON = Path(__file__).resolve().parent / "data" / "lexicon"


def ratings(name: str) -> dict[str, int]:
    rows = (LEXICON / name).read_text(encoding="utf-8").splitlines()[1:]
    return {row.split("\t")[0]: int(row.split("\t")[1]) for row in rows if row}


def main() -> None:
    first, second = ratings("valence_a.tsv"), ratings("valence_b.tsv")
    tokens = sorted(second)
    a = np.array([first[t] for t in tokens])
    b = np.array([second[t] for t in tokens])
    rho = spearmanr(a, b).statistic
    print(f"sample: {len(tokens)} tokens ({int(np.sum((a != 0) | (b != 0)))} non-zero in a pass)")
    print(f"weighted kappa (quadratic) {cohen_kappa_score(a, b, weights='quadratic'):.3f}")
    print(f"weighted kappa (linear)    {cohen_kappa_score(a, b, weights='linear'):.3f}")
    print(f"Spearman rho               {rho:.3f}")
    print(f"sign agreement             {np.mean(np.sign(a) == np.sign(b)):.3f}")
    print(f"exact agreement            {np.mean(a == b):.3f}")
    both = (a != 0) & (b != 0)
    print(f"sign agreement where both non-zero {np.mean(np.sign(a[both]) == np.sign(b[both])):.3f}")
    print(f"zero in one pass only: {int(np.sum((a == 0) != (b == 0)))}")


if __name__ == "__main__":
    main()
