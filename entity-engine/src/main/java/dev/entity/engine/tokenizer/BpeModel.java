// Convention: a pre-token word is split into code points (or, with byte fallback, <0xNN> byte
// tokens)
// and merged greedily by merge rank, lowest rank first and leftmost first on ties, through a
// doubly linked symbol list and a min-heap of (rank << 32 | position), exactly as HF's Word does.
// Token spans are in UTF-16 units of the word.
package dev.entity.engine.tokenizer;

import dev.entity.engine.EngineException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of a {@code tokenizer.json}: vocabulary, ranked merges, unknown-token,
 * byte-fallback and ignore-merges rules. Tokenizes one pre-token word at a time, with a per-word
 * cache.
 */
final class BpeModel {

  private static final int CACHE_LIMIT = 50_000;
  private static final int CACHED_WORD_MAX_LENGTH =
      256; // long words (whole SentencePiece texts) are not kept

  private final Map<String, Integer> vocab;
  private final String[] idToToken; // id -> token (null for holes)
  private final Map<Long, Long> merges; // (left id << 32 | right id) -> (rank << 32 | new id)
  private final List<String[]> mergeList; // in rank order
  private final String unkToken;
  private final boolean fuseUnk;
  private final boolean byteFallback;
  private final boolean ignoreMerges;
  private final String continuingSubwordPrefix;
  private final String endOfWordSuffix;
  private final int[] byteTokenIds = new int[256];
  private final Map<String, int[]> cache = new ConcurrentHashMap<>();

  BpeModel(
      Map<String, Integer> vocab,
      List<String[]> mergeList,
      String unkToken,
      boolean fuseUnk,
      boolean byteFallback,
      boolean ignoreMerges,
      String continuingSubwordPrefix,
      String endOfWordSuffix,
      String source) {
    this.vocab = vocab;
    this.mergeList = mergeList;
    this.unkToken = unkToken;
    this.fuseUnk = fuseUnk;
    this.byteFallback = byteFallback;
    this.ignoreMerges = ignoreMerges;
    this.continuingSubwordPrefix = continuingSubwordPrefix;
    this.endOfWordSuffix = endOfWordSuffix;
    int max = -1;
    for (int id : vocab.values()) {
      max = Math.max(max, id);
    }
    idToToken = new String[max + 1];
    for (Map.Entry<String, Integer> e : vocab.entrySet()) {
      if (e.getValue() < 0) {
        throw new EngineException(
            source + ": model.vocab: token '" + e.getKey() + "' has a negative id " + e.getValue());
      }
      if (idToToken[e.getValue()] != null) {
        throw new EngineException(
            source
                + ": model.vocab: id "
                + e.getValue()
                + " is used by both '"
                + idToToken[e.getValue()]
                + "' and '"
                + e.getKey()
                + "'; every id must be unique");
      }
      idToToken[e.getValue()] = e.getKey();
    }
    merges = new HashMap<>(mergeList.size() * 2);
    int prefixLength = continuingSubwordPrefix == null ? 0 : continuingSubwordPrefix.length();
    for (int rank = 0; rank < mergeList.size(); rank++) {
      String[] m = mergeList.get(rank);
      Integer a = vocab.get(m[0]);
      Integer b = vocab.get(m[1]);
      if (a == null || b == null) {
        throw new EngineException(
            source
                + ": model.merges["
                + rank
                + "]: '"
                + (a == null ? m[0] : m[1])
                + "' is not in model.vocab; every merge must join two vocabulary tokens");
      }
      String right =
          prefixLength > 0 && m[1].startsWith(continuingSubwordPrefix)
              ? m[1].substring(prefixLength)
              : m[1];
      Integer merged = vocab.get(m[0] + right);
      if (merged == null) {
        throw new EngineException(
            source
                + ": model.merges["
                + rank
                + "]: the merged token '"
                + m[0]
                + right
                + "' is not in model.vocab");
      }
      // a repeated pair keeps its last rank, as HF's map collection does
      merges.put(((long) a << 32) | b, ((long) rank << 32) | merged);
    }
    if (unkToken != null && !vocab.containsKey(unkToken)) {
      throw new EngineException(
          source
              + ": model.unk_token '"
              + unkToken
              + "' is not in model.vocab; add it or remove unk_token");
    }
    Arrays.fill(byteTokenIds, -1);
    if (byteFallback) {
      for (int b = 0; b < 256; b++) {
        Integer id = vocab.get(String.format("<0x%02X>", b));
        byteTokenIds[b] = id == null ? -1 : id;
      }
    }
  }

