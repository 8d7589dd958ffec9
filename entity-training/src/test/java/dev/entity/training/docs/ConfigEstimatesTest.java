// Convention: a config documents its memory as a comment "# Memory (./entity-train estimate-memory
// ARGS), as ... printed it:" (ARGS may continue on the next comment lines) followed by the
// printed table; the table's total line is what is compared, so a change to the estimator that
// moves the total fails here with the fresh output to paste.
package dev.entity.training.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.training.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The memory estimate pasted into each example config is what {@code entity-train estimate-memory}
 * prints today for the command the comment names.
 */
class ConfigEstimatesTest {

  static final Pattern COMMAND =
      Pattern.compile("# Memory \\((\\./entity-train estimate-memory(?:[^)]|\\n#)*)\\)");
  static final Pattern TOTAL = Pattern.compile("(?m)^#?\\s+total\\s+(\\S+ \\S+)\\s*$");

  record Documented(Path file, List<String> args, String total) {
    @Override
    public String toString() {
      return file.getFileName().toString();
    }
  }

  /** The estimate-memory command and the total a config's comment shows, or null. */
  static Documented documented(Path file, String text) {
    Matcher command = COMMAND.matcher(text);
    if (!command.find()) {
      return null;
    }
    Matcher total = TOTAL.matcher(text);
    assertThat(total.find(command.end())).as(file + ": a total line after the command").isTrue();
    String joined = command.group(1).replaceAll("\\s*\\n#\\s*", " ");
    List<String> words = List.of(joined.strip().split("\\s+"));
    return new Documented(file, words.subList(1, words.size()), total.group(1));
  }

  static Stream<Documented> configs() throws IOException {
    try (Stream<Path> files = Files.list(Repository.root().resolve("configs"))) {
      List<Documented> found =
          files
              .filter(f -> f.toString().endsWith(".yaml"))
              .sorted()
              .map(f -> documented(f, Repository.read("configs/" + f.getFileName())))
              .filter(d -> d != null)
              .toList();
      assertThat(found)
          .extracting(Documented::toString)
          .contains("cpu_lora.yaml", "qlora_training.yaml", "full_training.yaml");
      return found.stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void thePastedTotalIsWhatTheEstimatorPrints(Documented documented) {
    StringWriter out = new StringWriter();
    int code =
        Main.run(
            documented.args().toArray(String[]::new),
            new PrintWriter(out),
            new PrintWriter(new StringWriter()));
    assertThat(code).as(documented.args().toString()).isZero();
    Matcher total = TOTAL.matcher(out.toString());
    assertThat(total.find()).as(out.toString()).isTrue();
    assertThat(total.group(1))
        .as(
            documented.file()
                + ": the pasted estimate is out of date; paste the new output of "
                + String.join(" ", documented.args())
                + ":\n"
                + out)
        .isEqualTo(documented.total());
  }

  @Test
  void theCommentIsFoundAcrossContinuationLines() {
    String text =
        """
        # Memory (./entity-train estimate-memory --shape tiny --method lora
        #   --device cpu), as the estimator printed it:
        #   weights      1.00 MiB
        #   total       12.50 MiB
        """;

    Documented d = documented(Path.of("x.yaml"), text);

    assertThat(d.args())
        .containsExactly(
            "estimate-memory", "--shape", "tiny", "--method", "lora", "--device", "cpu");
    assertThat(d.total()).isEqualTo("12.50 MiB");
    assertThat(documented(Path.of("y.yaml"), "# no estimate here\n")).isNull();
  }
}
