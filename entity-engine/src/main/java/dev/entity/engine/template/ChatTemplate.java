// Convention: a template is rendered with the variables Hugging Face's apply_chat_template passes
// (messages as role/content maps, bos_token, eos_token, unk_token, pad_token,
// add_generation_prompt);
// the tokenizer's EOS and end-of-turn markers decide which tokens close an assistant turn.
package dev.entity.engine.template;

import dev.entity.engine.EngineException;
import dev.entity.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A chat template: the model's own Jinja {@code chat_template} or one of the built-in ones (alpaca,
 * chatml, llama3, mistral), bound to the special-token strings it renders with. Renders a
 * conversation to text and encodes it for training with assistant-only labels; exposes its source,
 * recognized family and end-of-turn strings for Ollama and GGUF export.
 */
public final class ChatTemplate {

  /** The names of the built-in templates, for {@link #builtIn(String, Tokenizer)}. */
  public static final List<String> BUILT_IN = List.of("alpaca", "chatml", "llama3", "mistral");

  private final String name;
  private final String source;
  private final Map<String, Object> specialTokens;
  private final String eosToken;

  private ChatTemplate(String name, String source, Map<String, Object> specialTokens) {
    this.name = name;
    this.source = source;
    this.specialTokens = specialTokens;
    this.eosToken = (String) specialTokens.get("eos_token");
  }

  /**
   * A template from its Jinja source with explicit special tokens (any may be null); {@code name}
   * identifies it in errors.
   */
  public static ChatTemplate of(String name, String source, String bosToken, String eosToken) {
    Map<String, Object> tokens = new HashMap<>();
    tokens.put("bos_token", bosToken == null ? "" : bosToken);
    tokens.put("eos_token", eosToken == null ? "" : eosToken);
    return new ChatTemplate(name, source, tokens);
  }

  /**
   * The tokenizer's own chat template ({@code tokenizer_config.json} or {@code
   * chat_template.jinja}), else the built-in template {@code fallback} (null: refuse).
   */
  public static ChatTemplate fromTokenizer(Tokenizer tokenizer, String fallback) {
    Optional<String> own = tokenizer.chatTemplate();
    if (own.isPresent()) {
      return new ChatTemplate(
          tokenizer.source() + " chat_template", own.get(), tokensOf(tokenizer));
    }
    if (fallback == null) {
      throw new EngineException(
          tokenizer.source()
              + ": the tokenizer has no chat_template (tokenizer_config.json or chat_template.jinja);"
              + " choose a built-in template: "
              + String.join(", ", BUILT_IN));
    }
    return builtIn(fallback, tokenizer);
  }

  /** A built-in template by name, rendering with the tokenizer's special tokens. */
  public static ChatTemplate builtIn(String name, Tokenizer tokenizer) {
    return new ChatTemplate("built-in " + name, builtInSource(name), tokensOf(tokenizer));
  }

  /**
   * The Jinja source of a built-in template (what {@code make-tiny-model} stores as {@code
   * chat_template} in {@code tokenizer_config.json}).
   */
  public static String builtInSource(String name) {
    if (!BUILT_IN.contains(name)) {
      throw new EngineException(
          "chat template '"
              + name
              + "' is not built in; choose one of "
              + String.join(", ", BUILT_IN));
    }
    try (InputStream in = ChatTemplate.class.getResourceAsStream("/templates/" + name + ".jinja")) {
      if (in == null) {
        throw new IllegalStateException("built-in template resource missing: " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read built-in template " + name, e);
    }
  }

  private static Map<String, Object> tokensOf(Tokenizer t) {
    Map<String, Object> tokens = new HashMap<>();
    Tokenizer.SpecialTokens s = t.specialTokens();
    tokens.put("bos_token", s.bos() == null ? "" : s.bos());
    tokens.put("eos_token", s.eos() == null ? "" : s.eos());
    if (s.unk() != null) {
      tokens.put("unk_token", s.unk());
    }
    if (s.pad() != null) {
      tokens.put("pad_token", s.pad());
    }
    return tokens;
  }

  /** The Jinja source, as written into GGUF {@code tokenizer.chat_template}. */
  public String source() {
    return source;
  }

  /** Where the template came from (for messages). */
  public String name() {
    return name;
  }

  /** The recognized chat format, if any. */
  public Optional<ChatTemplateFamily> family() {
    return ChatTemplateFamily.detect(source);
  }

  /**
   * The strings that end an assistant turn: the family's markers and the EOS token; used for Ollama
   * {@code stop} parameters.
   */
  public List<String> endOfTurnStrings() {
    Set<String> out = new LinkedHashSet<>();
    family().ifPresent(f -> out.addAll(f.endOfTurnMarkers()));
    if (eosToken != null && !eosToken.isEmpty()) {
      out.add(eosToken);
    }
    return List.copyOf(out);
  }

  /** The ids of {@link #endOfTurnStrings()} and of the tokenizer's own end-of-turn tokens. */
  public int[] endOfTurnIds(Tokenizer tokenizer) {
    Set<Integer> ids = new LinkedHashSet<>();
    for (String s : endOfTurnStrings()) {
      tokenizer.tokenToId(s).ifPresent(ids::add);
    }
    for (int id : tokenizer.endOfTurnIds()) {
      ids.add(id);
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * Renders a conversation; with {@code addGenerationPrompt} it ends where the assistant starts.
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    Map<String, Object> vars = new HashMap<>(specialTokens);
    List<Map<String, Object>> list = new ArrayList<>(messages.size());
    for (ChatMessage m : messages) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", m.role().wireName());
      map.put("content", m.content());
      list.add(map);
    }
    vars.put("messages", list);
    vars.put("add_generation_prompt", addGenerationPrompt);
    return JinjaRenderer.render(name, source, vars);
  }

  /**
   * Tokenizes a conversation for training: ids and labels, where labels cover the assistant
   * messages (or everything, per {@code policy}) and always the end-of-turn token after each
   * assistant message; if the template emits none, the EOS id is inserted after the message.
   */
  public TrainingExample encodeForTraining(
      List<ChatMessage> messages, Tokenizer tokenizer, LabelPolicy policy) {
    return AssistantLabeler.encode(this, messages, tokenizer, policy);
  }
}
