package dev.entity.training.cli;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.generate.ChatModel;
import dev.entity.engine.generate.GenerationResult;
import dev.entity.engine.template.ChatMessage;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code entity-train generate}: one completion of a prompt, streamed to standard output. */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Generate text from a prompt with a model (and a LoRA adapter).",
    description = {
      "Runs the prompt through the model with a KV cache and prints the continuation as it is"
          + " generated. With --chat the prompt is a user message rendered with the model's chat"
          + " template. Generation ends at an end-of-turn/EOS token, a --stop text or"
          + " --max-new-tokens; the tokens, the reason and the speed go to standard error.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train generate --model runs/qs/model --prompt 'Once upon a time'",
      "  entity-train generate --model runs/qs/export/gguf/model-q8_0.gguf \\",
      "      --chat --prompt Hi",
      "  entity-train generate --model BASE --adapter runs/x/final-model --chat \\",
      "      --prompt 'What is LoRA?' --temperature 0.7 --top-p 0.9 --seed 1"
    })
final class GenerateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin InferenceModelOptions model;

  @Mixin SamplingOptions sampling;

  @Option(names = "--prompt", paramLabel = "TEXT", required = true, description = "The prompt.")
  String prompt;

  @Option(names = "--chat", description = "Treat the prompt as a user message (chat template).")
  boolean chat;

  @Option(names = "--system", paramLabel = "TEXT", description = "A system message (with --chat).")
  String system;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (Backend backend = model.backend();
        ChatModel m = model.open(backend)) {
      GenerationResult r;
      if (chat) {
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) {
          messages.add(ChatMessage.system(system));
        }
        messages.add(ChatMessage.user(prompt));
        r = m.chat(messages, sampling.options(0), text -> print(out, text));
      } else {
        r = m.complete(prompt, sampling.options(0), text -> print(out, text));
      }
      out.println();
      out.flush();
      err.println(summary(r));
      return 0;
    }
  }

  static void print(PrintWriter out, String text) {
    out.print(text);
    out.flush();
  }

  /** "[12 tokens, stop token; prefill 310.2 tokens/s, decode 45.1 tokens/s]". */
  static String summary(GenerationResult r) {
    return String.format(
        Locale.ROOT,
        "[%d tokens, %s; prefill %.1f tokens/s, decode %.1f tokens/s]",
        r.tokens().length,
        r.finishReason().name().toLowerCase(Locale.ROOT).replace('_', ' '),
        r.prefillTokensPerSecond(),
        r.decodeTokensPerSecond());
  }
}
