#!/usr/bin/env python3
"""Reference fixtures for the Java evaluation metrics (dev.entity.training.eval).

BLEU values are computed by sacrebleu itself (sacrebleu.corpus_bleu / sentence_bleu with their
defaults: 13a tokenization, exp smoothing, order 4; effective order off for corpus BLEU, on for
sentence BLEU), and the 13a token strings come from sacrebleu's own Tokenizer13a.

ROUGE values do NOT come from Google's rouge-score package: it cannot be installed where these
fixtures were made. They come from `RougeReference` below, a reimplementation written from
rouge-score's published algorithm (rouge_scorer.py, tokenize.py, scoring.py, no stemmer):
lowercase (Python str.lower), replace every run of characters outside [a-z0-9] with a space,
split on whitespace, drop empty tokens; ROUGE-N from clipped n-gram counts
(precision = overlap / max(#prediction n-grams, 1), recall = overlap / max(#target n-grams, 1));
ROUGE-L from the LCS length over tokens (0 when either side has no tokens);
F = 2PR / (P + R), 0 when P + R = 0; score_multi keeps, per ROUGE type, the target with the highest
F (the first on ties). The fixture metadata records this. With use_stemmer=True, tokens longer
than 3 characters go through nltk's real PorterStemmer() (default NLTK_EXTENSIONS mode), exactly
as rouge-score does; porter_stems.tsv records that stemmer's output for every word of 4+ letters in
nltk's own top-level and nltk/stem sources (a large, reproducible English vocabulary) plus the
paper's examples and hostile cases.

Needs sacrebleu and nltk (pip install sacrebleu nltk).

Run:  /work/venv/bin/python scripts/reference/make_eval_fixtures.py
Out:  entity-training/src/test/resources/fixtures/eval/eval_metrics.json and porter_stems.tsv
"""
import collections
import json
import os
import re

import glob

import nltk
import sacrebleu
from nltk.stem.porter import PorterStemmer
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "entity-training", "src", "test",
                   "resources", "fixtures", "eval")

