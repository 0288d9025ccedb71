"""Benchmark: `groundswell triage` against VADER on the same 100,000-post JSONL file.

Both run as whole subprocesses (start-up, model loading, reading and writing included):

* ``python -m groundswell triage --in FILE --out OUT`` (default models, every field);
* a VADER script (vaderSentiment, sentiment only) that reads the same JSONL, scores each text
  and writes one JSON line per post.

Prints posts/s of each, the ratio (target >= 1.0), CPU seconds (user + system, workers
included; less sensitive than wall time to other load on the machine, which is also printed
as the load average before and after), and peak memory of each: the largest single
process (``wait4`` rusage of the process tree) and the peak sum over the process tree of RSS
and PSS (``/proc`` polled every 0.1 s; PSS shares copy-on-write pages between forked workers
fairly, RSS counts them once per process). Figures are measured, never asserted.

Also prints whether the featurizer's compiled loops (``_speedups.c``) are in use.

Usage: ``python bench/triage.py [--in FILE] [--posts 100000] [--report out.json]``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")

VADER_SCRIPT = r"""
import json, sys
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
analyzer = SentimentIntensityAnalyzer()
score = analyzer.polarity_scores
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in src:
        obj = json.loads(line)
        s = score(obj["text"])
        c = s["compound"]
        label = "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"
        out.write(json.dumps({"id": obj.get("id"), "label": label, "scores": s}) + "\n")
"""


def corpus_texts() -> list[str]:
    """Real tweets from the shared TweetEval and SemEval-2017 files (text only)."""
    texts: list[str] = []
    for path in sorted((DATA / "tweeteval").glob("*/*_text.txt")):
        texts.extend(line.rstrip("\n") for line in path.open(encoding="utf-8"))
    train = DATA / "semeval2017-task4a" / "derived" / "train.tsv"
    if train.exists():
        with train.open(encoding="utf-8", newline="") as f:
            texts.extend(row["text"] for row in csv.DictReader(f, delimiter="\t"))
    return [t for t in texts if t.strip()]


def build_file(path: Path, posts: int) -> None:
    texts = corpus_texts()
    if not texts:
        raise SystemExit(f"no texts found under {DATA}")
    with path.open("w", encoding="utf-8") as out:
        for i in range(posts):
            out.write(json.dumps({"id": f"b{i}", "text": texts[i % len(texts)]}) + "\n")


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return found


def _tree_memory_kib(root: int) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) over the process tree under ``root``, in KiB."""
    rss = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(_children(pid))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


@dataclass
class Run:
    name: str
    posts: int
    seconds: float
    posts_per_second: float
    exit_code: int
    cpu_seconds: float
    max_process_rss_mib: float
    peak_tree_rss_mib: float
    peak_tree_pss_mib: float


def run(name: str, cmd: list[str], posts: int, env: dict[str, str]) -> Run:
    peak = [0, 0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            rss, pss = _tree_memory_kib(proc.pid)
            peak[0] = max(peak[0], rss)
            peak[1] = max(peak[1], pss)
            done.wait(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    poller.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0,):
        sys.stderr.write(stderr.decode(errors="replace")[-2000:])
    return Run(
        name=name,
        posts=posts,
        seconds=round(seconds, 3),
        posts_per_second=round(posts / seconds, 1),
        exit_code=proc.returncode,
        cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3),
        max_process_rss_mib=round(usage.ru_maxrss / 1024, 1),
        peak_tree_rss_mib=round(peak[0] / 1024, 1),
        peak_tree_pss_mib=round(peak[1] / 1024, 1),
    )


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def compiled_loops(env: dict[str, str]) -> bool:
    """Whether ``groundswell triage`` will run the featurizer's compiled loops
    (``_speedups.c``; absent when no C compiler was there at install, or turned off with
    ``GROUNDSWELL_PURE_PYTHON=1``)."""
    probe = "from groundswell.triage import features; print(features._ANALYZE_COMPILED is not None)"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in", dest="in_", type=Path, help="JSONL file (default: build one)")
    parser.add_argument("--posts", type=int, default=100_000, help="posts in the built file")
    parser.add_argument("--report", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--model", default="default", help="triage model set (default|embeddings)")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with tempfile.TemporaryDirectory(prefix="gs-bench-") as tmp:
        work = Path(tmp)
        source = args.in_
        if source is None:
            source = work / "posts.jsonl"
            build_file(source, args.posts)
        posts = count_lines(source)
        print(f"input: {source} ({posts} posts, {source.stat().st_size / 1e6:.1f} MB)")
        print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")
        compiled = compiled_loops(env)
        why_not = (
            "GROUNDSWELL_PURE_PYTHON=1"
            if env.get("GROUNDSWELL_PURE_PYTHON") == "1"
            else "the C module is not built"
        )
        print(
            "featurizer loops: " + ("compiled (_speedups.c)" if compiled else f"Python ({why_not})")
        )
        print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        vader = run(
            "vader",
            [sys.executable, "-c", VADER_SCRIPT, str(source), str(work / "vader.jsonl")],
            posts,
            env,
        )
        groundswell = run(
            "groundswell triage",
            [
                sys.executable,
                "-m",
                "groundswell",
                "triage",
                "--in",
                str(source),
                "--out",
                str(work / "triage.jsonl"),
                "--model",
                args.model,
            ],
            posts,
            env,
        )
        print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        out_lines = count_lines(work / "triage.jsonl") if (work / "triage.jsonl").exists() else 0
    for r in (vader, groundswell):
        print(
            f"{r.name:>20}: {r.posts_per_second:>9.0f} posts/s  {r.seconds:7.2f} s  "
            f"cpu {r.cpu_seconds:6.2f} s  exit {r.exit_code}  max process RSS {r.max_process_rss_mib:.0f} MiB  "
            f"peak tree RSS {r.peak_tree_rss_mib:.0f} MiB  PSS {r.peak_tree_pss_mib:.0f} MiB"
        )
    for r in (vader, groundswell):
        print(
            f"{r.name:>20}: {r.cpu_seconds / r.posts * 1e6:9.1f} cpu us/post (whole process tree)"
        )
    ratio = groundswell.posts_per_second / vader.posts_per_second
    print(f"ratio groundswell/vader: {ratio:.2f} (target >= 1.0)")
    cpu_ratio = vader.cpu_seconds / groundswell.cpu_seconds if groundswell.cpu_seconds else 0.0
    print(f"cpu-time ratio vader/groundswell: {cpu_ratio:.2f} (1 core vs all workers)")
    if groundswell.exit_code != 0 or out_lines != posts:
        print("WARNING: the triage run failed or lost lines; its figures are not valid")
    print(f"triage output lines: {out_lines} of {posts}")
    print("peak RSS target: <= 800 MB")
    if args.report:
        report = {
            "runs": [asdict(vader), asdict(groundswell)],
            "ratio": round(ratio, 3),
            "cpu_ratio": round(cpu_ratio, 3),
            "compiled_loops": compiled,
        }
        args.report.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
