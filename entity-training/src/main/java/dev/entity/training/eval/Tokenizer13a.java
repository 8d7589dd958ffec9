// Convention: the steps and their order are sacrebleu's Tokenizer13a (mteval-v13a): plain string
// replacements first (<skipped>, "-\n", "\n", then the four entities, each replace applied to the
// result of the previous one, so "&amp;lt;" becomes "<"), then four regex passes, each a single
// left-to-right non-overlapping substitution over the whole line, exactly like Python's re.sub.
package dev.entity.training.eval;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The 13a tokenizer that sacrebleu uses by default for BLEU (the language-independent part of
 * NIST's mteval-v13a.pl plus its Western punctuation rules): splits punctuation and symbols off
 * words, splits periods and commas except between digits, splits a dash after a digit, and
 * collapses whitespace. Case is kept; no Unicode normalization is done.
 */
public final class Tokenizer13a {

  // Python: ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> ' \1 '
  private static final Pattern SYMBOLS = Pattern.compile("([{-~\\[-` -&(-+:-@/])");
  // period and comma unless preceded by a digit
  private static final Pattern NOT_DIGIT_BEFORE = Pattern.compile("([^0-9])([.,])");
  // period and comma unless followed by a digit
  private static final Pattern NOT_DIGIT_AFTER = Pattern.compile("([.,])([^0-9])");
  // dash after a digit
  private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

  private Tokenizer13a() {}

  /**
   * Tokenizes one segment as {@code sacrebleu}'s BLEU does: trailing whitespace is removed first
   * (BLEU's preprocessing), and the tokens come back joined by single spaces.
   */
  public static String tokenize(String segment) {
    String line = PythonWhitespace.rstrip(segment);
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
    if (line.indexOf('&') >= 0) {
      line =
          line.replace("&quot;", "\"")
              .replace("&amp;", "&")
              .replace("&lt;", "<")
              .replace("&gt;", ">");
    }
    line = " " + line + " ";
    line = SYMBOLS.matcher(line).replaceAll(" $1 ");
    line = NOT_DIGIT_BEFORE.matcher(line).replaceAll("$1 $2 ");
    line = NOT_DIGIT_AFTER.matcher(line).replaceAll(" $1 $2");
    line = DASH_AFTER_DIGIT.matcher(line).replaceAll("$1 $2 ");
    return String.join(" ", PythonWhitespace.split(line));
  }

  /** The tokens of {@link #tokenize(String)}, split on Python whitespace. */
  public static List<String> tokens(String segment) {
    return PythonWhitespace.split(tokenize(segment));
  }
}
