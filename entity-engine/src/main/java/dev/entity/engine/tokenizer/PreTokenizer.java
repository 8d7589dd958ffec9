// Convention: pre-tokenizers split a list of pieces into a finer list, in order, dropping empty
// pieces; patterns are java.util.regex Patterns compiled by RegexTranslation so that they match as
// Oniguruma does in Hugging Face tokenizers (Unicode \s, Unicode case folding).
package dev.entity.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code pre_tokenizer} section of a {@code tokenizer.json}: Split, ByteLevel, Metaspace,
 * Digits and Sequence, the forms used by GPT-2, Llama 2/3, Mistral, TinyLlama and Qwen2.
 */
sealed interface PreTokenizer {

  /** The GPT-2 split pattern, used by ByteLevel with {@code use_regex}. */
  String GPT2_PATTERN =
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

  /** The Split pattern of Llama 3 (and 3.1/3.2). */
  String LLAMA3_PATTERN =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
          + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  /** The Split pattern of Qwen2 (and 2.5): Llama 3's with single digits. */
  String QWEN2_PATTERN =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
          + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  List<NormalizedText> preTokenize(List<NormalizedText> pieces);

  /** How a Split pre-tokenizer treats the matched delimiters. */
  enum Behavior {
    REMOVED,
    ISOLATED,
    MERGED_WITH_PREVIOUS,
    MERGED_WITH_NEXT,
    CONTIGUOUS
  }

  /** {@code Split}: splits each piece on a pattern. */
  record Split(Pattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {
    @Override
    public List<NormalizedText> preTokenize(List<NormalizedText> pieces) {
      List<NormalizedText> out = new ArrayList<>();
      for (NormalizedText p : pieces) {
        split(p, pattern, behavior, invert, out);
      }
      return out;
    }
  }

  /** {@code ByteLevel}: optional prefix space, optional GPT-2 split, then the byte alphabet. */
  record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
    private static final Pattern GPT2 = RegexTranslation.compile(GPT2_PATTERN);

    @Override
    public List<NormalizedText> preTokenize(List<NormalizedText> pieces) {
      List<NormalizedText> out = new ArrayList<>();
      for (NormalizedText p : pieces) {
        if (addPrefixSpace && !p.text().startsWith(" ")) {
          p.prepend(" ");
        }
        if (useRegex) {
          split(p, GPT2, Behavior.ISOLATED, false, out);
        } else if (!p.isEmpty()) {
          out.add(p);
        }
      }
      for (NormalizedText p : out) {
        toByteAlphabet(p);
      }
      return out;
    }

    static void toByteAlphabet(NormalizedText p) {
      p.mapCodePoints(ByteLevelAlphabet::encodeCodePoint);
    }
  }

  /** When Metaspace prepends the replacement character. */
  enum PrependScheme {
    ALWAYS,
    FIRST,
    NEVER
  }

  /** {@code Metaspace}: spaces become {@code ▁}, a prefix {@code ▁} per the scheme. */
  record Metaspace(String replacement, PrependScheme prependScheme, boolean split)
      implements PreTokenizer {
    @Override
    public List<NormalizedText> preTokenize(List<NormalizedText> pieces) {
      List<NormalizedText> out = new ArrayList<>();
      Pattern space = Pattern.compile(" ", Pattern.LITERAL);
      for (NormalizedText p : pieces) {
        p.replace(space, replacement);
        boolean prepend =
            switch (prependScheme) {
              case ALWAYS -> !p.text().startsWith(replacement);
              case FIRST -> !p.text().startsWith(replacement) && p.originalStart() == 0;
              case NEVER -> false;
            };
        if (prepend) {
          p.prepend(replacement);
        }
        if (split) {
          PreTokenizer.split(
              p,
              Pattern.compile(replacement, Pattern.LITERAL),
              Behavior.MERGED_WITH_NEXT,
              false,
              out);
        } else if (!p.isEmpty()) {
          out.add(p);
        }
      }
      return out;
    }
  }

  /** {@code Digits}: isolates each digit, or runs of digits. */
  record Digits(boolean individualDigits) implements PreTokenizer {
    private static final Pattern DIGIT = Pattern.compile("\\p{N}");

    @Override
    public List<NormalizedText> preTokenize(List<NormalizedText> pieces) {
      List<NormalizedText> out = new ArrayList<>();
      for (NormalizedText p : pieces) {
        split(p, DIGIT, individualDigits ? Behavior.ISOLATED : Behavior.CONTIGUOUS, false, out);
      }
      return out;
    }
  }

  /** {@code Sequence}: applies each pre-tokenizer to the pieces of the previous one. */
  record Sequence(List<PreTokenizer> preTokenizers) implements PreTokenizer {
    @Override
    public List<NormalizedText> preTokenize(List<NormalizedText> pieces) {
      List<NormalizedText> current = pieces;
      for (PreTokenizer p : preTokenizers) {
        current = p.preTokenize(current);
      }
      return current;
    }
  }

  /**
   * HF {@code NormalizedString::split}: pattern matches, then the behaviour, empty pieces dropped.
   */
  static void split(
      NormalizedText p,
      Pattern pattern,
      Behavior behavior,
      boolean invert,
      List<NormalizedText> out) {
    String s = p.text();
    if (s.isEmpty()) {
      return;
    }
    // (start, end, isMatch) triples covering the whole text
    List<int[]> parts = new ArrayList<>();
    Matcher m = pattern.matcher(s);
    int prev = 0;
    while (m.find()) {
      if (prev != m.start()) {
        parts.add(new int[] {prev, m.start(), invert ? 1 : 0});
      }
      parts.add(new int[] {m.start(), m.end(), invert ? 0 : 1});
      prev = m.end();
    }
    if (prev != s.length()) {
      parts.add(new int[] {prev, s.length(), invert ? 1 : 0});
    }
    List<int[]> spans = new ArrayList<>();
    switch (behavior) {
      case ISOLATED -> {
        for (int[] part : parts) {
          spans.add(new int[] {part[0], part[1]});
        }
      }
      case REMOVED -> {
        for (int[] part : parts) {
          if (part[2] == 0) {
            spans.add(new int[] {part[0], part[1]});
          }
        }
      }
      case MERGED_WITH_PREVIOUS -> {
        boolean previousMatch = false;
        for (int[] part : parts) {
          if (part[2] == 1 && !spans.isEmpty() && !previousMatch) {
            spans.getLast()[1] = part[1];
          } else {
            spans.add(new int[] {part[0], part[1]});
          }
          previousMatch = part[2] == 1;
        }
      }
      case MERGED_WITH_NEXT -> {
        boolean previousMatch = false;
        for (int[] part : parts) {
          if (part[2] == 0 && !spans.isEmpty() && previousMatch) {
            spans.getLast()[1] = part[1];
          } else {
            spans.add(new int[] {part[0], part[1]});
          }
          previousMatch = part[2] == 1;
        }
      }
      case CONTIGUOUS -> {
        boolean previousMatch = false;
        for (int[] part : parts) {
          if (part[2] == 1 && previousMatch && !spans.isEmpty()) {
            spans.getLast()[1] = part[1];
          } else {
            spans.add(new int[] {part[0], part[1]});
          }
          previousMatch = part[2] == 1;
        }
      }
    }
    for (int[] span : spans) {
      if (span[1] > span[0]) {
        out.add(p.slice(span[0], span[1]));
      }
    }
  }
}
