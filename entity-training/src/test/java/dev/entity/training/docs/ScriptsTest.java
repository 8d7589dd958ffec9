package dev.entity.training.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.entity.training.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Runs each thin script of {@code scripts/} with {@code --help} through bash, with ENTITY_TRAIN
 * pointing at this test's class path (no Maven build inside a test): exit code 0, the script's own
 * usage naming the command, and the command's own help when this build has the command.
 */
class ScriptsTest {

  @TempDir static Path dir;

  /** A launcher like ./entity-train that runs the CLI on this JVM's class path. */
  private static Path launcher() throws IOException {
    Path launcher = dir.resolve("entity-train-under-test");
    if (!Files.exists(launcher)) {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Files.writeString(
          launcher,
          "#!/bin/sh\nexec '"
              + java
              + "' --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
              + " -XX:TieredStopAtLevel=1 -Xshare:auto -cp '"
              + System.getProperty("java.class.path")
              + "' dev.entity.training.cli.Main \"$@\"\n");
    }
    return launcher;
  }

  record Run(int code, String output) {}

  static Run bash(String script, String... args) throws Exception {
    List<String> command =
        new java.util.ArrayList<>(List.of("bash", Repository.root().resolve(script).toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("ENTITY_TRAIN", "sh " + launcher());
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(process.exitValue(), output);
  }

  /** Whether this build's CLI has {@code command}, asked in-process. */
  static boolean cliHas(String command) {
    StringWriter out = new StringWriter();
    int code =
        Main.run(
            new String[] {"help", command},
            new PrintWriter(out),
            new PrintWriter(new StringWriter()));
    return code == 0;
  }

  @ParameterizedTest
  @CsvSource({
    "scripts/estimate_memory.sh, estimate-memory",
    "scripts/merge_adapter.sh, merge-adapter",
    "scripts/convert_to_gguf.sh, convert-to-gguf",
    "scripts/benchmark.sh, benchmark"
  })
  void helpPrintsTheUsageThenTheCommandsHelp(String script, String command) throws Exception {
    Run run = bash(script, "--help");

    assertThat(run.code()).as(run.output()).isZero();
    assertThat(run.output())
        .startsWith("Usage: " + script)
        .contains("entity-train " + command)
        .contains("Examples:\n  " + script);
    if (cliHas(command)) {
      assertThat(run.output()).contains("Usage: entity-train " + command);
    } else {
      assertThat(run.output()).contains("has no '" + command + "' command yet");
    }
  }

  @ParameterizedTest
  @CsvSource({
    "scripts/estimate_memory.sh, estimate-memory",
    "scripts/merge_adapter.sh, merge-adapter",
    "scripts/convert_to_gguf.sh, convert-to-gguf",
    "scripts/benchmark.sh, benchmark",
    "scripts/run_docker.sh, ''"
  })
  void theUsageExamplesParseWithTheRealCommandLine(String script, String command) {
    List<List<String>> examples = usageExamples(Repository.read(script), script);
    assertThat(examples).as(script + " shows examples").isNotEmpty();
    for (List<String> words : examples) {
      List<String> args = new java.util.ArrayList<>();
      if (!command.isEmpty()) {
        args.add(command);
      }
      // run_docker.sh's own flag; everything else goes to entity-train in the container
      words.stream().skip(1).filter(w -> !w.equals("--build")).forEach(args::add);
      assertThatCode(() -> Main.commandLine().parseArgs(args.toArray(String[]::new)))
          .as(String.join(" ", words))
          .doesNotThrowAnyException();
    }
  }

  /** The example lines of a script's usage text (after "Examples:"), continuations joined. */
  static List<List<String>> usageExamples(String text, String script) {
    List<List<String>> examples = new java.util.ArrayList<>();
    String[] lines = text.substring(text.indexOf("Examples:")).split("\n", -1);
    for (int i = 1; i < lines.length && !lines[i].equals("USAGE"); i++) {
      StringBuilder line = new StringBuilder(lines[i].strip());
      while (line.toString().endsWith("\\") && i + 1 < lines.length) {
        line.setLength(line.length() - 1);
        line.append(' ').append(lines[++i].strip());
      }
      if (line.toString().startsWith(script + " ")) {
        examples.add(DocumentedCommandsTest.words(line.toString()));
      }
    }
    return examples;
  }

  @Test
  void argumentsArePassedToTheCommandUnchanged() throws Exception {
    Run run =
        bash("scripts/estimate_memory.sh", "--shape", "tiny", "--method", "lora", "--seq", "128");

    assertThat(run.code()).as(run.output()).isZero();
    assertThat(run.output()).contains("lora");
  }

  @Test
  void runDockerHasItsOwnHelpAndValidShellSyntax() throws Exception {
    Run help = bash("scripts/run_docker.sh", "--script-help");
    assertThat(help.code()).as(help.output()).isZero();
    assertThat(help.output()).contains("--gpus", "NVIDIA Container Toolkit");
    for (String script :
        List.of(
            "scripts/run_docker.sh",
            "scripts/entity_train_command.sh",
            "scripts/estimate_memory.sh",
            "scripts/merge_adapter.sh",
            "scripts/convert_to_gguf.sh",
            "scripts/benchmark.sh")) {
      Process check =
          new ProcessBuilder("bash", "-n", Repository.root().resolve(script).toString())
              .redirectErrorStream(true)
              .start();
      String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(check.waitFor()).as(script + ": " + output).isZero();
    }
  }
}