# (hypothesis, [references]) pairs; each exercises something the 13a or ROUGE tokenizers treat
# specially, or a BLEU edge (no matches, empty side, shorter/longer, repeated n-grams).
PAIRS = [
    ("The cat sat on the mat.", ["The cat sat on the mat."]),
    ("The cat sat on the mat.", ["A dog lay under the rug."]),
    ("the cat", ["The cat sat on the mat."]),
    ("The cat sat on the mat and then it sat on the other mat for a long time.", ["The cat sat on the mat."]),
    ("", ["The cat sat on the mat."]),
    ("Something here.", [""]),
    ("", [""]),
    ("It costs $1,000.50, not 1.000,50 or 1, 000 .", ["It costs $1,000.50 and not 1.000,50."]),
    ("Pages 3-4 and 10-12 were torn; the e-mail was well-known.", ["Pages 3-4 and 10 - 12 were torn, the e-mail was well known."]),
    ("He said \"hello\" and 'goodbye'.", ["He said &quot;hello&quot; and 'goodbye'."]),
    ("Tom &amp; Jerry &lt;3 &gt; all", ["Tom & Jerry <3 > all"]),
    ("&amp;lt;tag&amp;gt; &amp;quot;x&amp;quot;", ["<tag> \"x\""]),
    ("AT&T's &nbsp; &#39;quoted&#39; &QUOT;", ["AT&T's &nbsp; 'quoted' \""]),
    ("Naïve café owners in Zürich — über-fast!", ["Naive cafe owners in Zurich — uber fast!"]),
    ("東京は大きい。 日本語のテキスト、句読点付き。", ["東京は大きい。日本語のテキスト、句読点付き。"]),
    ("Emoji 😀 test 👍🏽 done.", ["Emoji 😀 test 👍 done."]),
    ("İstanbul has a 5 K\u212a race; ǅemal runs", ["istanbul has a 5 kk race; dzemal runs"]),
    ("U.S.A. and e.g. etc... end.", ["U.S.A. and e.g. etc. end."]),
    ("Wait...what?!? (Really) [yes] {no} <maybe>", ["Wait ... what ? ! ? ( Really ) [ yes ] { no } < maybe >"]),
    ("100% of $5 is #1 @home ^_^ ~ok| a\\b", ["100 % of $ 5 is # 1 @ home ^ _ ^ ~ ok | a \\ b"]),
    ("the the the the the the the", ["the cat is on the mat"]),
    ("the cat the cat the cat", ["the cat is on the mat", "there is a cat on the mat"]),
    ("a cat is on the mat", ["the cat is on the mat", "there is a cat on the mat", "a cat sits on a mat"]),
    ("It is a guide to action which ensures that the military always obeys the commands of the party.",
     ["It is a guide to action that ensures that the military will forever heed Party commands.",
      "It is the guiding principle which guarantees the military forces always being under the command of the Party.",
      "It is the practical guide for the army always to heed the directions of the party."]),
    ("Line one-\ntwo\nthree <skipped> four", ["Line onetwo three four"]),
    ("  padded with spaces  \t", ["padded with spaces"]),
    ("trailing\u00a0nbsp\u00a0", ["trailing nbsp"]),
    ("ideographic\u3000space and\u2003em space", ["ideographic space and em space"]),
    ("tab\tseparated\tvalues", ["tab separated values"]),
    ("numbers 3.14, 2,5 and .5 or 5. and ,5", ["numbers 3.14 , 2,5 and . 5 or 5 . and , 5"]),
    ("x-1 1-x 1-2 -1 1- a-b", ["x - 1 1 - x 1 - 2 - 1 1 - a-b"]),
    ("Don't stop, won't stop; can't stop.", ["Do not stop, will not stop; cannot stop."]),
    ("one two three four five", ["five four three two one"]),
    ("one two three four five", ["one two three four five six seven eight nine ten"]),
    ("one two three four five six seven eight nine ten", ["one two three four five"]),
    ("a b", ["a b"]),
    ("a", ["b"]),
    ("!!!", ["..."]),
    ("CaSe MaTtErS", ["case matters"]),
    ("The quick brown fox jumps over the lazy dog", ["The quick brown dog jumps on the log."]),
    ("police killed the gunman", ["police kill the gunman", "the gunman was shot down by police"]),
    ("only the first reference exists", ["only the first reference exists here", None]),
]


class RougeReference:
    """rouge-score's default (no stemmer) computation, reimplemented; see the module docstring."""

    NON_ALNUM = re.compile(r"[^a-z0-9]+")
    VALID = re.compile(r"^[a-z0-9]+$")

    stemmer = None  # set to nltk's PorterStemmer() for use_stemmer=True

    @classmethod
    def tokenize(cls, text):
        text = cls.NON_ALNUM.sub(" ", text.lower())
        tokens = re.split(r"\s+", text)
        if cls.stemmer:
            tokens = [cls.stemmer.stem(t) if len(t) > 3 else t for t in tokens]
        return [t for t in tokens if cls.VALID.match(t)]

    @staticmethod
    def fmeasure(p, r):
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    @staticmethod
    def ngrams(tokens, n):
        return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))

    @classmethod
    def rouge_n(cls, target, prediction, n):
        t, p = cls.ngrams(target, n), cls.ngrams(prediction, n)
        overlap = sum(min(c, p[g]) for g, c in t.items())
        precision = overlap / max(sum(p.values()), 1)
        recall = overlap / max(sum(t.values()), 1)
        return precision, recall, cls.fmeasure(precision, recall)

    @classmethod
    def rouge_l(cls, target, prediction):
        if not target or not prediction:
            return 0.0, 0.0, 0.0
        prev = [0] * (len(prediction) + 1)
        for a in target:
            cur = [0]
            for j, b in enumerate(prediction, 1):
                cur.append(prev[j - 1] + 1 if a == b else max(prev[j], cur[j - 1]))
            prev = cur
        lcs = prev[-1]
        precision, recall = lcs / len(prediction), lcs / len(target)
        return precision, recall, cls.fmeasure(precision, recall)

    @classmethod
    def score(cls, target, prediction):
        t, p = cls.tokenize(target), cls.tokenize(prediction)
        return {"rouge1": cls.rouge_n(t, p, 1), "rouge2": cls.rouge_n(t, p, 2),
                "rougeL": cls.rouge_l(t, p)}

    @classmethod
    def score_multi(cls, targets, prediction):
        per_target = [cls.score(t, prediction) for t in targets]
        best = {}
        for key in ("rouge1", "rouge2", "rougeL"):
            fs = [s[key][2] for s in per_target]
            best[key] = per_target[fs.index(max(fs))][key]
        return best


