// Convention: decoders work on the list of token strings, each step returning a new list
// (HF decode_chain); the final text is the concatenation of the last list. Invalid UTF-8 becomes
// U+FFFD per maximal ill-formed subpart, as Rust's String::from_utf8_lossy does.
package dev.entity.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code decoder} section of a {@code tokenizer.json}: ByteLevel, Metaspace, Replace,
 * ByteFallback, Fuse, Strip and Sequence.
 */
sealed interface Decoder {

  List<String> decodeChain(List<String> tokens);

  /** {@code ByteLevel}: all tokens to bytes, then lossy UTF-8. */
  record ByteLevel() implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (String t : tokens) {
        ByteLevelAlphabet.appendBytes(t, bytes);
      }
      return List.of(decodeUtf8Lossy(bytes.toByteArray()));
    }
  }

  /**
   * {@code Metaspace}: the replacement becomes a space; dropped in the first token if prepended.
   */
  record Metaspace(char replacement, PreTokenizer.PrependScheme prependScheme) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> out = new ArrayList<>(tokens.size());
      for (int i = 0; i < tokens.size(); i++) {
        StringBuilder sb = new StringBuilder();
        for (char c : tokens.get(i).toCharArray()) {
          if (c == replacement) {
            if (!(i == 0 && prependScheme != PreTokenizer.PrependScheme.NEVER)) {
              sb.append(' ');
            }
          } else {
            sb.append(c);
          }
        }
        out.add(sb.toString());
      }
      return out;
    }
  }

  /** {@code Replace}: a literal in every token. */
  record Replace(String pattern, String content) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> out = new ArrayList<>(tokens.size());
      for (String t : tokens) {
        out.add(pattern.isEmpty() ? t : t.replace(pattern, content));
      }
      return out;
    }
  }

  /** {@code ByteFallback}: runs of {@code <0xNN>} tokens become their UTF-8 text. */
  record ByteFallback() implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> out = new ArrayList<>(tokens.size());
      ByteArrayOutputStream pending = new ByteArrayOutputStream();
      for (String t : tokens) {
        int b = byteToken(t);
        if (b >= 0) {
          pending.write(b);
          continue;
        }
        flush(pending, out);
        out.add(t);
      }
      flush(pending, out);
      return out;
    }

    private static void flush(ByteArrayOutputStream pending, List<String> out) {
      if (pending.size() == 0) {
        return;
      }
      byte[] bytes = pending.toByteArray();
      pending.reset();
      if (isValidUtf8(bytes)) {
        out.add(new String(bytes, StandardCharsets.UTF_8));
      } else {
        for (int i = 0; i < bytes.length; i++) {
          out.add("\uFFFD");
        }
      }
    }

    static int byteToken(String t) {
      if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
        int hi = Character.digit(t.charAt(3), 16);
        int lo = Character.digit(t.charAt(4), 16);
        if (hi >= 0 && lo >= 0) {
          return hi * 16 + lo;
        }
      }
      return -1;
    }
  }

  /** {@code Fuse}: all tokens into one. */
  record Fuse() implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      return List.of(String.join("", tokens));
    }
  }

  /** {@code Strip}: up to {@code start} leading and {@code stop} trailing {@code content} chars. */
  record Strip(int content, int start, int stop) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> out = new ArrayList<>(tokens.size());
      for (String t : tokens) {
        int[] cps = t.codePoints().toArray();
        int from = 0;
        while (from < start && from < cps.length && cps[from] == content) {
          from++;
        }
        int to = cps.length;
        for (int i = 0; i < stop && to - 1 >= from && cps[to - 1] == content; i++) {
          to--;
        }
        out.add(new String(cps, from, to - from));
      }
      return out;
    }
  }

  /** {@code Sequence}: each decoder on the output of the previous one. */
  record Sequence(List<Decoder> decoders) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> current = tokens;
      for (Decoder d : decoders) {
        current = d.decodeChain(current);
      }
      return current;
    }
  }

  /** Strict UTF-8 validity (no surrogates, no overlongs, at most U+10FFFF). */
  static boolean isValidUtf8(byte[] b) {
    int i = 0;
    while (i < b.length) {
      int n = validSequenceLength(b, i);
      if (n <= 0) {
        return false;
      }
      i += n;
    }
    return true;
  }

  /** Decodes UTF-8, replacing each maximal ill-formed subpart with U+FFFD. */
  static String decodeUtf8Lossy(byte[] b) {
    StringBuilder sb = new StringBuilder(b.length);
    int i = 0;
    while (i < b.length) {
      int n = validSequenceLength(b, i);
      if (n > 0) {
        sb.append(new String(b, i, n, StandardCharsets.UTF_8));
        i += n;
      } else {
        sb.append('\uFFFD');
        i += Math.max(1, -n);
      }
    }
    return sb.toString();
  }

  /**
   * Length of the well-formed sequence at {@code i}, or minus the length of the maximal ill-formed
   * subpart (at least 1) to replace with one U+FFFD.
   */
  private static int validSequenceLength(byte[] b, int i) {
    int c = b[i] & 0xFF;
    if (c < 0x80) {
      return 1;
    }
    int need;
    int lo = 0x80;
    int hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) {
        lo = 0xA0;
      } else if (c == 0xED) {
        hi = 0x9F;
      }
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) {
        lo = 0x90;
      } else if (c == 0xF4) {
        hi = 0x8F;
      }
    } else {
      return -1;
    }
    for (int k = 1; k <= need; k++) {
      if (i + k >= b.length) {
        return -k;
      }
      int x = b[i + k] & 0xFF;
      int l = k == 1 ? lo : 0x80;
      int h = k == 1 ? hi : 0xBF;
      if (x < l || x > h) {
        return -k;
      }
    }
    return need + 1;
  }
}
