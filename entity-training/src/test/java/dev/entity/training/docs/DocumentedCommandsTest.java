// Convention: a documented command is every line (with its backslash continuations) of a ```bash
// block in the checked pages that starts with ./entity-train, entity-train or one of the scripts;
// prose and other tools' commands (docker, ollama) are left to the reader.
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
 * Every command shown in docs/API.md and docs/FAQ.md is parsed by the real command line (so a
 * renamed or removed option fails here), and the cheap ones (no large model) are run in-process on
 * the repository's files, with outputs sent to a temporary folder, and must exit 0.
 */
class DocumentedCommandsTest {

  static final List<String> PAGES = List.of("docs/API.md", "docs/FAQ.md");

  /** Thin scripts and the command each one runs. */
  static final Map<String, String> SCRIPTS =
      Map.of(
          "scripts/estimate_memory.sh", "estimate-memory",
          "scripts/merge_adapter.sh", "merge-adapter",
          "scripts/convert_to_gguf.sh", "convert-to-gguf",
          "scripts/benchmark.sh", "benchmark");

  /** Commands that run in seconds without a large model; the rest are parsed only. */
  static final Set<String> RUN = Set.of("estimate-memory", "plugins", "prepare-dataset", "help");

  /**
   * Commands being merged from other branches; a documented line may use them before they land in
   * this build (then it is not checked), and is parsed as soon as they do.
   */
  static final Set<String> LANDING =
      Set.of("merge-adapter", "convert-to-gguf", "benchmark", "export", "chat", "generate", "push");

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

  @ParameterizedTest(name = "{0}")
  @MethodSource("commands")
  void parsesWithTheRealCommandLineAndTheCheapOnesRun(Documented documented) {
    String command = commandName(documented.args());
    CommandLine cli = Main.commandLine();
    if (!command.isEmpty() && !cli.getSubcommands().containsKey(command)) {
      assertThat(LANDING).as(documented + ": no such command").contains(command);
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
