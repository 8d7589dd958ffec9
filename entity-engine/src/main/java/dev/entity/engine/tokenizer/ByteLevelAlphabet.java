// Convention: the GPT-2 byte-to-unicode map. Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ')
// map to themselves; the other 68 bytes map to U+0100 + n in byte order, so every byte is one
// visible BMP character and a byte-level token string never contains whitespace.
package dev.entity.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The reversible byte-to-character alphabet of byte-level BPE (GPT-2, Llama 3, Qwen2): encodes
 * UTF-8 bytes as characters before BPE and decodes token strings back to bytes.
 */
public final class ByteLevelAlphabet {

  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final int[] CHAR_TO_BYTE = new int[512];

  static {
    java.util.Arrays.fill(CHAR_TO_BYTE, -1);
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      char c = printable ? (char) b : (char) (256 + n++);
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = b;
    }
  }

  private ByteLevelAlphabet() {}

  /** The character that stands for byte {@code b} (0..255). */
  public static char charOf(int b) {
    return BYTE_TO_CHAR[b & 0xFF];
  }

  /** The byte a character stands for, or -1 if it is not in the alphabet. */
  public static int byteOf(char c) {
    return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
  }

  /** The byte-level form of a string: its UTF-8 bytes as alphabet characters. */
  public static String encode(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    char[] out = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
    }
    return new String(out);
  }

  /** The byte-level form of one code point. */
  static String encodeCodePoint(int cp) {
    if (cp < 0x80) {
      return String.valueOf(BYTE_TO_CHAR[cp]);
    }
    return encode(new String(Character.toChars(cp)));
  }

  /**
   * Appends the bytes a token string stands for; a token with a character outside the alphabet (an
   * added token such as {@code <|im_end|>} written in plain text) contributes its own UTF-8 bytes,
   * as HF's ByteLevel decoder does.
   */
  static void appendBytes(String token, ByteArrayOutputStream out) {
    byte[] bytes = new byte[token.length()];
    for (int i = 0; i < token.length(); i++) {
      int b = byteOf(token.charAt(i));
      if (b < 0) {
        out.writeBytes(token.getBytes(StandardCharsets.UTF_8));
        return;
      }
      bytes[i] = (byte) b;
    }
    out.writeBytes(bytes);
  }
}
