// Convention: each TEMPLATE is written to give, for the same messages, exactly the text of the
// matching Jinja chat template MINUS a leading BOS token: llama.cpp (inside Ollama) adds BOS
// itself when the GGUF says add_bos_token, so writing it again would double it.
package dev.entity.training.export;

import dev.entity.engine.template.ChatTemplateFamily;

/**
 * Ollama TEMPLATEs (Go template syntax over {@code .Messages}, {@code .System}, {@code .Role},
 * {@code .Content}) for every chat format {@link ChatTemplateFamily} recognizes, in the shape of
 * Ollama's own library templates but matched to the Jinja templates this project trains with.
 */
public final class OllamaTemplates {

  private OllamaTemplates() {}

  /**
   * The TEMPLATE for {@code family}; {@code eos} is the tokenizer's EOS string, written where the
   * format closes an assistant turn with EOS (Mistral, Llama 2, Zephyr).
   */
  public static String template(ChatTemplateFamily family, String eos) {
    String e = eos == null ? "" : eos;
    return switch (family) {
      case CHATML ->
          """
          {{- range .Messages }}<|im_start|>{{ .Role }}
          {{ .Content }}<|im_end|>
          {{ end }}<|im_start|>assistant
          """;
      case LLAMA3 ->
          """
          {{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>

          {{ .Content }}<|eot_id|>
          {{- end }}<|start_header_id|>assistant<|end_header_id|>

          """;
      case MISTRAL ->
          """
          {{- range $i, $m := .Messages }}
          {{- if eq $m.Role "user" }}[INST] {{ if and (eq $i 1) $.System }}{{ $.System }}

          {{ end }}{{ $m.Content }} [/INST]
          {{- else if eq $m.Role "assistant" }} {{ $m.Content }}EOS
          {{- end }}
          {{- end }}"""
              .replace("EOS", e);
      case LLAMA2 ->
          """
          {{- range $i, $m := .Messages }}
          {{- if eq $m.Role "user" }}
          {{- if and (ne $i 0) (not (and (eq $i 1) $.System)) }}BOS{{ end }}[INST] \
          {{ if and (eq $i 1) $.System }}<<SYS>>
          {{ $.System }}
          <</SYS>>

          {{ end }}{{ $m.Content }} [/INST]
          {{- else if eq $m.Role "assistant" }} {{ $m.Content }} EOS
          {{- end }}
          {{- end }}""";
      case ZEPHYR ->
          """
          {{- range .Messages }}<|{{ .Role }}|>
          {{ .Content }}EOS
          {{ end }}<|assistant|>
          """
              .replace("EOS", e);
      case GEMMA ->
          """
          {{- range .Messages }}<start_of_turn>{{ if eq .Role "assistant" }}model{{ else }}{{ .Role }}{{ end }}
          {{ .Content }}<end_of_turn>
          {{ end }}<start_of_turn>model
          """;
      case ALPACA ->
          """
          {{- if .System }}{{ .System }}

          {{ else }}Below is an instruction that describes a task. \
          Write a response that appropriately completes the request.

          {{ end }}
          {{- range .Messages }}
          {{- if eq .Role "user" }}### Instruction:
          {{ .Content }}

          {{ else if eq .Role "assistant" }}### Response:
          {{ .Content }}

          {{ end }}
          {{- end }}### Response:
          """;
    };
  }

  /** {@link #template} with the BOS string filled in where Llama 2 repeats it per turn. */
  public static String template(ChatTemplateFamily family, String bos, String eos) {
    String t = template(family, eos);
    return family == ChatTemplateFamily.LLAMA2
        ? t.replace("BOS", bos == null ? "" : bos).replace("EOS", eos == null ? "" : eos)
        : t;
  }
}
