// Convention: this is NLTK's PorterStemmer in its default NLTK_EXTENSIONS mode (checked against
// nltk 3.10.3), not Porter's original 1980 algorithm: the irregular-form pool, "ies"/"ied" on
// four-letter words, the y->i rule that needs a consonant before the y, "bli"/"fulli"/"logi" in
// step 2, and a two-letter vowel-consonant word counting as *o. Each rule list stops at the FIRST
// suffix that matches, whether or not its condition holds, as NLTK's _apply_rule_list does.
package dev.entity.training.eval;

import java.util.Map;
import java.util.function.Predicate;

/**
 * The Porter stemmer as rouge-score uses it ({@code nltk.stem.porter.PorterStemmer()}) for {@code
 * use_stemmer=True}. Input is expected lowercase, as rouge-score's tokenizer produces it.
 */
public final class PorterStemmer {

  private static final Map<String, String> IRREGULAR =
      Map.ofEntries(
          Map.entry("sky", "sky"),
          Map.entry("skies", "sky"),
          Map.entry("dying", "die"),
          Map.entry("lying", "lie"),
          Map.entry("tying", "tie"),
          Map.entry("news", "news"),
          Map.entry("innings", "inning"),
          Map.entry("inning", "inning"),
          Map.entry("outings", "outing"),
          Map.entry("outing", "outing"),
          Map.entry("cannings", "canning"),
          Map.entry("canning", "canning"),
          Map.entry("howe", "howe"),
          Map.entry("proceed", "proceed"),
          Map.entry("exceed", "exceed"),
          Map.entry("succeed", "succeed"));

  private record Rule(String suffix, String replacement, Predicate<String> condition) {}

  private static final Predicate<String> M_GT_0 = s -> measure(s) > 0;
  private static final Predicate<String> M_GT_1 = s -> measure(s) > 1;

  private static final Rule[] STEP2 = {
    new Rule("ational", "ate", M_GT_0),
    new Rule("tional", "tion", M_GT_0),
    new Rule("enci", "ence", M_GT_0),
    new Rule("anci", "ance", M_GT_0),
    new Rule("izer", "ize", M_GT_0),
    new Rule("bli", "ble", M_GT_0),
    new Rule("alli", "al", M_GT_0),
    new Rule("entli", "ent", M_GT_0),
    new Rule("eli", "e", M_GT_0),
    new Rule("ousli", "ous", M_GT_0),
    new Rule("ization", "ize", M_GT_0),
    new Rule("ation", "ate", M_GT_0),
    new Rule("ator", "ate", M_GT_0),
    new Rule("alism", "al", M_GT_0),
    new Rule("iveness", "ive", M_GT_0),
    new Rule("fulness", "ful", M_GT_0),
    new Rule("ousness", "ous", M_GT_0),
    new Rule("aliti", "al", M_GT_0),
    new Rule("iviti", "ive", M_GT_0),
    new Rule("biliti", "ble", M_GT_0),
    new Rule("fulli", "ful", M_GT_0),
    // NLTK measures the word less "ogi" (the stem plus "l"), not the stem
    new Rule("logi", "log", stem -> measure(stem + "l") > 0),
  };

  private static final Rule[] STEP3 = {
    new Rule("icate", "ic", M_GT_0),
    new Rule("ative", "", M_GT_0),
    new Rule("alize", "al", M_GT_0),
    new Rule("iciti", "ic", M_GT_0),
    new Rule("ical", "ic", M_GT_0),
    new Rule("ful", "", M_GT_0),
    new Rule("ness", "", M_GT_0),
  };

  private static final Rule[] STEP4 = {
    new Rule("al", "", M_GT_1),
    new Rule("ance", "", M_GT_1),
    new Rule("ence", "", M_GT_1),
    new Rule("er", "", M_GT_1),
    new Rule("ic", "", M_GT_1),
    new Rule("able", "", M_GT_1),
    new Rule("ible", "", M_GT_1),
    new Rule("ant", "", M_GT_1),
    new Rule("ement", "", M_GT_1),
    new Rule("ment", "", M_GT_1),
    new Rule("ent", "", M_GT_1),
    new Rule("ion", "", s -> measure(s) > 1 && (s.endsWith("s") || s.endsWith("t"))),
    new Rule("ou", "", M_GT_1),
    new Rule("ism", "", M_GT_1),
    new Rule("ate", "", M_GT_1),
    new Rule("iti", "", M_GT_1),
    new Rule("ous", "", M_GT_1),
    new Rule("ive", "", M_GT_1),
    new Rule("ize", "", M_GT_1),
  };

  private PorterStemmer() {}

  /** The stem of a lowercase word. */
  public static String stem(String word) {
    String irregular = IRREGULAR.get(word);
    if (irregular != null) {
      return irregular;
    }
    if (word.length() <= 2) {
      return word;
    }
    String s = step1a(word);
    s = step1b(s);
    s = step1c(s);
    s = step2(s);
    s = apply(s, STEP3);
    s = apply(s, STEP4);
    s = step5a(s);
    return step5b(s);
  }

