package dev.entity.training.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.core.PluginRegistry;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/API.md's configuration schema equal to what {@link ConfigSchema} generates from the
 * registered plugins' config records. With {@code -Dentity.docs.write=true} it rewrites the section
 * instead of failing.
 */
class ApiDocTest {

  @Test
  void theSchemaSectionOfApiMdMatchesTheConfigRecords() throws IOException {
    Path file = Repository.root().resolve("docs/API.md");
    String text = Files.readString(file, StandardCharsets.UTF_8);
    int begin = text.indexOf(ConfigSchema.BEGIN);
    int end = text.indexOf(ConfigSchema.END);
    assertThat(begin).as("docs/API.md has the BEGIN marker").isNotNegative();
    assertThat(end).as("docs/API.md has the END marker after BEGIN").isGreaterThan(begin);
    String generated = ConfigSchema.markdown(PluginRegistry.discover()) + "\n";
    String current = text.substring(begin + ConfigSchema.BEGIN.length(), end);
    if (Boolean.getBoolean("entity.docs.write") && !current.equals(generated)) {
      Files.writeString(
          file,
          text.substring(0, begin + ConfigSchema.BEGIN.length()) + generated + text.substring(end),
          StandardCharsets.UTF_8);
      return;
    }
    assertThat(current)
        .as(
            "docs/API.md's config schema is out of date with the config records; regenerate it with"
                + " the command in its BEGIN marker")
        .isEqualTo(generated);
  }

  @Test
  void everyRegisteredPluginHasASchemaSection() {
    String text = Repository.read("docs/API.md");
    for (String name : PluginRegistry.discover().names()) {
      assertThat(text).contains("\n### " + name + "\n");
    }
  }

  /** A record shaped like a plugin config, to check the generator on its own. */
  record Sample(
      @NotBlank String path,
      @Positive @DecimalMax(value = "1", inclusive = false) Double rate,
      @Pattern(regexp = "(?i)a|b") String mode,
      List<String> names,
      int count) {
    Sample {
      rate = rate == null ? 0.5 : rate;
      names = names == null ? List.of("x", "y") : names;
    }
  }

  /** A config with a nested record and a map, as the evaluation and export plugins have. */
  record Nested(Inner inner, java.util.Map<String, Double> weights) {
    record Inner(Integer depth, String label) {
      Inner {
        depth = depth == null ? 3 : depth;
      }
    }

    Nested {
      inner = inner == null ? new Inner(null, null) : inner;
      weights = weights == null ? java.util.Map.of() : weights;
    }
  }

  @Test
  void nestedRecordsGetTheirOwnTableAndReadableDefaults() {
    assertThat(ConfigSchema.table(Nested.class) + ConfigSchema.nestedTables(Nested.class))
        .isEqualTo(
            """
            | key | type | default | rules |
            |---|---|---|---|
            | `inner` | mapping (Inner) | `{depth: 3}` |  |
            | `weights` | mapping of string to number | none |  |

            Keys of `inner`:

            | key | type | default | rules |
            |---|---|---|---|
            | `depth` | integer | `3` |  |
            | `label` | string | none |  |
            """);
  }

  @Test
  void theGeneratorReadsTypesDefaultsAndRulesFromTheRecord() {
    assertThat(ConfigSchema.table(Sample.class))
        .isEqualTo(
            """
            | key | type | default | rules |
            |---|---|---|---|
            | `path` | string | required |  |
            | `rate` | number | `0.5` | > 0; < 1 |
            | `mode` | string | none | one of a, b |
            | `names` | list of string | `[x, y]` |  |
            | `count` | integer | required |  |
            """);
  }
}
