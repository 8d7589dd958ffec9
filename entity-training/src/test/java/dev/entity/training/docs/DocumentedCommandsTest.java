// Convention: a documented command is every line (with its backslash continuations) of a ```bash
// block in the checked pages that starts with ./entity-train, entity-train or one of the scripts.
// A line with synopsis marks ([ ] | ( ) ...) is a usage summary: its --options must exist, but it
// is not parsed. Other tools' commands (docker, ollama) are left to the reader.
package dev.entity.training.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.entity.training.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Every command shown in the README and docs/ is checked against the real command line: a usage
 * summary's options must exist on its command; a concrete command is parsed (so a renamed or
 * removed option fails here), and the cheap ones (no large model) are run in-process on the
 * repository's files, with outputs sent to a temporary folder, and must exit 0. Every {@code
 * --option} written in the pages' prose must exist on some command.
 */
class DocumentedCommandsTest {

  static final List<String> PAGES =
      List.of(
          "README.md", "docs/TRAINING_GUIDE.md", "docs/API.md", "docs/FAQ.md", "docs/PLUGINS.md");

  /** Options in prose that belong to other tools: docker's --gpus, run_docker.sh's --build. */
  static final Set<String> OTHER_TOOLS = Set.of("--gpus", "--build", "--script-help");

  /** Thin scripts and the command each one runs. */
  static final Map<String, String> SCRIPTS =
      Map.of(
          "scripts/estimate_memory.sh", "estimate-memory",
          "scripts/merge_adapter.sh", "merge-adapter",
          "scripts/convert_to_gguf.sh", "convert-to-gguf",
          "scripts/benchmark.sh", "benchmark");

  /** Commands that run in seconds without a large model; the rest are parsed only. */
  static final Set<String> RUN = Set.of("estimate-memory", "plugins", "prepare-dataset", "help");

  @TempDir Path dir;

  record Documented(String page, int line, List<String> args) {
    @Override
    public String toString() {
      return page + ":" + line + ": entity-train " + String.join(" ", args);
    }
  }

  static Stream<Documented> commands() {
    List<Documented> all = new ArrayList<>();
    for (String page : PAGES) {
      all.addAll(extract(page, Repository.read(page)));
    }
    assertThat(all).as("the pages show commands").hasSizeGreaterThan(5);
    return all.stream();
  }

