#!/usr/bin/env python3
"""ROUGE-1/2/L fixtures computed by a real library: torchmetrics' text ROUGE.

Google's rouge-score cannot be installed where these fixtures are made; torchmetrics can, and its
`torchmetrics.functional.text.rouge_score` follows rouge-score (and is tested against it in
torchmetrics' own suite): lowercase, every run outside [a-z0-9] becomes a space, split on
whitespace, clipped n-gram overlap for ROUGE-N, LCS for ROUGE-L, F = 2PR / (P + R), and with
several targets the best one per ROUGE type by F-measure (accumulate="best", the first on ties).
Settings here are rouge-score's defaults: no stemmer, the default normalizer and tokenizer.

Every pair of the BLEU/ROUGE fixture eval_metrics.json (make_eval_fixtures.PAIRS) is scored (against its first reference, and against all its
references with accumulate="best"), plus extra pairs aimed at the tokenizer: punctuation, case,
digits, empty sides, repeated words, and non-ASCII text, which the default tokenizer drops.
torchmetrics returns float32 tensors, so values agree with a float64 implementation to about 1e-7;
the Java test holds them to 4 decimals as the issue asks.

Needs torchmetrics (pip install torchmetrics).

Run:  /work/venv/bin/python scripts/reference/make_rouge_fixtures.py
Out:  entity-training/src/test/resources/fixtures/eval/rouge_torchmetrics.json
"""
import json
import os

import torchmetrics
from torchmetrics.functional.text import rouge_score

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "entity-training", "src", "test",
                   "resources", "fixtures", "eval")

KEYS = ("rouge1", "rouge2", "rougeL")

EXTRA = [
    ("Hello, world!", ["hello world"]),
    ("HELLO WORLD", ["hello, world."]),
    ("...,;:!?", ["hello"]),
    ("", [""]),
    ("", ["something"]),
    ("something", [""]),
    ("   ", ["   "]),
    ("the the the", ["the"]),
    ("the", ["the the the"]),
    ("a a b b a a", ["a b a b a b"]),
    ("abc123 def-456 7.89", ["abc123 def 456 7 89"]),
    ("2026-11-25 at 15:30", ["2026 11 25 at 15 30"]),
    ("東京 大阪 京都", ["東京 大阪"]),
    ("東京 and Osaka", ["Osaka and 東京"]),
    ("café naïve résumé", ["cafe naive resume"]),
    ("Ünïcödé TEXT 🙂 ok", ["unicode text ok"]),
    ("straße STRASSE", ["strasse"]),
    ("ﬁne ﬂow", ["fine flow"]),
    ("x\u200by zero\u00a0width", ["x y zero width"]),
    ("it's don't won't", ["it s don t won t"]),
    ("A.B.C. a-b-c a_b_c", ["a b c a b c a b c"]),
    ("one two three two one", ["one two one two three"]),
    ("the cat sat", ["the cat sat", "the cat sat on the mat"]),
    ("red blue", ["green", "blue red", "red blue"]),
]


def scores(prediction, targets):
    """rouge_score of one prediction against one or several targets (accumulate='best')."""
    out = rouge_score([prediction], [targets], accumulate="best", rouge_keys=KEYS)
    return {
        k: {m: float(out[f"{k}_{m}"]) for m in ("precision", "recall", "fmeasure")} for k in KEYS
    }


def main():
    with open(os.path.join(OUT, "eval_metrics.json"), encoding="utf-8") as f:
        shared = [(p["hypothesis"], p["references"]) for p in json.load(f)["pairs"]]
    pairs = []
    for hyp, refs in shared + EXTRA:
        present = [r for r in refs if r is not None]
        pairs.append({
            "hypothesis": hyp,
            "references": present,
            "first_reference": scores(hyp, present[:1]),
            "best_reference": scores(hyp, present),
        })
    doc = {
        "source": "torchmetrics.functional.text.rouge_score, accumulate='best', no stemmer,"
                  " default normalizer and tokenizer (rouge-score's defaults)",
        "torchmetrics_version": torchmetrics.__version__,
        "pairs": pairs,
    }
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "rouge_torchmetrics.json")
    with open(path, "w", encoding="utf-8") as f:  # one pair per line, for readable diffs
        head = json.dumps({k: v for k, v in doc.items() if k != "pairs"}, ensure_ascii=False)
        f.write(head[:-1] + ', "pairs": [\n')
        f.write(",\n".join(json.dumps(p, ensure_ascii=False) for p in pairs))
        f.write("\n]}\n")
    print(f"wrote {len(pairs)} pairs to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
