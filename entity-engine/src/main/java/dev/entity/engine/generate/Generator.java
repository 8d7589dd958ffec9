// Convention: the cache keeps the keys/values of the last sequence run; a new prompt that starts
// with those tokens (the next turn of a chat) only runs its new tokens. The last generated token
// is never fed (nothing needs its logits), so it is not in the cache.
package dev.entity.engine.generate;

import dev.entity.engine.EngineException;
import dev.entity.engine.model.Decoder;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Text generation with a KV cache on a {@link Decoder}: the prompt is run in one pass (in chunks of
 * {@link #PREFILL_CHUNK} tokens) filling the cache, then one token at a time against it. Tokens are
 * picked by a {@link Sampler}; generation ends at a stop token (the model's end-of-turn/EOS ids and
 * the options' own), a stop string, {@code max_new_tokens} or the context length. Text is streamed
 * to a listener as it becomes stable. The decoder's adapter switch is honoured; {@link
 * #setAdaptersDisabled} flips it and forgets the cache, so the same loaded weights serve the tuned
 * and the base model. Not thread-safe: one generation at a time.
 */
public final class Generator implements AutoCloseable {

  /** Most prompt tokens run through the model in one call. */
  public static final int PREFILL_CHUNK = 128;

  /** Positions a first cache holds (grown by doubling, keeping its contents, when needed). */
  static final int MIN_CAPACITY = 256;

  private final Decoder decoder;
  private final int[] modelStopIds;
  private final TextDecoder text;
  private KvCache cache;
  private int[] cached = new int[0]; // the tokens whose keys/values the cache holds
  private boolean cachedWithAdaptersDisabled;

  /**
   * @param modelStopIds the model's own stop ids (see {@link StopTokens#of})
   * @param text decodes generated ids to text (skipping special tokens)
   */
  public Generator(Decoder decoder, int[] modelStopIds, TextDecoder text) {
    this.decoder = decoder;
    this.modelStopIds = modelStopIds.clone();
    this.text = text;
  }

  public Decoder decoder() {
    return decoder;
  }

  /** The model's stop ids this generator always honours. */
  public int[] modelStopIds() {
    return modelStopIds.clone();
  }

  /** Switches the LoRA adapters off (base model) or on, and forgets the cache. */
  public void setAdaptersDisabled(boolean disabled) {
    decoder.setAdaptersDisabled(disabled);
    forget();
  }

  /** Forgets the cached sequence (the next prompt is run in full). */
  public void forget() {
    cached = new int[0];
    if (cache != null) {
      cache.reset();
    }
  }

  /** Bytes of device memory the KV cache and its work buffers hold (0 before the first use). */
  public long cacheBytes() {
    return cache == null ? 0 : cache.byteSize();
  }

  /** Generates a continuation of {@code prompt}; {@code onText} (may be null) gets text deltas. */
  public GenerationResult generate(
      int[] prompt, GenerationOptions options, Consumer<String> onText) {
    int context = decoder.config().maxPositions();
    if (prompt.length == 0) {
      throw new EngineException("the prompt is empty; give at least one token");
    }
    if (prompt.length >= context) {
      throw new EngineException(
          "the prompt has "
              + prompt.length
              + " tokens but the model's context is "
              + context
              + "; shorten the prompt");
    }
    TextStream stream = new TextStream(text, options.stopStrings(), onText);
    if (options.maxNewTokens() == 0) {
      return new GenerationResult(
          new int[0], "", FinishReason.MAX_TOKENS, -1, prompt.length, 0, 0, 0, 0);
    }
    int reused = prepareCache(prompt, Math.min(context, prompt.length + options.maxNewTokens()));
    int vocab = decoder.config().vocabSize();
    boolean[] seen = new boolean[vocab];
    for (int id : prompt) {
      if (id >= 0 && id < vocab) {
        seen[id] = true;
      }
    }
    int[] stops = stopIds(options);
    Sampler sampler = new Sampler(options);

    long t0 = System.nanoTime();
    float[] logits = null;
    for (int i = reused; i < prompt.length; i += cache.chunkRows()) {
      int n = Math.min(cache.chunkRows(), prompt.length - i);
      logits = decoder.decode(cache, Arrays.copyOfRange(prompt, i, i + n));
    }
    cached = prompt.clone();
    cachedWithAdaptersDisabled = decoder.adaptersDisabled();
    long prefillNanos = 0;
    long decodeStart = 0;
    int steps = 0;
    int[] out = new int[options.maxNewTokens()];
    int count = 0;
    FinishReason reason = FinishReason.MAX_TOKENS;
    int stopToken = -1;
    while (true) {
      int next = sampler.next(logits, seen);
      if (count == 0) {
        prefillNanos = System.nanoTime() - t0;
        decodeStart = System.nanoTime();
      }
      if (contains(stops, next)) {
        reason = FinishReason.STOP_TOKEN;
        stopToken = next;
        break;
      }
      out[count++] = next;
      seen[next] = true;
      if (stream.add(next)) {
        reason = FinishReason.STOP_STRING;
        break;
      }
      if (count == options.maxNewTokens()) {
        break;
      }
      if (prompt.length + count >= context) {
        reason = FinishReason.CONTEXT_FULL;
        break;
      }
      logits = decoder.decode(cache, new int[] {next});
      cached = Arrays.copyOf(cached, cached.length + 1);
      cached[cached.length - 1] = next;
      steps++;
    }
    long decodeNanos = steps == 0 ? 0 : System.nanoTime() - decodeStart;
    stream.finish();
    return new GenerationResult(
        Arrays.copyOf(out, count),
        stream.text(),
        reason,
        stopToken,
        prompt.length,
        prompt.length - reused,
        prefillNanos,
        steps,
        decodeNanos);
  }

  /**
   * Makes the cache hold a prefix of {@code prompt} (as much as it already had, never the whole
   * prompt: the last prompt token must run to give logits) with room for {@code needed} positions;
   * returns the number of prompt tokens already cached.
   */
  private int prepareCache(int[] prompt, int needed) {
    int context = decoder.config().maxPositions();
    if (cache == null) {
      cache =
          new KvCache(decoder, Math.min(context, Math.max(needed, MIN_CAPACITY)), PREFILL_CHUNK);
      cached = new int[0];
    } else if (cache.capacity() < needed) {
      KvCache grown =
          new KvCache(
              decoder, Math.min(context, Math.max(needed, 2 * cache.capacity())), PREFILL_CHUNK);
      grown.copyFrom(cache);
      cache.close();
      cache = grown;
    }
    if (cachedWithAdaptersDisabled != decoder.adaptersDisabled()) {
      cached = new int[0];
    }
    int common = 0;
    int limit = Math.min(Math.min(cached.length, cache.length()), prompt.length - 1);
    while (common < limit && cached[common] == prompt[common]) {
      common++;
    }
    cache.truncate(common);
    return common;
  }

  private int[] stopIds(GenerationOptions options) {
    int[] extra = options.stopTokenIds();
    int[] all = Arrays.copyOf(modelStopIds, modelStopIds.length + extra.length);
    System.arraycopy(extra, 0, all, modelStopIds.length, extra.length);
    return all;
  }

  private static boolean contains(int[] ids, int id) {
    for (int i : ids) {
      if (i == id) {
        return true;
      }
    }
    return false;
  }

  /** Frees the KV cache (the decoder stays open; its owner closes it). */
  @Override
  public void close() {
    if (cache != null) {
      cache.close();
      cache = null;
    }
    cached = new int[0];
  }
}
