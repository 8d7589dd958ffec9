// Convention: text is released to the listener only once it can no longer change: never a
// trailing U+FFFD (a multi-byte character whose bytes are still arriving: byte-level and
// byte-fallback tokens split emoji and CJK characters across tokens), never half a surrogate pair,
// and never a tail that could be the start of a stop string. A character still incomplete when
// generation ends is dropped, so listeners and the final text only ever see whole characters.
package dev.entity.engine.generate;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Turns generated token ids into streamed text: after each token the generated ids are decoded anew
 * (byte-level tokens only make sense together), the stable new part is passed to the listener, and
 * stop strings are found, the text being cut before the first one.
 */
final class TextStream {

  private final TextDecoder decoder;
  private final List<String> stopStrings;
  private final Consumer<String> listener;
  private final List<Integer> ids = new ArrayList<>();
  private final int longestStop;
  private String text = "";
  private int emitted;
  private boolean stopped;

  TextStream(TextDecoder decoder, List<String> stopStrings, Consumer<String> listener) {
    this.decoder = decoder;
    this.stopStrings = stopStrings;
    this.listener = listener == null ? s -> {} : listener;
    this.longestStop = stopStrings.stream().mapToInt(String::length).max().orElse(0);
  }

  /** Adds a generated token; returns true when a stop string has appeared (text cut before it). */
  boolean add(int id) {
    ids.add(id);
    text = decoder.decode(ids.stream().mapToInt(Integer::intValue).toArray());
    int from = Math.max(0, emitted - longestStop);
    int cut = -1;
    for (String s : stopStrings) {
      int at = text.indexOf(s, from);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
      }
    }
    if (cut >= 0) {
      text = text.substring(0, cut);
      emitUpTo(text.length());
      stopped = true;
      return true;
    }
    int stable = completeLength();
    stable -= heldForStop(stable);
    if (stable > emitted && Character.isHighSurrogate(text.charAt(stable - 1))) {
      stable--; // never half of a character outside the BMP
    }
    emitUpTo(stable);
    return false;
  }

  /**
   * Releases whatever was held back (generation ended for another reason), except a character whose
   * bytes never all arrived: a trailing U+FFFD is cut from the text, not shown.
   */
  void finish() {
    if (!stopped) {
      text = text.substring(0, completeLength());
      emitUpTo(text.length());
    }
  }

  /** The length of the text without trailing U+FFFD that has not been released yet. */
  private int completeLength() {
    int end = text.length();
    while (end > emitted && text.charAt(end - 1) == '\uFFFD') {
      end--;
    }
    return end;
  }

  /** The text so far (cut before a stop string once one appeared). */
  String text() {
    return text;
  }

  /** Length of the longest tail of text[0, end) that is a proper prefix of a stop string. */
  private int heldForStop(int end) {
    int held = 0;
    for (String s : stopStrings) {
      for (int len = Math.min(s.length() - 1, end - emitted); len > held; len--) {
        if (text.regionMatches(end - len, s, 0, len)) {
          held = len;
          break;
        }
      }
    }
    return held;
  }

  private void emitUpTo(int end) {
    if (end > emitted) {
      listener.accept(text.substring(emitted, end));
      emitted = end;
    }
  }
}
