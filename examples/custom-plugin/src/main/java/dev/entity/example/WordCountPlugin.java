// Convention: this file is the worked example of docs/API.md ("Writing a custom plugin"); when the
// plugin API changes, this class and that section change together (WordCountPluginTest runs it).
package dev.entity.example;

import dev.entity.core.EntityException;
import dev.entity.core.Plugin;
import dev.entity.core.PluginContext;
import dev.entity.core.Stage;
import dev.entity.core.config.ConfigViolation;
import dev.entity.core.config.CrossFieldRules;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Positive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * An example plugin for the INPUT or PARSE stage: counts the lines and words of a text file, flags
 * lines shorter than {@code min_words} or longer than {@code max_words}, stores the counts in
 * memory under {@code word_count} and passes a one-line summary on to the next plugin. It shows
 * every convention a plugin follows: a config record with snake_case keys, defaults in the compact
 * constructor, Bean Validation constraints, a cross-field rule, declared resources, a user error
 * that names the file and field, and a {@code META-INF/services} entry so the registry finds it.
 */
public final class WordCountPlugin implements Plugin<WordCountPlugin.Config> {

  /** The name used in workflow YAML. */
  public static final String NAME = "word_count";

  /** The memory key the counts are stored under. */
  public static final String MEMORY_KEY = "word_count";

  /**
   * The plugin's config, bound from the YAML keys {@code path}, {@code min_words}, {@code
   * max_words}. Components are boxed so a missing key binds as null and gets its default here.
   *
   * @param path the text file to count, relative to the working directory
   * @param minWords lines with fewer words are counted as short (default 1)
   * @param maxWords lines with more words are counted as long (default 512)
   */
  public record Config(
      @NotBlank String path, @Positive Integer minWords, @Positive Integer maxWords)
      implements CrossFieldRules {
    /** Fills the defaults. */
    public Config {
      if (minWords == null) {
        minWords = 1;
      }
      if (maxWords == null) {
        maxWords = 512;
      }
    }

    @Override
    public List<ConfigViolation> crossFieldViolations() {
      List<ConfigViolation> violations = new ArrayList<>();
      if (minWords != null && maxWords != null && minWords > maxWords) {
        violations.add(
            ConfigViolation.of(
                "max_words", "is " + maxWords + ", less than min_words " + minWords));
      }
      return violations;
    }
  }

  /** What the plugin stores in memory: plain values, serialized as JSON. */
  public record Counts(String path, long lines, long words, long shortLines, long longLines) {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Stage> stages() {
    return Set.of(Stage.INPUT, Stage.PARSE);
  }

  @Override
  public Set<String> resources() {
    return Set.of("memory", "logging");
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public String execute(PluginContext context, Config config) throws IOException {
    Path file = Path.of(config.path());
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new EntityException(
          "path: file not found: " + file.toAbsolutePath() + "; give an existing text file", e);
    }
    long words = 0;
    long shortLines = 0;
    long longLines = 0;
    for (String line : lines) {
      String trimmed = line.strip();
      long n = trimmed.isEmpty() ? 0 : trimmed.split("\\s+").length;
      words += n;
      if (n < config.minWords()) {
        shortLines++;
      } else if (n > config.maxWords()) {
        longLines++;
      }
    }
    Counts counts = new Counts(file.toString(), lines.size(), words, shortLines, longLines);
    context.remember(MEMORY_KEY, counts);
    context.log().info("counted words", "lines", counts.lines(), "words", counts.words());
    return file.getFileName()
        + ": "
        + counts.lines()
        + " lines, "
        + counts.words()
        + " words, "
        + shortLines
        + " short, "
        + longLines
        + " long";
  }
}
