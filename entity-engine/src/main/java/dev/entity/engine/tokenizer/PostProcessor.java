// Convention: post-processors run on every encode; ByteLevel offset trimming happens even without
// special tokens, template tokens are added only when asked and carry the empty span (0, 0).
package dev.entity.engine.tokenizer;

import java.util.List;
import java.util.function.IntFunction;

/**
 * The {@code post_processor} of a {@code tokenizer.json} (ByteLevel, TemplateProcessing for a
 * single sequence, Sequence), or the BOS/EOS template derived from {@code add_bos_token}/{@code
 * add_eos_token} in {@code tokenizer_config.json}.
 */
sealed interface PostProcessor {

  TokenList process(TokenList tokens, boolean addSpecialTokens, IntFunction<String> idToToken);

  /** {@code ByteLevel}: trims spaces (the byte-level {@code Ġ}) off token offsets if asked. */
  record ByteLevel(boolean trimOffsets, boolean addPrefixSpace) implements PostProcessor {
    private static final char SPACE = ByteLevelAlphabet.charOf(' ');

    @Override
    public TokenList process(TokenList t, boolean addSpecial, IntFunction<String> idToToken) {
      if (!trimOffsets) {
        return t;
      }
      for (int i = 0; i < t.size(); i++) {
        // an added token's string is the text it matched, absorbed whitespace included (HF
        // Token.value)
        String token = t.surface(i) != null ? t.surface(i) : idToToken.apply(t.id(i));
        if (token == null) {
          continue;
        }
        int leading = 0;
        while (leading < token.length() && isSpace(token.charAt(leading))) {
          leading++;
        }
        int trailing = 0;
        while (trailing < token.length() && isSpace(token.charAt(token.length() - 1 - trailing))) {
          trailing++;
        }
        int start = t.start(i);
        int end = t.end(i);
        if (leading > 0) {
          boolean first = i == 0 || start == 0;
          if (first && addPrefixSpace && leading == 1) {
            leading = 0; // the space ByteLevel added itself is kept
          }
          start = Math.min(start + leading, end);
        }
        if (trailing > 0 && end >= trailing) {
          end = Math.max(end - trailing, start);
        }
        t.setSpan(i, start, end);
      }
      return t;
    }

    private static boolean isSpace(char c) {
      return c == SPACE || Character.isWhitespace(c);
    }
  }

  /** {@code TemplateProcessing} (single sequence): items are token ids, or null for the text. */
  record Template(List<int[]> items) implements PostProcessor {
    @Override
    public TokenList process(TokenList t, boolean addSpecial, IntFunction<String> idToToken) {
      if (!addSpecial) {
        return t;
      }
      TokenList out = new TokenList();
      for (int[] item : items) {
        if (item == null) {
          out.addAll(t);
        } else {
          for (int id : item) {
            out.add(id, 0, 0);
          }
        }
      }
      return out;
    }
  }

  /** {@code Sequence}: each processor in order. */
  record Sequence(List<PostProcessor> processors) implements PostProcessor {
    @Override
    public TokenList process(TokenList t, boolean addSpecial, IntFunction<String> idToToken) {
      TokenList current = t;
      for (PostProcessor p : processors) {
        current = p.process(current, addSpecial, idToToken);
      }
      return current;
    }
  }

  /** A growable list of (id, start, end). */
  final class TokenList {
    private final NormalizedText.IntList ids = new NormalizedText.IntList(16);
    private final NormalizedText.IntList starts = new NormalizedText.IntList(16);
    private final NormalizedText.IntList ends = new NormalizedText.IntList(16);
    private final java.util.ArrayList<String> surfaces = new java.util.ArrayList<>();
    private int[] startArray;
    private int[] endArray;

    void add(int id, int start, int end) {
      add(id, start, end, null);
    }

    /** Adds a token; {@code surface} is the matched text of an added token, else null. */
    void add(int id, int start, int end, String surface) {
      surfaces.add(surface);
      ids.add(id);
      starts.add(start);
      ends.add(end);
    }

    void addAll(TokenList other) {
      for (int i = 0; i < other.size(); i++) {
        add(other.id(i), other.start(i), other.end(i), other.surface(i));
      }
    }

    int size() {
      return ids.size();
    }

    int id(int i) {
      return ids.get(i);
    }

    String surface(int i) {
      return surfaces.get(i);
    }

    int start(int i) {
      return startArray != null ? startArray[i] : starts.get(i);
    }

    int end(int i) {
      return endArray != null ? endArray[i] : ends.get(i);
    }

    void setSpan(int i, int start, int end) {
      if (startArray == null) {
        startArray = starts.toArray();
        endArray = ends.toArray();
      }
      startArray[i] = start;
      endArray[i] = end;
    }

    Encoding toEncoding() {
      return new Encoding(
          ids.toArray(),
          startArray != null ? startArray.clone() : starts.toArray(),
          endArray != null ? endArray.clone() : ends.toArray());
    }
  }
}
