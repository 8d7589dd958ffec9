// Convention: every UTF-16 unit of the working text carries the [start, end) span, in UTF-16 units
// of
// the ORIGINAL input, of the character it came from (both units of a surrogate pair carry the whole
// pair's span). Inserted characters take the span of the character they were inserted next to, as
// Hugging Face's NormalizedString does, so token offsets always cover whole original characters.
package dev.entity.engine.tokenizer;

import java.util.Arrays;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A piece of text being normalized and pre-tokenized, with its alignment back to the original
 * input. Mutable and confined to one encode call; the Hugging Face {@code NormalizedString}
 * counterpart.
 */
final class NormalizedText {

  private String text;
  private int[] starts; // per UTF-16 unit of text: original start
  private int[] ends; // per UTF-16 unit of text: original end

  private NormalizedText(String text, int[] starts, int[] ends) {
    this.text = text;
    this.starts = starts;
    this.ends = ends;
  }

  /** Wraps {@code original[from, to)}; spans are offsets into {@code original}. */
  static NormalizedText of(String original, int from, int to) {
    int n = to - from;
    int[] s = new int[n];
    int[] e = new int[n];
    int i = from;
    while (i < to) {
      int cp = original.codePointAt(i);
      int len = Character.charCount(cp);
      for (int k = 0; k < len; k++) {
        s[i - from + k] = i;
        e[i - from + k] = i + len;
      }
      i += len;
    }
    return new NormalizedText(original.substring(from, to), s, e);
  }

  String text() {
    return text;
  }

  int length() {
    return text.length();
  }

  boolean isEmpty() {
    return text.isEmpty();
  }

  /** Original start of the first unit (the split's position in the input). */
  int originalStart() {
    return starts.length == 0 ? -1 : starts[0];
  }

  /** The original span covered by units {@code [from, to)}: min start, max end. */
  long originalSpan(int from, int to) {
    if (from >= to) {
      int at = from < starts.length ? starts[from] : (ends.length == 0 ? 0 : ends[ends.length - 1]);
      return pack(at, at);
    }
    int s = Integer.MAX_VALUE;
    int e = Integer.MIN_VALUE;
    for (int i = from; i < to; i++) {
      s = Math.min(s, starts[i]);
      e = Math.max(e, ends[i]);
    }
    return pack(s, e);
  }

  static long pack(int start, int end) {
    return ((long) start << 32) | (end & 0xFFFFFFFFL);
  }

  static int spanStart(long span) {
    return (int) (span >>> 32);
  }

  static int spanEnd(long span) {
    return (int) span;
  }

  NormalizedText slice(int from, int to) {
    return new NormalizedText(
        text.substring(from, to),
        Arrays.copyOfRange(starts, from, to),
        Arrays.copyOfRange(ends, from, to));
  }

  /** Prepends {@code s}; its characters take the span of the first character (HF prepend). */
  void prepend(String s) {
    if (text.isEmpty()) {
      return;
    }
    int n = s.length();
    int[] ns = new int[n + starts.length];
    int[] ne = new int[n + ends.length];
    Arrays.fill(ns, 0, n, starts[0]);
    Arrays.fill(ne, 0, n, ends[0]);
    System.arraycopy(starts, 0, ns, n, starts.length);
    System.arraycopy(ends, 0, ne, n, ends.length);
    text = s + text;
    starts = ns;
    ends = ne;
  }

  /** Appends {@code s}; its characters take the span of the last character. */
  void append(String s) {
    if (text.isEmpty()) {
      return;
    }
    int old = starts.length;
    int[] ns = Arrays.copyOf(starts, old + s.length());
    int[] ne = Arrays.copyOf(ends, old + s.length());
    Arrays.fill(ns, old, ns.length, starts[old - 1]);
    Arrays.fill(ne, old, ne.length, ends[old - 1]);
    text = text + s;
    starts = ns;
    ends = ne;
  }

  /**
   * Replaces every non-overlapping match of {@code pattern} (left to right) by {@code content}; the
   * new characters take the span of the last replaced character (HF replace).
   */
  void replace(Pattern pattern, String content) {
    Matcher m = pattern.matcher(text);
    if (!m.find()) {
      return;
    }
    StringBuilder out = new StringBuilder(text.length());
    IntList os = new IntList(text.length());
    IntList oe = new IntList(text.length());
    int i = 0;
    do {
      if (m.end() == m.start()) {
        continue;
      }
      for (; i < m.start(); i++) {
        out.append(text.charAt(i));
        os.add(starts[i]);
        oe.add(ends[i]);
      }
      int last = m.end() - 1;
      for (int k = 0; k < content.length(); k++) {
        os.add(starts[last]);
        oe.add(ends[last]);
      }
      out.append(content);
      i = m.end();
    } while (m.find());
    for (; i < text.length(); i++) {
      out.append(text.charAt(i));
      os.add(starts[i]);
      oe.add(ends[i]);
    }
    text = out.toString();
    starts = os.toArray();
    ends = oe.toArray();
  }

  /**
   * Maps every code point to a replacement string; all units of the replacement take the span of
   * the source code point (used by lowercasing and the byte-level alphabet).
   */
  void mapCodePoints(IntFunction<String> mapping) {
    StringBuilder out = new StringBuilder(text.length() * 2);
    IntList os = new IntList(text.length() * 2);
    IntList oe = new IntList(text.length() * 2);
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      String r = mapping.apply(cp);
      for (int k = 0; k < r.length(); k++) {
        os.add(starts[i]);
        oe.add(ends[i]);
      }
      out.append(r);
      i += Character.charCount(cp);
    }
    text = out.toString();
    starts = os.toArray();
    ends = oe.toArray();
  }

  /**
   * Replaces the whole text by {@code result}, where {@code sourceOf[j]} is the index (in the
   * current text) of the unit that output unit {@code j} takes its span from.
   */
  void rewrite(String result, int[] sourceOf) {
    int[] ns = new int[result.length()];
    int[] ne = new int[result.length()];
    for (int j = 0; j < ns.length; j++) {
      ns[j] = starts[sourceOf[j]];
      ne[j] = ends[sourceOf[j]];
    }
    text = result;
    starts = ns;
    ends = ne;
  }

  /** Removes leading and trailing characters matching the whitespace rule of HF Strip. */
  void strip(boolean left, boolean right) {
    int from = 0;
    int to = text.length();
    if (left) {
      while (from < to && Character.isWhitespace(text.codePointAt(from))) {
        from += Character.charCount(text.codePointAt(from));
      }
    }
    if (right) {
      while (to > from && Character.isWhitespace(text.codePointBefore(to))) {
        to -= Character.charCount(text.codePointBefore(to));
      }
    }
    if (from != 0 || to != text.length()) {
      NormalizedText s = slice(from, to);
      text = s.text;
      starts = s.starts;
      ends = s.ends;
    }
  }

  /** A growable int array. */
  static final class IntList {
    private int[] a;
    private int n;

    IntList(int capacity) {
      a = new int[Math.max(4, capacity)];
    }

    void add(int v) {
      if (n == a.length) {
        a = Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    int size() {
      return n;
    }

    int get(int i) {
      return a[i];
    }

    int[] toArray() {
      return Arrays.copyOf(a, n);
    }
  }
}
