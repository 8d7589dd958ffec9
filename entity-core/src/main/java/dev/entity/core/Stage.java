package dev.entity.core;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A stage of the pipeline. A workflow runs {@link #PIPELINE} once, in order, each stage's plugins
 * in the order they are listed; {@link #ERROR} runs only when a plugin of another stage fails. In
 * workflow YAML a stage is written in lower case ({@code input}, {@code parse}, ...).
 */
public enum Stage {
  /** Reads what the run works on: datasets, files, user input. */
  INPUT,
  /** Turns input into validated, typed settings. */
  PARSE,
  /** Plans: estimates, decisions, adjustments before the work. */
  THINK,
  /** Does the work, e.g. training. */
  DO,
  /** Checks the work, e.g. evaluation. */
  REVIEW,
  /** Delivers results; the only normal stage that may {@code say} to the user. */
  OUTPUT,
  /** Runs after a failure in any other stage; may read the failure and {@code say} to the user. */
  ERROR;

  /** The six normal stages in the order a workflow runs them. */
  public static final List<Stage> PIPELINE = List.of(INPUT, PARSE, THINK, DO, REVIEW, OUTPUT);

  /** The stage's name as written in workflow YAML, e.g. {@code input}. */
  public String yamlName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether plugins in this stage may speak to the user. */
  public boolean maySay() {
    return this == OUTPUT || this == ERROR;
  }

  /**
   * The stage with this name, ignoring case.
   *
   * @throws EntityException naming the unknown stage and listing the stages that exist
   */
  public static Stage parse(String name) {
    for (Stage stage : values()) {
      if (stage.name().equalsIgnoreCase(name.strip())) {
        return stage;
      }
    }
    throw new EntityException(
        "unknown stage '" + name + "'; stages are " + allYamlNames() + " (in this order)");
  }

  /** All stage names as written in YAML, comma separated, in pipeline order. */
  public static String allYamlNames() {
    return Arrays.stream(values()).map(Stage::yamlName).collect(Collectors.joining(", "));
  }
}
