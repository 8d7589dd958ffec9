// Convention: "whitespace" here is exactly Python 3's str.isspace set (what str.split() and
// str.rstrip() use), not Java's Character.isWhitespace: it includes U+00A0, U+2007, U+202F and
// U+0085 and the separators U+001C..U+001F, so a hypothesis splits into the tokens sacrebleu sees.
package dev.entity.training.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Python's whitespace rules, for the metrics whose reference implementations split strings with
 * {@code str.split()} and trim them with {@code str.rstrip()}. Package-private: only the metric
 * code needs to agree with Python on what a space is.
 */
final class PythonWhitespace {

  private PythonWhitespace() {}

  /** Python's {@code str.isspace()} for one code point. */
  static boolean isSpace(int cp) {
    return switch (cp) {
      case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680 -> true;
      case 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
      default -> cp >= 0x2000 && cp <= 0x200A;
    };
  }

  /** Python's {@code s.split()}: runs of whitespace separate tokens; no empty tokens. */
  static List<String> split(String s) {
    List<String> tokens = new ArrayList<>();
    int start = -1;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      if (isSpace(cp)) {
        if (start >= 0) {
          tokens.add(s.substring(start, i));
          start = -1;
        }
      } else if (start < 0) {
        start = i;
      }
      i += Character.charCount(cp);
    }
    if (start >= 0) {
      tokens.add(s.substring(start));
    }
    return tokens;
  }

  /** Python's {@code s.rstrip()}. */
  static String rstrip(String s) {
    int end = s.length();
    while (end > 0) {
      int cp = s.codePointBefore(end);
      if (!isSpace(cp)) {
        break;
      }
      end -= Character.charCount(cp);
    }
    return s.substring(0, end);
  }
}
