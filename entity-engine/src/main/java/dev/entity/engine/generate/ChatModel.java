// Convention: weights are loaded frozen. The decoder's only frozen-weights mode is LoRA's, so a
// model without an adapter gets a rank-1 adapter that is switched off: no gradient buffers, and
// outputs exactly the base model's.
package dev.entity.engine.generate;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.Backends;
import dev.entity.engine.format.gguf.GgufModel;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A model ready to talk: a Hugging Face folder's weights (optionally with a PEFT adapter on top) or
 * a GGUF file's (dequantized, see {@link GgufModel}), its tokenizer, chat template (the tokenizer's
 * own, chatml when it has none) and every stop id, with a {@link Generator}. Plain prompts are
 * encoded with the tokenizer's special tokens (BOS); conversations are rendered with the template
 * and its generation prompt. {@link #useAdapter} switches between the tuned and the base model
 * without reloading.
 */
public final class ChatModel implements AutoCloseable {

  /** The template used when the tokenizer has none. */
  public static final String FALLBACK_TEMPLATE = "chatml";

  private final Path folder;
  private final Decoder decoder;
  private final boolean adapter;
  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final Generator generator;

  private ChatModel(
      Path folder, Decoder decoder, boolean adapter, Tokenizer tokenizer, int[] moreStops) {
    this.folder = folder;
    this.decoder = decoder;
    this.adapter = adapter;
    this.tokenizer = tokenizer;
    this.template = ChatTemplate.fromTokenizer(tokenizer, FALLBACK_TEMPLATE);
    Set<Integer> stops = new LinkedHashSet<>();
    for (int id : StopTokens.of(folder, tokenizer)) {
      stops.add(id);
    }
    for (int id : template.endOfTurnIds(tokenizer)) {
      stops.add(id);
    }
    for (int id : moreStops) {
      stops.add(id);
    }
    this.generator =
        new Generator(
            decoder,
            stops.stream().mapToInt(Integer::intValue).toArray(),
            ids -> tokenizer.decode(ids, true));
    decoder.setAdaptersDisabled(!adapter);
  }

  /**
   * Opens {@code modelFolder} (config.json, safetensors, tokenizer files) on {@code backend}, with
   * the PEFT adapter of {@code adapterFolder} when not null; matrices kept in {@code frozenDType}
   * (F32, BF16 or F16).
   */
  public static ChatModel open(
      Backend backend, Path modelFolder, Path adapterFolder, DType frozenDType) {
    if (GgufModel.isGgufFile(modelFolder)) {
      return openGguf(backend, modelFolder, adapterFolder, frozenDType);
    }
    if (Files.isRegularFile(modelFolder.resolve(LoraAdapter.CONFIG))
        && !Files.isRegularFile(modelFolder.resolve("config.json"))) {
      throw new EngineException(
          modelFolder
              + " is a LoRA adapter, not a model; give the base model as the model and this"
              + " folder as the adapter");
    }
    if (!Files.isRegularFile(modelFolder.resolve("config.json"))) {
      throw new EngineException(
          modelFolder + " has no config.json; give a Hugging Face model folder");
    }
    Tokenizer tokenizer = Tokenizer.load(modelFolder);
    Decoder decoder;
    if (adapterFolder != null) {
      decoder =
          LoraAdapter.open(backend, modelFolder, adapterFolder, inferenceOptions(frozenDType));
    } else {
      decoder = Decoder.load(backend, modelFolder, inferenceOptions(frozenDType));
    }
    try {
      return new ChatModel(modelFolder, decoder, adapterFolder != null, tokenizer, new int[0]);
    } catch (RuntimeException e) {
      decoder.close();
      throw e;
    }
  }

  /**
   * A GGUF model file, dequantized into {@code frozenDType} weights, with the PEFT adapter of
   * {@code adapterFolder} (made for the model the GGUF was exported from) when not null.
   */
  private static ChatModel openGguf(
      Backend backend, Path file, Path adapterFolder, DType frozenDType) {
    try (GgufModel gguf = GgufModel.open(file)) {
      Decoder.Options options =
          adapterFolder == null
              ? inferenceOptions(frozenDType)
              : new Decoder.Options(LoraAdapter.readConfig(adapterFolder, 0), frozenDType, false);
      Decoder decoder = gguf.load(backend, options);
      try {
        if (adapterFolder != null) {
          LoraAdapter.load(decoder, adapterFolder);
        }
        return new ChatModel(
            file, decoder, adapterFolder != null, gguf.tokenizer(), gguf.stopIds());
      } catch (RuntimeException e) {
        decoder.close();
        throw e;
      }
    }
  }

  /**
   * The backend called {@code name} ("cpu", "cuda", "auto"), with {@code threads} workers (0 =
   * every core); see {@link Backends#open}.
   */
  public static Backend openBackend(String name, int threads) {
    return Backends.open(name, threads);
  }

  /**
   * Decoder options for inference: every base weight frozen in {@code frozenDType} (see the file
   * comment); switch the placeholder adapter off with {@code setAdaptersDisabled(true)}.
   */
  public static Decoder.Options inferenceOptions(DType frozenDType) {
    return Decoder.Options.lora(new LoraConfig(1, 1, 0, List.of(LoraConfig.ALL_LINEAR), false, 0))
        .withFrozenDType(frozenDType);
  }

  public Path folder() {
    return folder;
  }

  public Decoder decoder() {
    return decoder;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  public ChatTemplate template() {
    return template;
  }

  public Generator generator() {
    return generator;
  }

  /** Whether an adapter was loaded (so {@link #useAdapter} can compare tuned and base). */
  public boolean hasAdapter() {
    return adapter;
  }

  /** Runs the tuned model (true) or the base model (false); the latter only changes with one. */
  public void useAdapter(boolean on) {
    if (on && !adapter) {
      throw new EngineException("no adapter is loaded; open the model with an adapter folder");
    }
    generator.setAdaptersDisabled(!on);
  }

  /** Bytes of the weights on the backend (base weights and adapters). */
  public long weightBytes() {
    ParameterStore store = decoder.store();
    long bytes = 0;
    for (ParameterStore.Slot s : store.slots()) {
      bytes += store.param(s.name()).byteSize();
    }
    return bytes;
  }

  /** A plain text prompt as ids, with the tokenizer's special tokens (BOS where it adds one). */
  public int[] encodeText(String text) {
    return tokenizer.encode(text, true);
  }

  /** A conversation rendered with the chat template, ending where the assistant's answer starts. */
  public int[] encodeChat(List<ChatMessage> messages) {
    return tokenizer.encode(template.render(messages, true), false);
  }

  /** Continues a plain text prompt. */
  public GenerationResult complete(
      String prompt, GenerationOptions options, Consumer<String> onText) {
    return generator.generate(encodeText(prompt), options, onText);
  }

  /** The assistant's answer to a conversation. */
  public GenerationResult chat(
      List<ChatMessage> messages, GenerationOptions options, Consumer<String> onText) {
    return generator.generate(encodeChat(messages), options, onText);
  }

  @Override
  public void close() {
    generator.close();
    decoder.close();
  }
}
