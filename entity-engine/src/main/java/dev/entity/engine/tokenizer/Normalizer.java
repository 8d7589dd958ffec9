// Convention: a normalizer rewrites a NormalizedText in place and keeps every unit aligned to the
// original input; Unicode normalization is applied per combining sequence so that alignment stays
// character-accurate (a composed character takes the span of its base character, as in HF).
package dev.entity.engine.tokenizer;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code normalizer} section of a {@code tokenizer.json}: the Hugging Face normalizers the
 * supported model families use (Unicode normal forms, Prepend, Replace, Lowercase, Strip and
 * Sequence).
 */
sealed interface Normalizer {

  void normalize(NormalizedText text);

  /** {@code NFC}, {@code NFD}, {@code NFKC} or {@code NFKD}. */
  record Unicode(java.text.Normalizer.Form form) implements Normalizer {
    @Override
    public void normalize(NormalizedText t) {
      String s = t.text();
      if (java.text.Normalizer.isNormalized(s, form)) {
        return;
      }
      StringBuilder out = new StringBuilder(s.length() + 8);
      NormalizedText.IntList source = new NormalizedText.IntList(s.length() + 8);
      int i = 0;
      while (i < s.length()) {
        int end = i + Character.charCount(s.codePointAt(i));
        while (end < s.length() && isCombining(s.codePointAt(end))) {
          end += Character.charCount(s.codePointAt(end));
        }
        String chunk = s.substring(i, end);
        String norm = java.text.Normalizer.normalize(chunk, form);
        int[] inCps = chunk.codePoints().toArray();
        int[] inIndex = new int[inCps.length];
        for (int k = 0, pos = i; k < inCps.length; k++) {
          inIndex[k] = pos;
          pos += Character.charCount(inCps[k]);
        }
        // an output character takes the span of the input character where it starts; a composed
        // one then skips the inputs it absorbed (its canonical decomposition length), as HF aligns
        int k = 0;
        for (int j = 0; j < norm.length(); ) {
          int cp = norm.codePointAt(j);
          int src = inIndex[Math.min(k, inIndex.length - 1)];
          for (int u = 0; u < Character.charCount(cp); u++) {
            source.add(src);
          }
          out.appendCodePoint(cp);
          j += Character.charCount(cp);
          String single = new String(Character.toChars(cp));
          k +=
              (int)
                  java.text.Normalizer.normalize(single, java.text.Normalizer.Form.NFD)
                      .codePoints()
                      .count();
        }
        i = end;
      }
      t.rewrite(out.toString(), source.toArray());
    }

    /** Continues a combining sequence: marks, and Hangul medial/final jamo that compose. */
    private static boolean isCombining(int cp) {
      if ((cp >= 0x1160 && cp <= 0x11FF) || (cp >= 0xD7B0 && cp <= 0xD7FF)) {
        return true;
      }
      int type = Character.getType(cp);
      return type == Character.NON_SPACING_MARK
          || type == Character.COMBINING_SPACING_MARK
          || type == Character.ENCLOSING_MARK;
    }
  }

  /** {@code Prepend}: prefixes a non-empty text. */
  record Prepend(String prefix) implements Normalizer {
    @Override
    public void normalize(NormalizedText t) {
      t.prepend(prefix);
    }
  }

  /** {@code Replace}: a literal or regex pattern replaced by content. */
  record Replace(Pattern pattern, String content) implements Normalizer {
    @Override
    public void normalize(NormalizedText t) {
      t.replace(pattern, content);
    }
  }

  /** {@code Lowercase}. */
  record Lowercase() implements Normalizer {
    @Override
    public void normalize(NormalizedText t) {
      t.mapCodePoints(cp -> new String(Character.toChars(cp)).toLowerCase(java.util.Locale.ROOT));
    }
  }

  /** {@code Strip}: removes leading and/or trailing whitespace. */
  record Strip(boolean left, boolean right) implements Normalizer {
    @Override
    public void normalize(NormalizedText t) {
      t.strip(left, right);
    }
  }

  /** {@code Sequence}: applies each normalizer in order. */
  record Sequence(List<Normalizer> normalizers) implements Normalizer {
    @Override
    public void normalize(NormalizedText t) {
      for (Normalizer n : normalizers) {
        n.normalize(t);
      }
    }
  }
}