  int vocabSize() {
    return idToToken.length;
  }

  String idToToken(int id) {
    return id >= 0 && id < idToToken.length ? idToToken[id] : null;
  }

  Integer tokenToId(String token) {
    return vocab.get(token);
  }

  Map<String, Integer> vocab() {
    return vocab;
  }

  List<String[]> merges() {
    return mergeList;
  }

  boolean byteFallback() {
    return byteFallback;
  }

  String unkToken() {
    return unkToken;
  }

  /** The byte a {@code <0xNN>} token stands for, or -1. */
  int byteOfToken(int id) {
    if (!byteFallback) {
      return -1;
    }
    String t = idToToken(id);
    if (t != null && t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
      int b = Integer.parseInt(t.substring(3, 5), 16);
      return byteTokenIds[b] == id ? b : -1;
    }
    return -1;
  }

  /**
   * Tokenizes one word: returns {@code [id0, start0, end0, id1, ...]}, spans in UTF-16 units of the
   * word (every byte token of a byte-fallback character spans the whole character).
   */
  int[] tokenize(String word) {
    if (word.isEmpty()) {
      return new int[0];
    }
    int[] cached = cache.get(word);
    if (cached != null) {
      return cached;
    }
    int[] result = tokenizeUncached(word);
    if (cache.size() < CACHE_LIMIT && word.length() <= CACHED_WORD_MAX_LENGTH) {
      cache.put(word, result);
    }
    return result;
  }

