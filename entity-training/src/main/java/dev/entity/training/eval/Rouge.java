// Convention: arguments go (target, prediction) as in rouge-score, the reverse of BLEU's
// (hypothesis, references): precision is measured over the prediction, recall over the target.
package dev.entity.training.eval;

import dev.entity.core.EntityException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L as Google's rouge-score computes them with its default tokenizer:
 * text is lowercased, every run of characters outside {@code [a-z0-9]} becomes a separator, ROUGE-N
 * counts clipped n-gram overlap, ROUGE-L takes the longest common subsequence of tokens. With
 * several targets the best-scoring target is kept per ROUGE type (rouge-score's {@code
 * score_multi}). Every method has a {@code useStemmer} variant, rouge-score's {@code
 * use_stemmer=True}: tokens longer than 3 characters are reduced by {@link PorterStemmer} (NLTK's
 * Porter stemmer, which rouge-score calls); without it there is no stemming, rouge-score's default.
 */
public final class Rouge {

  private Rouge() {}

  /**
   * rouge-score's default tokenizer. Python's {@code str.lower()} is applied first; the only
   * non-ASCII characters it maps into {@code [a-z0-9]} are U+0130 (to "i" plus a combining dot) and
   * the Kelvin sign U+212A (to "k"), which is why they are handled here by name.
   */
  public static List<String> tokenize(String text) {
    return tokenize(text, false);
  }

  /** {@link #tokenize(String)}, then Porter-stems tokens longer than 3 characters if asked. */
  public static List<String> tokenize(String text, boolean useStemmer) {
    List<String> tokens = new ArrayList<>();
    StringBuilder token = new StringBuilder();
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      char c = lowerToAlnum(cp);
      if (c != 0) {
        token.append(c);
      }
      if (c == 0 || cp == 0x130) { // U+0130 lowers to "i" followed by a non-alphanumeric mark
        if (!token.isEmpty()) {
          tokens.add(token.toString());
          token.setLength(0);
        }
      }
    }
    if (!token.isEmpty()) {
      tokens.add(token.toString());
    }
    if (useStemmer) {
      tokens.replaceAll(t -> t.length() > 3 ? PorterStemmer.stem(t) : t);
      tokens.removeIf(String::isEmpty);
    }
    return tokens;
  }

  // The [a-z0-9] character Python's lower() makes of cp (its first one for U+0130), or 0 if none.
  private static char lowerToAlnum(int cp) {
    if (cp >= 'a' && cp <= 'z' || cp >= '0' && cp <= '9') {
      return (char) cp;
    }
    if (cp >= 'A' && cp <= 'Z') {
      return (char) (cp + ('a' - 'A'));
    }
    return switch (cp) {
      case 0x130 -> 'i';
      case 0x212A -> 'k';
      default -> 0;
    };
  }

  /** ROUGE-1, ROUGE-2 and ROUGE-L of {@code prediction} against one {@code target}. */
  public static RougeScores score(String target, String prediction) {
    return score(target, prediction, false);
  }

  /** {@link #score(String, String)}, with rouge-score's {@code use_stemmer}. */
  public static RougeScores score(String target, String prediction, boolean useStemmer) {
    List<String> t = tokenize(target, useStemmer);
    List<String> p = tokenize(prediction, useStemmer);
    return new RougeScores(rougeN(t, p, 1), rougeN(t, p, 2), rougeL(t, p));
  }

  /**
   * The best score over several targets, chosen per ROUGE type by F-measure (the first target on
   * ties), as rouge-score's {@code score_multi}; null targets are skipped.
   */
  public static RougeScores scoreMulti(List<String> targets, String prediction) {
    return scoreMulti(targets, prediction, false);
  }

  /** {@link #scoreMulti(List, String)}, with rouge-score's {@code use_stemmer}. */
  public static RougeScores scoreMulti(
      List<String> targets, String prediction, boolean useStemmer) {
    RougeScores best = null;
    for (String target : targets) {
      if (target == null) {
        continue;
      }
      RougeScores s = score(target, prediction, useStemmer);
      best =
          best == null
              ? s
              : new RougeScores(
                  better(best.rouge1(), s.rouge1()),
                  better(best.rouge2(), s.rouge2()),
                  better(best.rougeL(), s.rougeL()));
    }
    if (best == null) {
      throw new EntityException("ROUGE needs at least one non-null target; got none");
    }
    return best;
  }

  /**
   * Per-pair ROUGE for a corpus and the mean F-measure of each type. Reference streams are laid out
   * as for {@link Bleu#corpus}: stream k holds the k-th reference of every hypothesis.
   *
   * @throws EntityException if the corpus is empty or a stream's length differs from the number of
   *     hypotheses
   */
  public static RougeCorpusScore corpus(
      List<String> hypotheses, List<List<String>> referenceStreams) {
    return corpus(hypotheses, referenceStreams, false);
  }

  /** {@link #corpus(List, List)}, with rouge-score's {@code use_stemmer}. */
  public static RougeCorpusScore corpus(
      List<String> hypotheses, List<List<String>> referenceStreams, boolean useStemmer) {
    Bleu.requireCorpus("ROUGE", hypotheses, referenceStreams);
    List<RougeScores> pairs = new ArrayList<>(hypotheses.size());
    double r1 = 0;
    double r2 = 0;
    double rl = 0;
    for (int i = 0; i < hypotheses.size(); i++) {
      RougeScores s =
          scoreMulti(Bleu.segmentReferences(referenceStreams, i), hypotheses.get(i), useStemmer);
      pairs.add(s);
      r1 += s.rouge1().fmeasure();
      r2 += s.rouge2().fmeasure();
      rl += s.rougeL().fmeasure();
    }
    int n = hypotheses.size();
    return new RougeCorpusScore(pairs, r1 / n, r2 / n, rl / n);
  }

  private static RougeScore better(RougeScore kept, RougeScore candidate) {
    return candidate.fmeasure() > kept.fmeasure() ? candidate : kept;
  }

  private static RougeScore rougeN(List<String> target, List<String> prediction, int n) {
    Map<List<String>, Long> t = ngrams(target, n);
    Map<List<String>, Long> p = ngrams(prediction, n);
    long overlap = 0;
    for (Map.Entry<List<String>, Long> e : t.entrySet()) {
      overlap += Math.min(e.getValue(), p.getOrDefault(e.getKey(), 0L));
    }
    long targetCount = Math.max(0, target.size() - n + 1);
    long predictionCount = Math.max(0, prediction.size() - n + 1);
    return RougeScore.of(
        (double) overlap / Math.max(predictionCount, 1),
        (double) overlap / Math.max(targetCount, 1));
  }

  private static Map<List<String>, Long> ngrams(List<String> tokens, int n) {
    Map<List<String>, Long> counts = new HashMap<>();
    for (int i = 0; i + n <= tokens.size(); i++) {
      counts.merge(tokens.subList(i, i + n), 1L, Long::sum);
    }
    return counts;
  }

  private static RougeScore rougeL(List<String> target, List<String> prediction) {
    if (target.isEmpty() || prediction.isEmpty()) {
      return RougeScore.ZERO;
    }
    long[] prev = new long[prediction.size() + 1];
    long[] cur = new long[prediction.size() + 1];
    for (String a : target) {
      for (int j = 1; j <= prediction.size(); j++) {
        cur[j] = a.equals(prediction.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
      }
      long[] swap = prev;
      prev = cur;
      cur = swap;
    }
    long lcs = prev[prediction.size()];
    return RougeScore.of((double) lcs / prediction.size(), (double) lcs / target.size());
  }
}
