"""The evaluation metrics (C++ core, via build/native/tools/score_predictions)
against reference implementations on random predictions made with fixed seeds:

* classification (accuracy, per-class precision/recall/F1/support, macro-F1,
  confusion matrix, one-vs-rest AUROC per class and macro, multi-class Brier as
  the sum of one-vs-rest brier_score_loss) against scikit-learn, to 1e-9, over
  several class counts, tied scores, classes missing from the test set,
  unmapped answers, and the perfect and the worst case;
* the frequency split (>= 100 vs < 100 training images) against scikit-learn
  on the matching subsets / label sets;
* ECE against a numpy implementation of the stated definition (scikit-learn
  has none);
* the bootstrap interval against a Python splitmix64 + numpy.percentile
  (the stated procedure, so native, WASM and this agree bit for bit);
* Cohen's kappa (none, linear, quadratic) against cohen_kappa_score; mask IoU
  and Dice against jaccard_score and f1_score on the pixels;
* grounding IoU / Acc@0.5, REG, exact-count accuracy (and MAE), multiple choice
  with CircularEval, generation speed against accuracy_score and numpy;
* corpus BLEU-4 against NLTK's corpus_bleu (Debian python3-nltk);
* ROUGE against Google's rouge_score when it is importable (it is not packaged
  in Debian bookworm nor in our npm lock: skipped with a message; the gtest
  checks rouge_score's published ROUGE-1.5.5 values instead).

Needs python3-sklearn (and python3-nltk for BLEU): a test skips with a message
when its reference package is missing.
"""
import json
import math
import os
import re
import subprocess
import tempfile
import unittest

import numpy as np

try:
    import sklearn.metrics as skm
except ImportError:  # pragma: no cover
    skm = None
try:
    from nltk.translate.bleu_score import corpus_bleu
except ImportError:  # pragma: no cover
    corpus_bleu = None
try:
    from rouge_score import rouge_scorer
except ImportError:
    rouge_scorer = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("ES_BUILD_DIR", "build"))
TOOL = os.path.join(BUILD, "native", "tools", "score_predictions")
TOL = 1e-9