  private static String apply(String word, Rule[] rules) {
    for (Rule rule : rules) {
      if (word.endsWith(rule.suffix())) {
        String stem = word.substring(0, word.length() - rule.suffix().length());
        return rule.condition().test(stem) ? stem + rule.replacement() : word;
      }
    }
    return word;
  }

  private static boolean isVowelLetter(char c) {
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
  }

  // A 'y' is a consonant at the start of a word or after a vowel; walking back over a run of y's
  // (instead of recursing) keeps hostile "yyyy..." tokens from overflowing the stack.
  private static boolean isConsonant(String w, int i) {
    char c = w.charAt(i);
    if (isVowelLetter(c)) {
      return false;
    }
    if (c != 'y') {
      return true;
    }
    boolean negate = false;
    int j = i;
    while (j > 0 && w.charAt(j) == 'y') {
      negate = !negate;
      j--;
    }
    return !isVowelLetter(w.charAt(j)) != negate;
  }

  // m in [C](VC){m}[V]: the number of vowel-to-consonant transitions.
  static int measure(String s) {
    int m = 0;
    boolean prevVowel = false;
    boolean prevConsonant = true;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean consonant = !isVowelLetter(c) && (c != 'y' || i == 0 || !prevConsonant);
      if (consonant && prevVowel) {
        m++;
      }
      prevVowel = !consonant;
      prevConsonant = consonant;
    }
    return m;
  }

  // Until the first vowel every letter is a consonant, so a 'y' after position 0 is a vowel.
  private static boolean containsVowel(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (isVowelLetter(c) || c == 'y' && i > 0) {
        return true;
      }
    }
    return false;
  }

  private static boolean endsDoubleConsonant(String w) {
    int n = w.length();
    return n >= 2 && w.charAt(n - 1) == w.charAt(n - 2) && isConsonant(w, n - 1);
  }

  // *o: consonant-vowel-consonant, the last not w, x or y; or (NLTK) a two-letter vowel-consonant.
  private static boolean endsCvc(String w) {
    int n = w.length();
    if (n >= 3
        && isConsonant(w, n - 3)
        && !isConsonant(w, n - 2)
        && isConsonant(w, n - 1)
        && "wxy".indexOf(w.charAt(n - 1)) < 0) {
      return true;
    }
    return n == 2 && !isConsonant(w, 0) && isConsonant(w, 1);
  }

  private static String cut(String w, int suffixLength) {
    return w.substring(0, w.length() - suffixLength);
  }

  private static String step1a(String w) {
    if (w.endsWith("ies") && w.length() == 4) {
      return cut(w, 3) + "ie";
    }
    if (w.endsWith("sses")) {
      return cut(w, 4) + "ss";
    }
    if (w.endsWith("ies")) {
      return cut(w, 3) + "i";
    }
    if (w.endsWith("ss")) {
      return w;
    }
    return w.endsWith("s") ? cut(w, 1) : w;
  }

  private static String step1b(String w) {
    if (w.endsWith("ied")) {
      return cut(w, 3) + (w.length() == 4 ? "ie" : "i");
    }
    if (w.endsWith("eed")) {
      String stem = cut(w, 3);
      return measure(stem) > 0 ? stem + "ee" : w;
    }
    String s;
    if (w.endsWith("ed") && containsVowel(cut(w, 2))) {
      s = cut(w, 2);
    } else if (w.endsWith("ing") && containsVowel(cut(w, 3))) {
      s = cut(w, 3);
    } else {
      return w;
    }
    if (s.endsWith("at") || s.endsWith("bl") || s.endsWith("iz")) {
      return s + "e";
    }
    if (endsDoubleConsonant(s)) {
      char last = s.charAt(s.length() - 1);
      return last == 'l' || last == 's' || last == 'z' ? s : cut(s, 1);
    }
    return measure(s) == 1 && endsCvc(s) ? s + "e" : s;
  }

  private static String step1c(String w) {
    if (w.endsWith("y")) {
      String stem = cut(w, 1);
      return stem.length() > 1 && isConsonant(stem, stem.length() - 1) ? stem + "i" : w;
    }
    return w;
  }

  private static String step2(String w) {
    if (w.endsWith("alli") && measure(cut(w, 4)) > 0) {
      return step2(cut(w, 4) + "al");
    }
    return apply(w, STEP2);
  }

  private static String step5a(String w) {
    if (w.endsWith("e")) {
      String stem = cut(w, 1);
      int m = measure(stem);
      if (m > 1 || m == 1 && !endsCvc(stem)) {
        return stem;
      }
    }
    return w;
  }

  private static String step5b(String w) {
    return w.endsWith("ll") && measure(cut(w, 1)) > 1 ? cut(w, 1) : w;
  }
}
