package dev.entity.engine.template;

import java.util.List;
import java.util.Optional;

/**
 * The chat formats we recognize in a template's source, with the strings that end a turn. Export
 * uses the family to write an Ollama TEMPLATE and its {@code stop} parameters; an unrecognized
 * template has no family.
 */
public enum ChatTemplateFamily {
  LLAMA3(List.of("<|eot_id|>")),
  CHATML(List.of("<|im_end|>")),
  MISTRAL(List.of()),
  LLAMA2(List.of()),
  ZEPHYR(List.of()),
  GEMMA(List.of("<end_of_turn>")),
  ALPACA(List.of());

  private final List<String> endOfTurn;

  ChatTemplateFamily(List<String> endOfTurn) {
    this.endOfTurn = endOfTurn;
  }

  /**
   * The family's own end-of-turn markers; families that end a turn with the tokenizer's EOS
   * (Mistral, Llama 2, Zephyr, Alpaca) list none here, {@link ChatTemplate#endOfTurnStrings()} adds
   * EOS.
   */
  public List<String> endOfTurnMarkers() {
    return endOfTurn;
  }

  /** Recognizes the family from distinctive markers in a template's source. */
  public static Optional<ChatTemplateFamily> detect(String source) {
    if (source.contains("<|start_header_id|>") && source.contains("<|eot_id|>")) {
      return Optional.of(LLAMA3);
    }
    if (source.contains("<|im_start|>")) {
      return Optional.of(CHATML);
    }
    if (source.contains("<start_of_turn>")) {
      return Optional.of(GEMMA);
    }
    if (source.contains("<<SYS>>") && source.contains("[INST]")) {
      return Optional.of(LLAMA2);
    }
    if (source.contains("[INST]")) {
      return Optional.of(MISTRAL);
    }
    if (source.contains("<|user|>") && source.contains("<|assistant|>")) {
      return Optional.of(ZEPHYR);
    }
    if (source.contains("### Instruction:") && source.contains("### Response:")) {
      return Optional.of(ALPACA);
    }
    return Optional.empty();
  }
}