  /** The entity-train argument lists shown in the bash blocks of {@code text}. */
  static List<Documented> extract(String page, String text) {
    List<Documented> found = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    boolean inBash = false;
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.startsWith("```")) {
        inBash = !inBash && line.equals("```bash");
        continue;
      }
      if (!inBash) {
        continue;
      }
      int first = i;
      StringBuilder joined = new StringBuilder(line.strip());
      while (joined.toString().endsWith("\\") && i + 1 < lines.length) {
        joined.setLength(joined.length() - 1);
        joined.append(' ').append(lines[++i].strip());
      }
      List<String> words = words(joined.toString());
      if (words.isEmpty()) {
        continue;
      }
      String head = words.getFirst();
      List<String> args;
      if (head.equals("./entity-train") || head.equals("entity-train")) {
        args = words.subList(1, words.size());
      } else if (SCRIPTS.containsKey(head)) {
        args = new ArrayList<>(List.of(SCRIPTS.get(head)));
        args.addAll(words.subList(1, words.size()));
      } else {
        continue;
      }
      found.add(new Documented(page, first + 1, List.copyOf(args)));
    }
    return found;
  }

  /** Shell words: whitespace-separated, single or double quotes grouping, comments dropped. */
  static List<String> words(String line) {
    List<String> words = new ArrayList<>();
    Matcher m =
        java.util.regex.Pattern.compile("\"([^\"]*)\"|'([^']*)'|(#.*)|([^\\s\"']+)").matcher(line);
    while (m.find()) {
      if (m.group(3) != null) {
        break;
      }
      words.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(4));
    }
    return words;
  }

  static String commandName(List<String> args) {
    return args.stream().filter(a -> !a.startsWith("-")).findFirst().orElse("");
  }

  /** Whether a documented line is a usage summary rather than a command to run. */
  static boolean isSynopsis(List<String> args) {
    return args.stream().anyMatch(a -> a.matches(".*[\\[\\]|()].*|.*\\.\\.\\..*"));
  }

  /** The command a line runs, with its subcommand ({@code benchmark train}) when it has one. */
  static CommandLine command(List<String> args) {
    CommandLine line = Main.commandLine();
    for (String arg : args) {
      if (arg.startsWith("-")) {
        continue;
      }
      CommandLine sub = line.getSubcommands().get(arg);
      if (sub == null || sub.getCommand() instanceof CommandLine.HelpCommand) {
        break;
      }
      line = sub;
    }
    return line;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("commands")
  void parsesWithTheRealCommandLineAndTheCheapOnesRun(Documented documented) {
    String command = commandName(documented.args());
    CommandLine cli = Main.commandLine();
    assertThat(command.isEmpty() || cli.getSubcommands().containsKey(command))
        .as(documented + ": no such command")
        .isTrue();
    for (String arg : documented.args()) {
      if (arg.matches("(configs|data|scripts)/.*")) {
        assertThat(Repository.root().resolve(arg)).as(documented + ": " + arg).exists();
      }
    }
    if (isSynopsis(documented.args())) {
      CommandLine target = command(documented.args());
      for (String arg : documented.args()) {
        String option = arg.replaceAll("^[\\[(]+|[\\])|.]+$", "").replaceFirst("=.*", "");
        if (option.startsWith("-")) {
          assertThat(target.getCommandSpec().findOption(option))
              .as(documented + ": " + option + " is not an option of " + target.getCommandName())
              .isNotNull();
        }
      }
      return;
    }
    assertThatCode(() -> Main.commandLine().parseArgs(documented.args().toArray(String[]::new)))
        .as(documented.toString())
        .doesNotThrowAnyException();
    if (!RUN.contains(command) && !documented.args().contains("--help")) {
      return;
    }
    List<String> args = localized(documented.args());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
    assertThat(code).as(documented + "\n" + out + err).isZero();
  }

  /** Every option of every command, subcommands of subcommands included. */
  static Set<String> allOptions() {
    Set<String> names = new java.util.TreeSet<>();
    List<CommandLine> todo = new ArrayList<>(List.of(Main.commandLine()));
    while (!todo.isEmpty()) {
      CommandLine line = todo.removeLast();
      line.getCommandSpec().options().forEach(o -> names.addAll(List.of(o.names())));
      todo.addAll(line.getSubcommands().values());
    }
    return names;
  }

  @Test
  void everyOptionWrittenInProseExistsOnSomeCommand() {
    Set<String> options = allOptions();
    List<String> missing = new ArrayList<>();
    Matcher span = java.util.regex.Pattern.compile("`(--[a-z][a-z0-9-]*)[^`]*`").matcher("");
    for (String page : PAGES) {
      boolean inBlock = false;
      String[] lines = Repository.read(page).split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        if (lines[i].startsWith("```")) {
          inBlock = !inBlock;
          continue;
        }
        span.reset(lines[i]);
        while (!inBlock && span.find()) {
          String option = span.group(1);
          if (!options.contains(option) && !OTHER_TOOLS.contains(option)) {
            missing.add(page + ":" + (i + 1) + ": " + option);
          }
        }
      }
    }
    assertThat(missing).as("options in prose that no command has").isEmpty();
  }

  @Test
  void synopsisLinesAreRecognizedAndTheirCommandFound() {
    List<String> synopsis =
        words("./entity-train benchmark train --shape NAME [--seq 512] (--model DIR | --x)");
    assertThat(isSynopsis(synopsis.subList(1, synopsis.size()))).isTrue();
    assertThat(command(synopsis.subList(1, synopsis.size())).getCommandSpec().qualifiedName())
        .isEqualTo("entity-train benchmark train");
    assertThat(isSynopsis(List.of("estimate-memory", "--shape", "tiny"))).isFalse();
    assertThat(command(List.of("help", "train")).getCommandName()).isEqualTo("entity-train");
  }

  /** Repository-relative paths made absolute; --out/--output values moved into the temp folder. */
  private List<String> localized(List<String> args) {
    Path root = Repository.root();
    List<String> result = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      String previous = i == 0 ? "" : args.get(i - 1);
      if (previous.equals("--out") || previous.equals("--output")) {
        result.add(dir.resolve(arg.replace('/', '_')).toString());
      } else if (!arg.startsWith("-") && !arg.isEmpty() && Files.exists(root.resolve(arg))) {
        result.add(root.resolve(arg).toString());
      } else {
        result.add(arg);
      }
    }
    return result;
  }

  @Test
  void extractionJoinsContinuationsAndMapsScripts() {
    String page =
        """
        text ./entity-train not-in-a-block
        ```bash
        ./entity-train estimate-memory --shape tiny \\
            --method "lora"   # a comment
        scripts/merge_adapter.sh --base B --adapter A --out O
        docker compose up
        ```
        ```yaml
        entity-train: ignored
        ```
        """;

    assertThat(extract("p.md", page))
        .containsExactly(
            new Documented(
                "p.md", 3, List.of("estimate-memory", "--shape", "tiny", "--method", "lora")),
            new Documented(
                "p.md",
                5,
                List.of("merge-adapter", "--base", "B", "--adapter", "A", "--out", "O")));
  }
}