def rouge_json(scores):
    return {k: {"precision": v[0], "recall": v[1], "fmeasure": v[2]} for k, v in scores.items()}


def bleu_json(score):
    return {"score": score.score, "counts": list(score.counts), "totals": list(score.totals),
            "precisions": list(score.precisions), "bp": score.bp, "sys_len": score.sys_len,
            "ref_len": score.ref_len}


def streams(refs_per_pair):
    """Per-pair reference lists -> sacrebleu's reference streams, padded with None."""
    width = max(len(r) for r in refs_per_pair)
    return [[r[k] if k < len(r) else None for r in refs_per_pair] for k in range(width)]


def rouge_means(hyps, refs_per_pair):
    rouge = [RougeReference.score_multi([r for r in refs if r is not None], h)
             for h, refs in zip(hyps, refs_per_pair)]
    return {k: sum(s[k][2] for s in rouge) / len(rouge) for k in ("rouge1", "rouge2", "rougeL")}


def with_stemmer(compute):
    RougeReference.stemmer = PorterStemmer()
    try:
        return compute()
    finally:
        RougeReference.stemmer = None


def corpus_case(name, hyps, refs_per_pair):
    return {"name": name, "hypotheses": hyps, "reference_streams": streams(refs_per_pair),
            "bleu": bleu_json(sacrebleu.corpus_bleu(hyps, streams(refs_per_pair))),
            "rouge_mean_fmeasure": rouge_means(hyps, refs_per_pair),
            "rouge_mean_fmeasure_stemmed": with_stemmer(lambda: rouge_means(hyps, refs_per_pair))}


STEM_EXAMPLES = [
    "caresses", "ponies", "ties", "caress", "cats", "feed", "agreed", "plastered", "bled",
    "motoring", "sing", "conflated", "troubled", "sized", "hopping", "tanned", "falling", "hissing",
    "fizzed", "failing", "filing", "happy", "sky", "skies", "dying", "lying", "tying", "news",
    "innings", "outings", "cannings", "howe", "proceed", "exceed", "succeed", "relational",
    "conditional", "rational", "valenci", "hesitanci", "digitizer", "conformabli", "radicalli",
    "differentli", "vileli", "analogousli", "vietnamization", "predication", "operator",
    "feudalism", "decisiveness", "hopefulness", "callousness", "formaliti", "sensitiviti",
    "sensibiliti", "triplicate", "formative", "formalize", "electriciti", "electrical", "hopeful",
    "goodness", "revival", "allowance", "inference", "airliner", "gyroscopic", "adjustable",
    "defensible", "irritant", "replacement", "adjustment", "dependent", "adoption", "homologou",
    "communism", "activate", "angulariti", "homologous", "effective", "bowdlerize", "probate",
    "rate", "cease", "controll", "roll", "generously", "enjoy", "spied", "tied", "flies", "ied",
    "ies", "yyyy", "yyyyyyyyyyyyyyyy", "ying", "eying", "1990s", "a1b2c3d4s", "ab", "abs", "ing",
    "ings", "eed", "logi", "analogi", "fulli", "hopefulli", "alli", "typicalli", "syzygy", "toy",
    "oed", "ssss", "yes", "says", "dies", "lies", "agreement", "running", "runner", "ran",
]