  private int[] tokenizeUncached(String word) {
    if (ignoreMerges) {
      Integer id = vocab.get(word);
      if (id != null) {
        return new int[] {id, 0, word.length()};
      }
    }
    int n = word.length();
    int[] ids = new int[n * 4 + 1];
    int[] starts = new int[n * 4 + 1]; // UTF-16 start of each symbol
    int[] ends = new int[n * 4 + 1]; // UTF-16 end of each symbol
    int count = 0;
    int unkId = -1;
    int unkStart = -1;
    int unkEnd = -1;
    int i = 0;
    while (i < n) {
      int cp = word.codePointAt(i);
      int end = i + Character.charCount(cp);
      String s = word.substring(i, end);
      if (i > 0 && continuingSubwordPrefix != null) {
        s = continuingSubwordPrefix + s;
      }
      if (end == n && endOfWordSuffix != null) {
        s = s + endOfWordSuffix;
      }
      Integer id = vocab.get(s);
      if (id != null) {
        if (unkId >= 0) {
          ids[count] = unkId;
          starts[count] = unkStart;
          ends[count++] = unkEnd;
          unkId = -1;
        }
        ids[count] = id;
        starts[count] = i;
        ends[count++] = end;
        i = end;
        continue;
      }
      if (byteFallback) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        boolean all = true;
        for (byte b : bytes) {
          all &= byteTokenIds[b & 0xFF] >= 0;
        }
        if (all) {
          if (unkId >= 0) {
            ids[count] = unkId;
            starts[count] = unkStart;
            ends[count++] = unkEnd;
            unkId = -1;
          }
          if (count + bytes.length > ids.length) {
            ids = Arrays.copyOf(ids, ids.length * 2 + bytes.length);
            starts = Arrays.copyOf(starts, ids.length);
            ends = Arrays.copyOf(ends, ids.length);
          }
          for (byte b : bytes) {
            ids[count] = byteTokenIds[b & 0xFF];
            starts[count] = i;
            ends[count++] = end;
          }
          i = end;
          continue;
        }
      }
      if (unkToken != null) {
        int uid = vocab.get(unkToken);
        if (unkId >= 0 && fuseUnk) {
          unkEnd = end;
        } else {
          if (unkId >= 0) {
            ids[count] = unkId;
            starts[count] = unkStart;
            ends[count++] = unkEnd;
          }
          unkId = uid;
          unkStart = i;
          unkEnd = end;
        }
      }
      i = end;
    }
    if (unkId >= 0) {
      ids[count] = unkId;
      starts[count] = unkStart;
      ends[count++] = unkEnd;
    }
    return mergeAll(ids, starts, ends, count);
  }

  /** HF Word::merge_all over symbols {@code [0, count)}. */
  private int[] mergeAll(int[] ids, int[] starts, int[] ends, int count) {
    int[] prev = new int[count];
    int[] next = new int[count];
    boolean[] removed = new boolean[count];
    for (int k = 0; k < count; k++) {
      prev[k] = k - 1;
      next[k] = k + 1 < count ? k + 1 : -1;
    }
    LongMinHeap heap = new LongMinHeap(count + 1);
    for (int k = 0; k + 1 < count; k++) {
      Long m = merges.get(((long) ids[k] << 32) | ids[k + 1]);
      if (m != null) {
        heap.push((m & 0xFFFFFFFF00000000L) | k);
      }
    }
    while (!heap.isEmpty()) {
      long top = heap.pop();
      int rank = (int) (top >>> 32);
      int pos = (int) top;
      if (removed[pos] || next[pos] < 0) {
        continue;
      }
      int right = next[pos];
      Long m = merges.get(((long) ids[pos] << 32) | ids[right]);
      if (m == null || (int) (m >>> 32) != rank) {
        continue; // an expired entry: one side has merged since
      }
      ids[pos] = (int) (long) m;
      ends[pos] = ends[right];
      removed[right] = true;
      next[pos] = next[right];
      if (next[right] >= 0) {
        prev[next[right]] = pos;
      }
      if (prev[pos] >= 0) {
        Long left = merges.get(((long) ids[prev[pos]] << 32) | ids[pos]);
        if (left != null) {
          heap.push((left & 0xFFFFFFFF00000000L) | prev[pos]);
        }
      }
      if (next[pos] >= 0) {
        Long r = merges.get(((long) ids[pos] << 32) | ids[next[pos]]);
        if (r != null) {
          heap.push((r & 0xFFFFFFFF00000000L) | pos);
        }
      }
    }
    int kept = 0;
    for (int k = 0; k < count; k++) {
      if (!removed[k]) {
        kept++;
      }
    }
    int[] out = new int[kept * 3];
    int o = 0;
    for (int k = 0; k < count; k++) {
      if (!removed[k]) {
        out[o++] = ids[k];
        out[o++] = starts[k];
        out[o++] = ends[k];
      }
    }
    return out;
  }

  /** A binary min-heap of longs. */
  private static final class LongMinHeap {
    private long[] a;
    private int n;

    LongMinHeap(int capacity) {
      a = new long[Math.max(4, capacity)];
    }

    boolean isEmpty() {
      return n == 0;
    }

    void push(long v) {
      if (n == a.length) {
        a = Arrays.copyOf(a, n * 2);
      }
      int i = n++;
      a[i] = v;
      while (i > 0) {
        int p = (i - 1) >>> 1;
        if (a[p] <= a[i]) {
          break;
        }
        long t = a[p];
        a[p] = a[i];
        a[i] = t;
        i = p;
      }
    }

    long pop() {
      long top = a[0];
      a[0] = a[--n];
      int i = 0;
      while (true) {
        int l = 2 * i + 1;
        int r = l + 1;
        int s = i;
        if (l < n && a[l] < a[s]) {
          s = l;
        }
        if (r < n && a[r] < a[s]) {
          s = r;
        }
        if (s == i) {
          return top;
        }
        long t = a[s];
        a[s] = a[i];
        a[i] = t;
        i = s;
      }
    }
  }
}
