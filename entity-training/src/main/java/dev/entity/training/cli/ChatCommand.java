package dev.entity.training.cli;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.generate.ChatModel;
import dev.entity.engine.generate.GenerationResult;
import dev.entity.engine.template.ChatMessage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code entity-train chat}: an interactive conversation. Each line read is a user message; the
 * whole conversation is rendered with the chat template every turn (the KV cache keeps the part
 * already run), and the answer is streamed. Works the same when standard input is not a terminal.
 */
@Command(
    name = "chat",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Chat with a model (and a LoRA adapter) in the terminal.",
    description = {
      "Each line you type is a user message; the model answers with the conversation so far,"
          + " rendered with its chat template. /reset starts a new conversation, /exit (or end"
          + " of input) quits.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train chat --model runs/qs/model",
      "  entity-train chat --model BASE --adapter runs/x/final-model \\",
      "      --system 'Be brief.'",
      "  printf 'Hi\\n/exit\\n' | entity-train chat --model DIR --temperature 0"
    })
final class ChatCommand implements Callable<Integer> {

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Mixin InferenceModelOptions model;

  @Mixin SamplingOptions sampling;

  @Option(names = "--system", paramLabel = "TEXT", description = "A system message.")
  String system;

  @Option(names = "--stats", description = "Print tokens and speed after each answer.")
  boolean stats;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    BufferedReader in = main.input;
    boolean terminal = System.console() != null;
    try (Backend backend = model.backend();
        ChatModel m = model.open(backend)) {
      out.println(
          "Chatting with "
              + m.folder()
              + (m.hasAdapter() ? " + adapter " + model.adapter : "")
              + ". /reset starts over, /exit quits.");
      List<ChatMessage> messages = fresh();
      while (true) {
        if (terminal) {
          out.print("> ");
        }
        out.flush();
        String line = in.readLine();
        if (line == null || line.strip().equals("/exit")) {
          break;
        }
        line = line.strip();
        if (line.isEmpty()) {
          continue;
        }
        if (line.equals("/reset")) {
          messages = fresh();
          out.println("(new conversation)");
          continue;
        }
        messages.add(ChatMessage.user(line));
        GenerationResult r =
            m.chat(messages, sampling.options(0.7), text -> GenerateCommand.print(out, text));
        out.println();
        if (stats) {
          out.println(GenerateCommand.summary(r));
        }
        messages.add(ChatMessage.assistant(r.text()));
      }
      out.flush();
      return 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private List<ChatMessage> fresh() {
    List<ChatMessage> messages = new ArrayList<>();
    if (system != null) {
      messages.add(ChatMessage.system(system));
    }
    return messages;
  }
}
