"""Speed of the ``embeddings`` model set's encoders (needs ``groundswell[embeddings]``).

The shipped ensemble's encoders share all-MiniLM-L6-v2's bottom layers (those none of them
fine-tuned): ``SentenceEncoders`` runs that bottom once per batch. This prints posts/s of the
shared ensemble and, as the baseline in the same process, of each member run as a whole
encoder of its own (what the set did before), their ratio and the largest difference between
the two outputs; then posts/s of the whole set's ``predict``. Figures only: nothing here
asserts a time.

    python bench/triage_embeddings.py [--n 1000] [--threads 2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

import datasets  # noqa: E402

from groundswell.triage._model_embeddings import (  # noqa: E402
    SentenceEncoders,
    member_layer_states,
)
from groundswell.triage.models import load_model_set  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="posts (TweetEval sentiment test)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    texts = datasets.tweeteval("sentiment", "test")[0][: args.n]
    path = ROOT / "src" / "groundswell" / "models" / "embeddings.npz"
    with np.load(path) as npz:
        members = member_layer_states({key: npz[key] for key in npz.files})
    shared = SentenceEncoders(members)
    alone = [SentenceEncoders([layers]) for layers in members]
    for encoder in (shared, *alone):
        encoder.encode(texts[:32])  # warm up

    started = time.perf_counter()
    together = shared.encode(texts)
    shared_rate = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    separate = np.hstack([encoder.encode(texts) for encoder in alone])
    alone_rate = len(texts) / (time.perf_counter() - started)
    print(f"posts: {len(texts)}, encoders: {len(members)}, torch threads: {args.threads}")
    print(f"each member alone (baseline): {alone_rate:8.1f} posts/s")
    print(f"shared bottom layers:         {shared_rate:8.1f} posts/s")
    print(f"ratio shared/alone: {shared_rate / alone_rate:.2f}")
    print(f"largest difference between the outputs: {np.abs(together - separate).max():.2e}")

    model_set = load_model_set("embeddings")
    model_set.predict(texts[:32], explain=False)
    started = time.perf_counter()
    model_set.predict(texts, explain=False)
    print(f"embeddings set predict: {len(texts) / (time.perf_counter() - started):8.1f} posts/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (all of the above loaded): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
