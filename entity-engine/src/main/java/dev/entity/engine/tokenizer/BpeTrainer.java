// Convention: deterministic training. Words are the GPT-2 pre-tokenizer's pieces in the byte-level
// alphabet; ids are special tokens first (in the given order), then the 256 byte characters in byte
// order, then merged tokens in merge order. Each step merges the most frequent adjacent pair; ties
// go
// to the pair with the smallest (left id, right id), so the same corpus always gives the same
// files.
package dev.entity.engine.tokenizer;

import dev.entity.engine.EngineException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns a byte-level BPE vocabulary (GPT-2 pre-tokenizer and byte alphabet) from a text corpus up
 * to a target vocabulary size, for the tiny models {@code make-tiny-model} writes. The result is
 * written as a Hugging Face {@code tokenizer.json} + {@code tokenizer_config.json} by {@link
 * TrainedBpe#writeTo}.
 */
public final class BpeTrainer {

  /**
   * What to learn: the total vocabulary size (special tokens and the 256 bytes included), the
   * minimum count a pair needs to be merged, and the special tokens (first ids, never split).
   */
  public record Config(int vocabSize, int minFrequency, List<String> specialTokens) {

    /** The special tokens of a ChatML tiny model: end of text (pad), turn start, turn end (EOS). */
    public static final List<String> CHATML_SPECIALS =
        List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");

    /** A ChatML-ready configuration: {@link #CHATML_SPECIALS}, pairs seen at least twice. */
    public static Config chatml(int vocabSize) {
      return new Config(vocabSize, 2, CHATML_SPECIALS);
    }

    public Config {
      specialTokens = List.copyOf(specialTokens);
      if (vocabSize < 256 + specialTokens.size()) {
        throw new EngineException(
            "vocab_size "
                + vocabSize
                + " is too small: a byte-level vocabulary needs 256 byte tokens plus "
                + specialTokens.size()
                + " special tokens");
      }
      if (minFrequency < 1) {
        throw new EngineException("min_frequency must be at least 1, got " + minFrequency);
      }
      if (new HashSet<>(specialTokens).size() != specialTokens.size()) {
        throw new EngineException("special tokens must be distinct: " + specialTokens);
      }
    }
  }

  private final Config config;

  public BpeTrainer(Config config) {
    this.config = config;
  }

  /** Learns merges from the texts (each text pre-tokenized on its own). */
  public TrainedBpe train(Iterable<String> texts) {
    Pattern split = RegexTranslation.compile(PreTokenizer.GPT2_PATTERN);
    Map<String, Long> wordCounts = new TreeMap<>(); // sorted: a fixed word order
    for (String text : texts) {
      for (String piece : withoutSpecialTokens(text)) {
        Matcher m = split.matcher(piece);
        while (m.find()) {
          wordCounts.merge(ByteLevelAlphabet.encode(m.group()), 1L, Long::sum);
        }
      }
    }
    List<String> tokens = new ArrayList<>(config.specialTokens());
    Map<String, Integer> ids = new HashMap<>();
    for (int i = 0; i < tokens.size(); i++) {
      ids.put(tokens.get(i), i);
    }
    for (int b = 0; b < 256; b++) {
      String c = String.valueOf(ByteLevelAlphabet.charOf(b));
      ids.putIfAbsent(c, tokens.size());
      tokens.add(c);
    }
    int[][] words = new int[wordCounts.size()][];
    long[] freq = new long[words.length];
    Map<Long, Long> pairCounts = new HashMap<>();
    Map<Long, Set<Integer>> wordsWithPair = new HashMap<>();
    int w = 0;
    for (Map.Entry<String, Long> e : wordCounts.entrySet()) {
      String word = e.getKey();
      words[w] = new int[word.length()];
      for (int i = 0; i < word.length(); i++) {
        words[w][i] = ids.get(String.valueOf(word.charAt(i)));
      }
      freq[w] = e.getValue();
      countPairs(words[w], freq[w], w, pairCounts, wordsWithPair);
      w++;
    }
    List<String[]> merges = new ArrayList<>();
    while (tokens.size() < config.vocabSize()) {
      long best = -1;
      long bestCount = 0;
      for (Map.Entry<Long, Long> e : pairCounts.entrySet()) {
        long c = e.getValue();
        if (c > bestCount || (c == bestCount && Long.compareUnsigned(e.getKey(), best) < 0)) {
          best = e.getKey();
          bestCount = c;
        }
      }
      if (best < 0 || bestCount < config.minFrequency()) {
        break;
      }
      int left = (int) (best >>> 32);
      int right = (int) best;
      String merged = tokens.get(left) + tokens.get(right);
      Integer newId = ids.get(merged);
      if (newId == null) {
        newId = tokens.size();
        tokens.add(merged);
        ids.put(merged, newId);
      }
      merges.add(new String[] {tokens.get(left), tokens.get(right)});
      for (int k : new ArrayList<>(wordsWithPair.getOrDefault(best, Set.of()))) {
        countPairs(words[k], -freq[k], k, pairCounts, null);
        words[k] = applyMerge(words[k], left, right, newId);
        countPairs(words[k], freq[k], k, pairCounts, wordsWithPair);
      }
      pairCounts.remove(best);
      wordsWithPair.remove(best);
    }
    return new TrainedBpe(tokens, merges, config.specialTokens());
  }

  /** The text with the special tokens cut out, so they never take part in merges. */
  private List<String> withoutSpecialTokens(String text) {
    List<String> pieces = new ArrayList<>(List.of(text));
    for (String special : config.specialTokens()) {
      List<String> next = new ArrayList<>();
      for (String p : pieces) {
        next.addAll(List.of(p.split(Pattern.quote(special), -1)));
      }
      pieces = next;
    }
    return pieces;
  }

  private static void countPairs(
      int[] word, long weight, int index, Map<Long, Long> counts, Map<Long, Set<Integer>> where) {
    for (int i = 0; i + 1 < word.length; i++) {
      long pair = ((long) word[i] << 32) | word[i + 1];
      long c = counts.getOrDefault(pair, 0L) + weight;
      if (c == 0) {
        counts.remove(pair);
      } else {
        counts.put(pair, c);
      }
      if (where != null) {
        where.computeIfAbsent(pair, k -> new HashSet<>()).add(index);
      }
    }
  }

  private static int[] applyMerge(int[] word, int left, int right, int merged) {
    int[] out = new int[word.length];
    int n = 0;
    for (int i = 0; i < word.length; i++) {
      if (i + 1 < word.length && word[i] == left && word[i + 1] == right) {
        out[n++] = merged;
        i++;
      } else {
        out[n++] = word[i];
      }
    }
    return java.util.Arrays.copyOf(out, n);
  }
}