def stem_cases():
    root = os.path.dirname(nltk.__file__)
    files = sorted(glob.glob(os.path.join(root, "*.py")) + glob.glob(os.path.join(root, "stem", "*.py")))
    words = set(STEM_EXAMPLES)
    for path in files:
        with open(path, encoding="utf-8") as f:
            words.update(re.findall(r"[a-z]{4,}", f.read().lower()))
    stemmer = PorterStemmer()
    return [(w, stemmer.stem(w)) for w in sorted(words)]


def main():
    tok = Tokenizer13a()
    pairs = []
    for hyp, refs in PAIRS:
        present = [r for r in refs if r is not None]
        pairs.append({
            "hypothesis": hyp,
            "references": refs,
            "hypothesis_13a": tok(hyp.rstrip()),
            "references_13a": [tok(r.rstrip()) for r in present],
            "sentence_bleu": bleu_json(sacrebleu.sentence_bleu(hyp, present)),
            "corpus_bleu": bleu_json(sacrebleu.corpus_bleu([hyp], [[r] for r in refs])),
            "rouge_first_reference": rouge_json(RougeReference.score(present[0], hyp)),
            "rouge_best_reference": rouge_json(RougeReference.score_multi(present, hyp)),
            "rouge_best_reference_stemmed": rouge_json(
                with_stemmer(lambda: RougeReference.score_multi(present, hyp))),
        })
    hyps = [h for h, _ in PAIRS]
    refs = [r for _, r in PAIRS]
    corpora = [
        corpus_case("all pairs, every reference stream", hyps, refs),
        corpus_case("all pairs, first reference only", hyps, [[r[0]] for r in refs]),
        corpus_case("identical", ["a b c d e", "the cat sat on the mat"],
                    [["a b c d e"], ["the cat sat on the mat"]]),
        corpus_case("no overlap", ["alpha beta gamma delta", "one two"],
                    [["w x y z"], ["three four five"]]),
        corpus_case("all hypotheses empty", ["", ""], [["a b c"], ["d e"]]),
        corpus_case("too short for 4-grams", ["a b", "c d e"], [["a b"], ["c d e f"]]),
        corpus_case("two full streams", ["the cat is on the mat", "there is a dog", "hello world"],
                    [["the cat sat on the mat", "a cat is on a mat"],
                     ["there is a dog here", "a dog is there"],
                     ["hello there world", "hello, world!"]]),
    ]
    os.makedirs(OUT, exist_ok=True)
    doc = {
        "generator": "scripts/reference/make_eval_fixtures.py",
        "bleu_source": f"sacrebleu {sacrebleu.__version__}: corpus_bleu(hyps, ref_streams) and "
                       "sentence_bleu(hyp, refs) with defaults; 13a strings from Tokenizer13a",
        "rouge_source": "reimplementation of Google rouge-score's algorithm (RougeReference in the "
                        "generator script; rouge-score itself was not installable); the *_stemmed "
                        f"values use nltk {nltk.__version__}'s real PorterStemmer() on tokens longer "
                        "than 3 characters, as rouge-score's use_stemmer=True does",
        "pairs": pairs,
        "corpora": corpora,
    }
    path = os.path.join(OUT, "eval_metrics.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=True, indent=1)
        f.write("\n")
    stems = stem_cases()
    stem_path = os.path.join(OUT, "porter_stems.tsv")
    with open(stem_path, "w", encoding="utf-8") as f:
        f.write(f"# word<TAB>stem from nltk {nltk.__version__} PorterStemmer() (NLTK_EXTENSIONS)\n")
        f.writelines(f"{w}\t{st}\n" for w, st in stems)
    print(f"wrote {path}: {len(pairs)} pairs, {len(corpora)} corpora; {stem_path}: {len(stems)} words")


if __name__ == "__main__":
    main()
