// Convention: matching is leftmost-longest over the input (the aho-corasick LeftmostLongest mode HF
// uses); after a match is accepted or discarded (single_word), the scan resumes at the end of the
// matched content, not of the whitespace that lstrip/rstrip absorbed.
package dev.entity.engine.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The added tokens of a tokenizer and the splitting of input text around them, in HF's two passes:
 * tokens with {@code normalized=false} in the raw text, the others in the normalized text.
 */
final class AddedVocabulary {

  /** A split of the input: {@code tokenId} is -1 for plain text in {@code [start, end)}. */
  record Segment(int tokenId, int start, int end) {}

  private final List<AddedToken> tokens;
  private final Map<Character, List<AddedToken>> raw = new HashMap<>();
  private final Map<Character, List<AddedToken>> normalized = new HashMap<>();

  AddedVocabulary(List<AddedToken> tokens) {
    this.tokens = List.copyOf(tokens);
    for (AddedToken t : tokens) {
      if (t.content().isEmpty()) {
        continue;
      }
      (t.normalized() ? normalized : raw)
          .computeIfAbsent(t.content().charAt(0), k -> new ArrayList<>())
          .add(t);
    }
    Comparator<AddedToken> longestFirst =
        Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed();
    raw.values().forEach(l -> l.sort(longestFirst));
    normalized.values().forEach(l -> l.sort(longestFirst));
  }

  List<AddedToken> tokens() {
    return tokens;
  }

  boolean hasNormalizedTokens() {
    return !normalized.isEmpty();
  }

  /** Splits {@code s} around added tokens of one pass; specials are skipped if given as text. */
  List<Segment> split(String s, boolean normalizedPass, boolean specialsAsText) {
    Map<Character, List<AddedToken>> index = normalizedPass ? normalized : raw;
    List<Segment> out = new ArrayList<>();
    if (index.isEmpty() || s.isEmpty()) {
      out.add(new Segment(-1, 0, s.length()));
      return out;
    }
    int startOffset = 0;
    int i = 0;
    while (i < s.length()) {
      AddedToken match = longestAt(index, s, i);
      if (match == null) {
        i++;
        continue;
      }
      int start = i;
      int stop = i + match.content().length();
      i = stop;
      if (specialsAsText && match.special()) {
        continue;
      }
      if (match.singleWord()) {
        boolean startOk = start == 0 || !isWordChar(s.codePointBefore(start));
        boolean stopOk = stop == s.length() || !isWordChar(s.codePointAt(stop));
        if (!startOk || !stopOk) {
          continue;
        }
      }
      if (match.lstrip()) {
        int newStart = start;
        while (newStart > 0 && isWhiteSpace(s.codePointBefore(newStart))) {
          newStart -= Character.charCount(s.codePointBefore(newStart));
        }
        start = Math.max(newStart, startOffset);
      }
      if (match.rstrip()) {
        while (stop < s.length() && isWhiteSpace(s.codePointAt(stop))) {
          stop += Character.charCount(s.codePointAt(stop));
        }
      }
      if (startOffset < start) {
        out.add(new Segment(-1, startOffset, start));
      }
      out.add(new Segment(match.id(), start, stop));
      startOffset = stop;
    }
    if (startOffset != s.length()) {
      out.add(new Segment(-1, startOffset, s.length()));
    }
    return out;
  }

  private static AddedToken longestAt(Map<Character, List<AddedToken>> index, String s, int i) {
    List<AddedToken> candidates = index.get(s.charAt(i));
    if (candidates == null) {
      return null;
    }
    for (AddedToken t : candidates) {
      if (s.startsWith(t.content(), i)) {
        return t;
      }
    }
    return null;
  }

  /** Rust {@code char::is_whitespace}: the Unicode White_Space property. */
  static boolean isWhiteSpace(int cp) {
    return (cp >= 0x09 && cp <= 0x0D)
        || cp == 0x20
        || cp == 0x85
        || cp == 0xA0
        || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200A)
        || cp == 0x2028
        || cp == 0x2029
        || cp == 0x202F
        || cp == 0x205F
        || cp == 0x3000;
  }

  /** Regex {@code \w} in Unicode mode. */
  private static boolean isWordChar(int cp) {
    int type = Character.getType(cp);
    return Character.isLetterOrDigit(cp)
        || cp == '_'
        || type == Character.NON_SPACING_MARK
        || type == Character.COMBINING_SPACING_MARK
        || type == Character.ENCLOSING_MARK
        || type == Character.CONNECTOR_PUNCTUATION
        || type == Character.LETTER_NUMBER
        || type == Character.OTHER_NUMBER;
  }
}
