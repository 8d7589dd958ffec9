package dev.entity.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.entity.core.EntityException;
import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigBinderTest {

  enum Method {
    FULL,
    LORA,
    QLORA
  }

  record Training(
      @NotBlank String datasetPath,
      @Positive Integer loraR,
      @Positive @DecimalMax("1.0") Double learningRate,
      Method trainingMethod,
      Boolean loadIn4bit,
      List<@NotBlank String> targetModules,
      @PositiveOrZero int seed)
      implements CrossFieldRules {
    Training {
      if (loraR == null) {
        loraR = 16;
      }
      if (learningRate == null) {
        learningRate = 2e-4;
      }
      if (trainingMethod == null) {
        trainingMethod = Method.LORA;
      }
      if (loadIn4bit == null) {
        loadIn4bit = false;
      }
      targetModules =
          targetModules == null ? List.of("q_proj", "v_proj") : List.copyOf(targetModules);
    }

    @Override
    public List<ConfigViolation> crossFieldViolations() {
      if (trainingMethod == Method.QLORA && !loadIn4bit) {
        return List.of(
            ConfigViolation.of("load_in_4bit", "must be true when training_method is qlora"));
      }
      return List.of();
    }
  }

  record Source(@NotBlank String path, @Positive Integer weight) {}

  record Mix(@NotEmpty List<Source> sources, @Valid Source fallback) {}

  record Window(int start, int end) {
    @AssertTrue(message = "start must not be after end")
    boolean isOrdered() {
      return start <= end;
    }
  }

  record Renamed(@JsonProperty("bf16") Boolean useBf16) {}

  private static Map<String, Object> map(Object... keyValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      map.put((String) keyValues[i], keyValues[i + 1]);
    }
    return map;
  }

  private static List<String> violations(Class<? extends Record> type, Map<String, Object> values) {
    try {
      ConfigBinder.bind(type, values);
    } catch (ConfigException e) {
      assertThat(e).isInstanceOf(EntityException.class);
      for (ConfigViolation violation : e.violations()) {
        assertThat(e.getMessage()).contains(violation.toString());
      }
      return e.violations().stream().map(ConfigViolation::toString).toList();
    }
    throw new AssertionError("expected violations for " + values);
  }

  @Test
  void bindsSnakeCaseKeysAndFillsDefaults() {
    Training training =
        ConfigBinder.bind(
            Training.class, map("dataset_path", "data/a.jsonl", "load_in_4bit", true, "seed", 7));
    assertThat(training.datasetPath()).isEqualTo("data/a.jsonl");
    assertThat(training.loraR()).isEqualTo(16);
    assertThat(training.learningRate()).isEqualTo(2e-4);
    assertThat(training.trainingMethod()).isEqualTo(Method.LORA);
    assertThat(training.loadIn4bit()).isTrue();
    assertThat(training.targetModules()).containsExactly("q_proj", "v_proj");
    assertThat(training.seed()).isEqualTo(7);
  }

  @Test
  void acceptsCaseInsensitiveEnumsSingleValueListsAndNumericText() {
    Training training =
        ConfigBinder.bind(
            Training.class,
            map(
                "dataset_path", "d",
                "training_method", "QLora",
                "load_in_4bit", "true",
                "lora_r", "8",
                "target_modules", "o_proj",
                "seed", 0));
    assertThat(training.trainingMethod()).isEqualTo(Method.QLORA);
    assertThat(training.loraR()).isEqualTo(8);
    assertThat(training.targetModules()).containsExactly("o_proj");
  }

  @Test
  void bindsFromYamlIncludingExponentNumbersThatYamlReadsAsText() throws Exception {
    var yaml =
        new com.fasterxml.jackson.databind.ObjectMapper(
            new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
    Training training =
        ConfigBinder.bind(
            Training.class,
            yaml.readTree(
                "dataset_path: d\nlearning_rate: 2e-5\nseed: 3\ntarget_modules: [a, b]\n"),
            "config");
    assertThat(training.learningRate()).isEqualTo(2e-5);
    assertThat(training.targetModules()).containsExactly("a", "b");
  }

  @Test
  void unknownKeyIsRejectedWithKnownFieldsAndSuggestion() {
    List<String> found =
        violations(Training.class, map("dataset_path", "d", "seed", 1, "lora_rr", 4));
    assertThat(found)
        .containsExactly(
            "config.lora_rr: unknown field; known fields are dataset_path, lora_r, learning_rate,"
                + " training_method, load_in_4bit, target_modules, seed; did you mean 'lora_r'?");
  }

  @Test
  void everyViolationIsReportedAtOnceWithItsPath() {
    List<String> found =
        violations(
            Training.class,
            map(
                "dataset_path",
                " ",
                "lora_r",
                0,
                "learning_rate",
                3.5,
                "target_modules",
                List.of("q_proj", ""),
                "seed",
                -1,
                "foo",
                1));
    assertThat(found)
        .contains(
            "config.foo: unknown field; known fields are dataset_path, lora_r, learning_rate,"
                + " training_method, load_in_4bit, target_modules, seed",
            "config.lora_r: must be greater than 0",
            "config.dataset_path: must not be blank",
            "config.learning_rate: must be less than or equal to 1.0",
            "config.seed: must be greater than or equal to 0")
        .anyMatch(v -> v.startsWith("config.target_modules[1]") && v.endsWith("must not be blank"))
        .hasSize(6);
  }

  @Test
  void typeMismatchIsReportedWithPathTogetherWithConstraintViolations() {
    List<String> found =
        violations(
            Training.class,
            map(
                "dataset_path",
                "d",
                "lora_r",
                "abc",
                "learning_rate",
                -1,
                "load_in_4bit",
                List.of(1),
                "seed",
                1.5,
                "training_method",
                "lorra"));
    assertThat(found)
        .containsExactlyInAnyOrder(
            "config.lora_r: expected an integer, got string \"abc\"",
            "config.learning_rate: must be greater than 0",
            "config.load_in_4bit: expected true or false, got a list",
            "config.seed: expected an integer, got number 1.5",
            "config.training_method: must be one of full, lora, qlora; got string \"lorra\"");
  }

  @Test
  void integerOverflowAndContainerForStringAreTypeErrors() {
    List<String> found =
        violations(
            Training.class, map("dataset_path", map("a", 1), "lora_r", 9_999_999_999L, "seed", 1));
    assertThat(found)
        .containsExactlyInAnyOrder(
            "config.dataset_path: expected a string, got a mapping",
            "config.lora_r: expected an integer between -2147483648 and 2147483647, got 9999999999");
  }

  @Test
  void missingPrimitiveIsRequiredAndNullReferenceFieldsAreChecked() {
    List<String> found = violations(Training.class, map("lora_r", null));
    assertThat(found).containsExactly("config.seed: required field is missing");
    List<String> second = violations(Training.class, map("seed", 3));
    assertThat(second).containsExactly("config.dataset_path: must not be blank");
  }

  @Test
  void crossFieldRulesAreReportedWithTheirField() {
    List<String> found =
        violations(Training.class, map("dataset_path", "d", "seed", 1, "training_method", "qlora"));
    assertThat(found)
        .containsExactly("config.load_in_4bit: must be true when training_method is qlora");
  }

  @Test
  void assertTrueMethodIsReportedWithThePropertyName() {
    assertThat(violations(Window.class, map("start", 5, "end", 2)))
        .containsExactly("config.ordered: start must not be after end");
    assertThat(ConfigBinder.bind(Window.class, map("start", 1, "end", 2)).end()).isEqualTo(2);
  }

  @Test
  void nestedRecordsAndListsBindWithNestedPaths() {
    Mix mix =
        ConfigBinder.bind(
            Mix.class, map("sources", List.of(map("path", "a", "weight", 2)), "fallback", null));
    assertThat(mix.sources()).containsExactly(new Source("a", 2));

    List<String> found =
        violations(
            Mix.class,
            map(
                "sources",
                List.of(map("path", "a"), map("path", "", "weight", -1, "extra", true), "text"),
                "fallback",
                map("path", "")));
    assertThat(found)
        .containsExactlyInAnyOrder(
            "config.sources[1].extra: unknown field; known fields are path, weight",
            "config.sources[1].path: must not be blank",
            "config.sources[1].weight: must be greater than 0",
            "config.sources[2]: expected a mapping of fields, got string \"text\"",
            "config.fallback.path: must not be blank");
  }

  @Test
  void topLevelMustBeAMapping() {
    assertThatThrownBy(
            () ->
                ConfigBinder.bind(
                    Window.class,
                    com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.textNode("x"),
                    "config"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("config: expected a mapping of fields, got string \"x\"");
  }

  @Test
  void jsonPropertyOverridesTheKey() {
    assertThat(ConfigBinder.bind(Renamed.class, map("bf16", true)).useBf16()).isTrue();
    assertThat(ConfigBinder.keys(Renamed.class)).containsExactly("bf16");
  }

  @Test
  void compactConstructorFailureIsAViolation() {
    record Strict(String mode) {
      Strict {
        if (mode != null && !mode.equals("a")) {
          throw new IllegalArgumentException("mode must be 'a'");
        }
      }
    }
    assertThat(violations(Strict.class, map("mode", "b")))
        .containsExactly("config: mode must be 'a'");
  }

  @Test
  void snakeCaseSplitsBeforeCapitalsAndDigitRuns() {
    assertThat(ConfigBinder.snakeCase("loraR")).isEqualTo("lora_r");
    assertThat(ConfigBinder.snakeCase("loadIn4bit")).isEqualTo("load_in_4bit");
    assertThat(ConfigBinder.snakeCase("bnb4bitComputeDtype")).isEqualTo("bnb_4bit_compute_dtype");
    assertThat(ConfigBinder.snakeCase("seed")).isEqualTo("seed");
  }

  @Test
  void checkValidatesRecordsBuiltInCode() {
    assertThat(ConfigBinder.check(new Source("", 0), "config"))
        .extracting(ConfigViolation::toString)
        .containsExactlyInAnyOrder(
            "config.path: must not be blank", "config.weight: must be greater than 0");
    assertThat(ConfigBinder.check(new Source("p", 1), "config")).isEmpty();
  }

  @Test
  void requiredNotNullReferenceField() {
    record Needs(@NotNull String model) {}
    assertThat(violations(Needs.class, map())).containsExactly("config.model: must not be null");
  }
}