def score(task):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(task, f)
        path = f.name
    try:
        r = subprocess.run([TOOL, path], capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        raise AssertionError(f"score_predictions failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)


def value(result, name):
    v = result["metrics"][name]["value"]
    return float("nan") if v is None else v


def random_case(rng, k, n, present=None, ties=True, unmapped=0.0):
    """Truth over `present` classes (all by default); probabilities with many
    ties (small integer weights over their sum) or continuous; generated-answer
    predictions: the arg-max, some replaced by other classes or by null."""
    present = list(range(k)) if present is None else present
    truth = rng.choice(present, size=n)
    if ties:
        w = rng.integers(0, 4, size=(n, k)).astype(float)
        w[np.arange(n), truth] += rng.integers(0, 3, size=n)  # some signal
        w[w.sum(axis=1) == 0, 0] = 1.0
    else:
        w = rng.random((n, k)) ** 3
        w[np.arange(n), truth] += rng.random(n)
    probs = w / w.sum(axis=1, keepdims=True)
    predicted = probs.argmax(axis=1).astype(int)
    flip = rng.random(n) < 0.2
    predicted[flip] = rng.integers(0, k, size=int(flip.sum()))
    predicted = [None if rng.random() < unmapped else int(p) for p in predicted]
    return truth.astype(int), probs, predicted


def ece_reference(probs, truth, bins=15):
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    b = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for i in range(bins):
        m = b == i
        if m.any():
            total += m.sum() / len(truth) * abs((pred[m] == truth[m]).mean() - conf[m].mean())
    return total


class SplitMix64:
    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def below(self, n):
        threshold = ((1 << 64) - n) % n
        while True:
            r = self.next()
            if r >= threshold:
                return r % n


def tokens(text):
    """rouge_score's tokenizer without stemming (the definition the core states)."""
    return [t for t in re.split(r"\s+", re.sub(r"[^a-z0-9]+", " ", text.lower())) if re.match(r"^[a-z0-9]+$", t)]


@unittest.skipUnless(os.path.exists(TOOL), f"{TOOL} is not built (scripts/build.sh)")
class ClassificationAgainstSklearn(unittest.TestCase):
    def setUp(self):
        if skm is None:
            self.skipTest("scikit-learn is not installed (Debian python3-sklearn; scripts/setup.sh installs it)")

    def check(self, truth, probs, predicted, k, label=""):
        labels = [f"class {i}" for i in range(k)]
        out = score({"task": "classification", "labels": labels, "truth": truth.tolist(),
                     "predicted": predicted, "probabilities": probs.tolist(), "bootstrap": False})
        y_pred = np.array([-1 if p is None else p for p in predicted])
        msg = f"{label} k={k} n={len(truth)}"
        self.assertAlmostEqual(value(out, "accuracy"), skm.accuracy_score(truth, y_pred), delta=TOL, msg=msg)
        present = sorted((set(truth.tolist()) | set(y_pred.tolist())) - {-1})
        self.assertAlmostEqual(value(out, "macro_f1"),
                               skm.f1_score(truth, y_pred, labels=present, average="macro", zero_division=0),
                               delta=TOL, msg=msg)
        p, r, f, s = skm.precision_recall_fscore_support(truth, y_pred, labels=list(range(k)), zero_division=0)
        for c, row in enumerate(out["per_class"]):
            self.assertAlmostEqual(row["precision"], p[c], delta=TOL, msg=f"{msg} class {c}")
            self.assertAlmostEqual(row["recall"], r[c], delta=TOL, msg=f"{msg} class {c}")
            self.assertAlmostEqual(row["f1"], f[c], delta=TOL, msg=f"{msg} class {c}")
            self.assertEqual(row["support"], s[c])
        cm = skm.confusion_matrix(truth, y_pred, labels=list(range(k)) + [-1])
        self.assertEqual(out["confusion_matrix"]["matrix"], cm[:k, :k].tolist())
        self.assertEqual(out["confusion_matrix"]["unmapped"], cm[:k, k].tolist())
        # AUROC one-vs-rest: per class where defined, and the macro mean of those.
        aucs = []
        for c in range(k):
            pos = truth == c
            got = out["per_class"][c]["auroc"]
            if pos.all() or not pos.any():
                self.assertIsNone(got, msg=f"{msg} class {c} has no AUROC")
                continue
            want = skm.roc_auc_score(pos.astype(int), probs[:, c])
            self.assertAlmostEqual(got, want, delta=TOL, msg=f"{msg} class {c}")
            aucs.append(want)
        self.assertAlmostEqual(value(out, "macro_auroc"), float(np.mean(aucs)), delta=TOL, msg=msg)
        if len(set(truth.tolist())) == k and k > 2:
            self.assertAlmostEqual(value(out, "macro_auroc"),
                                   skm.roc_auc_score(truth, probs, multi_class="ovr", average="macro"),
                                   delta=TOL, msg=msg)
        brier = sum(skm.brier_score_loss((truth == c).astype(int), probs[:, c]) for c in range(k))
        self.assertAlmostEqual(value(out, "brier"), brier, delta=TOL, msg=msg)
        self.assertAlmostEqual(value(out, "ece"), ece_reference(probs, truth), delta=TOL, msg=msg)
        # Reliability diagram: items, mean confidence and accuracy per bin.
        conf, top = probs.max(axis=1), probs.argmax(axis=1)
        b = np.clip(np.ceil(conf * 15).astype(int) - 1, 0, 14)
        bins = out["calibration"]["bins"]
        self.assertEqual([x["count"] for x in bins], np.bincount(b, minlength=15).tolist())
        for i, x in enumerate(bins):
            if x["count"]:
                self.assertAlmostEqual(x["confidence"], conf[b == i].mean(), delta=TOL)
                self.assertAlmostEqual(x["accuracy"], (top[b == i] == truth[b == i]).mean(), delta=TOL)
        # ROC curve points: sklearn's roc_curve (collinear points dropped, its default).
        for c in range(k):
            if 0 < (truth == c).sum() < len(truth):
                fpr, tpr, thresholds = skm.roc_curve((truth == c).astype(int), probs[:, c])
                np.testing.assert_allclose(out["roc_curves"][c]["fpr"], fpr, atol=TOL)
                np.testing.assert_allclose(out["roc_curves"][c]["tpr"], tpr, atol=TOL)
                np.testing.assert_allclose(out["roc_curves"][c]["thresholds"], thresholds[1:], atol=TOL)
        return out

    def test_random_cases(self):
        rng = np.random.default_rng(20261130)
        cases = 0
        for k in (2, 3, 5, 8, 23):
            for n in (7, 40, 250, 1200):
                for ties in (True, False):
                    truth, probs, predicted = random_case(rng, k, n, ties=ties, unmapped=0.1)
                    self.check(truth, probs, predicted, k, f"ties={ties}")
                    cases += 1
        self.assertEqual(cases, 40)

    def test_missing_classes_and_unmapped_answers(self):
        rng = np.random.default_rng(7)
        # Classes 1 and 4 of 6 never occur in the truth; many answers name no label.
        truth, probs, predicted = random_case(rng, 6, 300, present=[0, 2, 3, 5], unmapped=0.3)
        out = self.check(truth, probs, predicted, 6, "missing")
        self.assertIsNone(out["per_class"][1]["auroc"])
        self.assertAlmostEqual(value(out, "unmapped_rate"), sum(p is None for p in predicted) / 300, delta=TOL)

    def test_perfect_and_worst(self):
        k, n = 4, 80
        truth = np.arange(n) % k
        perfect = np.full((n, k), 0.1)
        perfect[np.arange(n), truth] = 0.7
        out = self.check(truth, perfect, truth.tolist(), k, "perfect")
        self.assertEqual(value(out, "accuracy"), 1.0)
        self.assertEqual(value(out, "macro_f1"), 1.0)
        self.assertEqual(value(out, "macro_auroc"), 1.0)
        worst = np.full((n, k), 0.3)
        worst[np.arange(n), truth] = 0.1
        wrong = ((truth + 1) % k).tolist()
        out = self.check(truth, worst, wrong, k, "worst")
        self.assertEqual(value(out, "accuracy"), 0.0)
        self.assertEqual(value(out, "macro_f1"), 0.0)
        self.assertEqual(value(out, "macro_auroc"), 0.0)

    def test_frequency_split(self):
        rng = np.random.default_rng(11)
        k = 10
        train = [500, 20, 150, 99, 100, 3, 1000, 0, 42, 250]
        truth, probs, predicted = random_case(rng, k, 600, unmapped=0.05)
        out = score({"task": "classification", "labels": [str(i) for i in range(k)], "truth": truth.tolist(),
                     "predicted": predicted, "probabilities": probs.tolist(), "train_counts": train,
                     "bootstrap": False})
        y_pred = np.array([-1 if p is None else p for p in predicted])
        present = (set(truth.tolist()) | set(y_pred.tolist())) - {-1}
        for group in out["groups"]:
            classes = [c for c in range(k) if (train[c] >= 100) == (group["name"] == "frequent")]
            self.assertEqual(group["classes"], [str(c) for c in classes])
            mask = np.isin(truth, classes)
            self.assertEqual(group["items"], int(mask.sum()))
            self.assertAlmostEqual(group["metrics"]["accuracy"]["value"],
                                   skm.accuracy_score(truth[mask], y_pred[mask]), delta=TOL)
            labels = sorted(set(classes) & present)
            self.assertAlmostEqual(group["metrics"]["macro_f1"]["value"],
                                   skm.f1_score(truth, y_pred, labels=labels, average="macro", zero_division=0),
                                   delta=TOL)
            aucs = [skm.roc_auc_score((truth == c).astype(int), probs[:, c]) for c in classes
                    if 0 < (truth == c).sum() < len(truth)]
            self.assertAlmostEqual(group["metrics"]["macro_auroc"]["value"], float(np.mean(aucs)), delta=TOL)

    def test_bootstrap_interval_is_the_stated_procedure(self):
        rng = np.random.default_rng(5)
        truth, probs, predicted = random_case(rng, 3, 57)
        out = score({"task": "classification", "labels": ["a", "b", "c"], "truth": truth.tolist(),
                     "predicted": predicted, "bootstrap": {"resamples": 300, "seed": 12345, "confidence": 0.9}})
        right = np.array([p == t for p, t in zip(predicted, truth)], dtype=float)
        gen = SplitMix64(12345)
        stats = []
        for _ in range(300):
            counts = np.zeros(len(truth))
            for _ in range(len(truth)):
                counts[gen.below(len(truth))] += 1
            stats.append((counts * right).sum() / counts.sum())
        acc = out["metrics"]["accuracy"]
        self.assertAlmostEqual(acc["low"], float(np.percentile(stats, 5)), delta=1e-12)
        self.assertAlmostEqual(acc["high"], float(np.percentile(stats, 95)), delta=1e-12)
        self.assertLess(acc["low"], acc["high"])


@unittest.skipUnless(os.path.exists(TOOL), f"{TOOL} is not built (scripts/build.sh)")
class AgreementAgainstSklearn(unittest.TestCase):
    def setUp(self):
        if skm is None:
            self.skipTest("scikit-learn is not installed (Debian python3-sklearn; scripts/setup.sh installs it)")

    def test_kappa(self):
        rng = np.random.default_rng(3)
        for k in (2, 4, 7):
            for n in (5, 60, 400):
                a = rng.integers(0, k, n)
                b = np.where(rng.random(n) < 0.6, a, rng.integers(0, k, n))
                for weighting in ("none", "linear", "quadratic"):
                    out = score({"task": "label_agreement", "labels": [str(i) for i in range(k)],
                                 "first": a.tolist(), "second": b.tolist(), "weighting": weighting,
                                 "bootstrap": False})
                    want = skm.cohen_kappa_score(a, b, labels=list(range(k)),
                                                 weights=None if weighting == "none" else weighting)
                    got = value(out, "kappa")
                    if math.isnan(want):
                        self.assertTrue(math.isnan(got))
                    else:
                        self.assertAlmostEqual(got, want, delta=TOL, msg=f"k={k} n={n} {weighting}")

    def test_mask_iou_and_dice(self):
        rng = np.random.default_rng(9)

        def rle(mask):
            flat = mask.flatten(order="F")  # COCO runs go down the columns
            counts, current, run = [], 0, 0
            for v in flat:
                if v != current:
                    counts.append(run)
                    current, run = v, 0
                run += 1
            counts.append(run)
            return {"size": list(mask.shape), "counts": counts}

        pairs, ious, dices = [], [], []
        for _ in range(12):
            h, w = rng.integers(3, 40, 2)
            a = (rng.random((h, w)) < rng.random()).astype(np.uint8)
            b = np.where(rng.random((h, w)) < 0.8, a, 1 - a).astype(np.uint8)
            pairs.append({"first": {"rle": rle(a)}, "second": {"rle": rle(b)}})
            ious.append(skm.jaccard_score(a.ravel(), b.ravel(), zero_division=1.0))
            dices.append(skm.f1_score(a.ravel(), b.ravel(), zero_division=1.0))
        out = score({"task": "region_agreement", "pairs": pairs, "bootstrap": False})
        np.testing.assert_allclose(out["iou"], ious, atol=TOL)
        np.testing.assert_allclose(out["dice"], dices, atol=TOL)


@unittest.skipUnless(os.path.exists(TOOL), f"{TOOL} is not built (scripts/build.sh)")
class AnswerTasksAgainstReferences(unittest.TestCase):
    """Grounding, REG, counting, multiple choice and generation speed on random
    answers, against sklearn's accuracy_score and numpy."""

    def setUp(self):
        if skm is None:
            self.skipTest("scikit-learn is not installed (Debian python3-sklearn; scripts/setup.sh installs it)")

    def test_grounding(self):
        rng = np.random.default_rng(31)
        n = 300
        truth = np.c_[rng.integers(0, 400, (n, 2)), rng.integers(1, 200, (n, 2))].astype(float)
        pred = truth + rng.normal(0, 25, (n, 4))
        pred[:, 2:] = np.abs(pred[:, 2:])
        missing = rng.random(n) < 0.1
        x1, y1 = np.maximum(truth[:, 0], pred[:, 0]), np.maximum(truth[:, 1], pred[:, 1])
        x2 = np.minimum(truth[:, 0] + truth[:, 2], pred[:, 0] + pred[:, 2])
        y2 = np.minimum(truth[:, 1] + truth[:, 3], pred[:, 1] + pred[:, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        iou = inter / (truth[:, 2] * truth[:, 3] + pred[:, 2] * pred[:, 3] - inter)
        iou[missing] = 0
        out = score({"task": "grounding", "truth": truth.tolist(),
                     "predicted": [None if m else p for m, p in zip(missing, pred.tolist())], "bootstrap": False})
        np.testing.assert_allclose(out["iou"], iou, atol=TOL)
        self.assertAlmostEqual(value(out, "accuracy_at_iou"), skm.accuracy_score(np.ones(n), iou >= 0.5), delta=TOL)
        self.assertAlmostEqual(value(out, "mean_iou"), iou.mean(), delta=TOL)

    def test_label_match_and_counting(self):
        rng = np.random.default_rng(37)
        names = ["Polyp", "ulcer", "Normal cecum", "erosion"]
        truth = rng.choice(names, 200).tolist()
        pred = [None if rng.random() < 0.1 else (t.upper() + "." if rng.random() < 0.6 else str(rng.choice(names)))
                for t in truth]
        out = score({"task": "label_match", "truth": truth, "predicted": pred, "bootstrap": False})
        norm = lambda t: None if t is None else " ".join(t.lower().split()).rstrip(".")
        self.assertAlmostEqual(value(out, "accuracy"),
                               skm.accuracy_score([norm(t) for t in truth], [norm(p) or "" for p in pred]), delta=TOL)
        counts = rng.integers(0, 6, 250)
        guesses = np.where(rng.random(250) < 0.5, counts, rng.integers(0, 6, 250))
        given = [None if rng.random() < 0.1 else int(g) for g in guesses]
        out = score({"task": "counting", "truth": counts.tolist(), "predicted": given, "bootstrap": False})
        self.assertAlmostEqual(value(out, "accuracy"),
                               skm.accuracy_score(counts, [-1 if g is None else g for g in given]), delta=TOL)
        with_count = [(c, g) for c, g in zip(counts, given) if g is not None]
        self.assertAlmostEqual(value(out, "mean_absolute_error"),
                               skm.mean_absolute_error([c for c, _ in with_count], [g for _, g in with_count]), delta=TOL)

    def test_multiple_choice_circular(self):
        rng = np.random.default_rng(41)
        items, per_question = [], {}
        for q in range(120):
            for rotation in range(int(rng.integers(1, 5))):
                key = "ABCD"[int(rng.integers(0, 4))]
                answer = key if rng.random() < 0.7 else ("ABCD"[int(rng.integers(0, 4))] if rng.random() < 0.8 else None)
                items.append({"question": f"q{q}", "truth": key, "predicted": answer})
                per_question.setdefault(q, []).append(answer == key)
        out = score({"task": "multiple_choice", "items": items, "bootstrap": False})
        self.assertAlmostEqual(value(out, "accuracy"),
                               skm.accuracy_score([i["truth"] for i in items], [i["predicted"] or "" for i in items]),
                               delta=TOL)
        self.assertAlmostEqual(value(out, "circular_accuracy"),
                               float(np.mean([all(v) for v in per_question.values()])), delta=TOL)
        self.assertEqual(out["questions"], 120)

    def test_generation_speed(self):
        rng = np.random.default_rng(43)
        seconds = rng.gamma(2.0, 1.5, 77)
        tokens = rng.integers(5, 300, 77).astype(float)
        known = rng.random(77) < 0.9
        out = score({"task": "generation_speed", "seconds": seconds.tolist(),
                     "tokens": [float(t) if k else None for t, k in zip(tokens, known)]})
        self.assertAlmostEqual(value(out, "mean_seconds"), seconds.mean(), delta=TOL)
        self.assertAlmostEqual(value(out, "median_seconds"), float(np.median(seconds)), delta=TOL)
        self.assertAlmostEqual(value(out, "p90_seconds"), float(np.percentile(seconds, 90)), delta=TOL)
        self.assertAlmostEqual(value(out, "tokens_per_second"), tokens[known].sum() / seconds[known].sum(), delta=TOL)
        self.assertAlmostEqual(value(out, "median_tokens_per_second"),
                               float(np.median(tokens[known] / seconds[known])), delta=TOL)


VOCAB = "the a polyp sessile pedunculated mm in sigmoid colon rectum was removed with snare cold no bleeding".split()


def random_text(rng, low, high):
    words = rng.choice(VOCAB, size=int(rng.integers(low, high + 1))).tolist()
    # Punctuation and case that the tokenizer must strip.
    return " ".join(w.capitalize() + "," if rng.random() < 0.1 else w for w in words) + "."


@unittest.skipUnless(os.path.exists(TOOL), f"{TOOL} is not built (scripts/build.sh)")
class TextAgainstReferences(unittest.TestCase):
    def test_bleu_against_nltk(self):
        if corpus_bleu is None:
            self.skipTest("NLTK is not installed (Debian python3-nltk; scripts/setup.sh installs it)")
        rng = np.random.default_rng(17)
        for trial in range(12):
            n = int(rng.integers(1, 30))
            refs = [[random_text(rng, 3, 20) for _ in range(int(rng.integers(1, 4)))] for _ in range(n)]
            gens = [random_text(rng, 0 if trial % 3 == 0 else 4, 20) for _ in range(n)]
            # Near copies so that 4-gram matches occur.
            for i in range(0, n, 2):
                words = refs[i][0].split()
                gens[i] = " ".join(words[: max(1, len(words) - int(rng.integers(0, 3)))])
            out = score({"task": "text", "references": refs, "generated": gens, "bootstrap": False})
            want = corpus_bleu([[tokens(r) for r in rs] for rs in refs], [tokens(g) for g in gens])
            self.assertAlmostEqual(value(out, "bleu4"), want, delta=TOL, msg=f"trial {trial}")
        out = score({"task": "text", "references": ["a b c d e f"], "generated": ["a b c d e f"], "bootstrap": False})
        self.assertEqual(value(out, "bleu4"), 1.0)

    def test_rouge_against_rouge_score(self):
        if rouge_scorer is None:
            self.skipTest("rouge_score is not installed (not packaged in Debian bookworm nor in our npm lock); "
                          "tests/core/metrics_text_test.cpp checks rouge_score's published ROUGE-1.5.5 values")
        rng = np.random.default_rng(23)
        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
        refs = [random_text(rng, 1, 30) for _ in range(40)]
        gens = [random_text(rng, 0, 30) for _ in range(40)]
        out = score({"task": "text", "references": refs, "generated": gens, "bootstrap": False})
        for i, (r, g) in enumerate(zip(refs, gens)):
            s = scorer.score(r, g)
            for key in ("rouge1", "rouge2", "rougeL"):
                self.assertAlmostEqual(out["per_item"][i][key], s[key].fmeasure, delta=TOL)


if __name__ == "__main__":
    unittest.main()
