// Convention: Hugging Face tokenizers compiles Split patterns with Oniguruma, where \s, \d and
// \w are Unicode-aware and (?i) folds case by Unicode rules; java.util.regex needs
// UNICODE_CHARACTER_CLASS and UNICODE_CASE for the same meaning. Syntax that Java reads differently
// from Oniguruma is refused rather than silently mistranslated.
package dev.entity.engine.tokenizer;

import dev.entity.engine.EngineException;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Compiles the regex patterns of {@code tokenizer.json} so they match as Oniguruma does. */
final class RegexTranslation {

  private RegexTranslation() {}

  static Pattern compile(String onigPattern) {
    if (onigPattern.contains("[[:") || onigPattern.contains("\\h") || onigPattern.contains("\\K")) {
      throw new EngineException(
          "regex '"
              + onigPattern
              + "' uses Oniguruma syntax (POSIX brackets, \\h or \\K) that has no exact Java"
              + " equivalent; supported: the Split patterns of GPT-2, Llama 3 and Qwen2 style"
              + " tokenizers");
    }
    try {
      return Pattern.compile(onigPattern, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE);
    } catch (PatternSyntaxException e) {
      throw new EngineException(
          "regex '" + onigPattern + "' is not a valid pattern: " + e.getDescription(), e);
    }
  }
}
