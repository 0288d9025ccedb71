"""Inter-annotator agreement: Cohen's kappa between the primary labels (labels_a*.tsv) and the
independent second annotation (labels_b.tsv) of the posts with pool index % 10 == 5.

    python training/agreement.py
"""

from __future__ import annotations

from make_splits import ANNOTATION, INTENTS, SENTIMENTS, read_labels


def kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two equally long label lists (1.0 when both are constant and equal)."""
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    cats = set(a) | set(b)
    expected = sum((a.count(c) / n) * (b.count(c) / n) for c in cats)
    return 1.0 if expected == 1.0 else (observed - expected) / (1.0 - expected)


def main() -> None:
    primary: dict[str, tuple[str, list[str]]] = {}
    for name in ("labels_a1.tsv", "labels_a2.tsv", "labels_a3.tsv"):
        primary.update(read_labels(ANNOTATION / name))
    second = read_labels(ANNOTATION / "labels_b.tsv")
    common = sorted(set(primary) & set(second))
    print(f"posts annotated twice: {len(common)}")
    a = [primary[i][0] for i in common]
    b = [second[i][0] for i in common]
    print(f"sentiment ({'/'.join(SENTIMENTS)}): kappa {kappa(a, b):.3f}")
    for intent in INTENTS:
        ya = ["1" if intent in primary[i][1] else "0" for i in common]
        yb = ["1" if intent in second[i][1] else "0" for i in common]
        pos = ya.count("1") + yb.count("1")
        print(f"{intent:20s} kappa {kappa(ya, yb):.3f}  (positives a+b: {pos})")


if __name__ == "__main__":
    main()
