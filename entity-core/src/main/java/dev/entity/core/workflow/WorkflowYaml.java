// Convention: the YAML is read as a token stream so each stage and step keeps its line number;
// only a step's config is read as a tree and handed to the config binder.
package dev.entity.core.workflow;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.entity.core.EntityException;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.config.ConfigBinder;
import dev.entity.core.config.ConfigException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads workflow YAML: a mapping from stage name to a list of steps, each {@code {plugin: name,
 * config: {...}}} or just a plugin name; an optional {@code resources} entry sets {@code
 * memory.path} (a DuckDB file, in memory when absent) and {@code storage.run_folder}.
 *
 * <pre>
 * resources:
 *   memory: {path: runs/memory.duckdb}
 * input:
 *   - plugin: dataset_loader
 *     config: {dataset_path: "${DATA:-data/sample.jsonl}"}
 * parse:
 *   - plugin: training_config
 *     config: {lora_r: 16}
 * error:
 *   - report_failure
 * </pre>
 *
 * {@code ${ENV}} references are substituted first (see {@link EnvSubstitution}). Every error names
 * the file and line.
 */
public final class WorkflowYaml {

  /** The optional {@code resources} entry. */
  record ResourcesConfig(MemoryConfig memory, StorageConfig storage) {}

  /** Where the memory database lives. */
  record MemoryConfig(String path) {}

  /** Where the run folder is. */
  record StorageConfig(String runFolder) {}

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static final Pattern PROBLEM_MARK = Pattern.compile("line (\\d+), column (\\d+)");

  private WorkflowYaml() {}

  /**
   * Reads {@code file} with the process environment and builds the workflow.
   *
   * @throws EntityException for an unreadable file, invalid YAML or any invalid step
   */
  public static Workflow load(Path file, PluginRegistry registry) {
    return read(file, registry, System::getenv).build();
  }

  /**
   * Reads {@code file} into a builder, so the caller can still set the run folder, memory file,
   * resources or config overrides before {@link Workflow.Builder#build()}.
   */
  public static Workflow.Builder read(
      Path file, PluginRegistry registry, Function<String, String> environment) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
              .toString();
    } catch (NoSuchFileException e) {
      throw new EntityException("workflow file " + file + " does not exist", e);
    } catch (CharacterCodingException e) {
      throw new EntityException("workflow file " + file + " is not UTF-8 text", e);
    } catch (IOException e) {
      throw new EntityException("cannot read workflow file " + file + ": " + e, e);
    }
    String name = file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
    return parse(text, file.toString(), name, registry, environment);
  }

  /**
   * Parses workflow text into a builder.
   *
   * @param source the file name used in error messages
   * @param name the workflow's name
   */
  public static Workflow.Builder parse(
      String text,
      String source,
      String name,
      PluginRegistry registry,
      Function<String, String> environment) {
    String substituted = EnvSubstitution.apply(text, source, environment);
    Workflow.Builder builder = Workflow.builder(name, registry);
    JsonParser parser;
    try {
      parser = YAML.getFactory().createParser(substituted);
    } catch (IOException e) {
      throw new EntityException(source + ": cannot read: " + e, e);
    }
    try (parser) {
      parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      JsonToken token = parser.nextToken();
      if (token == null || token == JsonToken.VALUE_NULL) {
        throw new EntityException(
            source
                + ": the workflow is empty; list stages with their plugins, e.g. 'input: [...]'");
      }
      if (token != JsonToken.START_OBJECT) {
        throw new EntityException(
            at(source, parser)
                + ": expected a mapping of stage names to plugin lists, got "
                + describe(token));
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String key = parser.currentName();
        String keyAt = at(source, parser);
        parser.nextToken();
        if (key.equals("resources")) {
          readResources(parser, keyAt, builder);
          continue;
        }
        Stage stage;
        try {
          stage = Stage.parse(key);
        } catch (EntityException e) {
          builder.problem(
              keyAt
                  + ": unknown stage '"
                  + key
                  + "'; stages are "
                  + Stage.allYamlNames()
                  + ", and 'resources' sets resources");
          parser.skipChildren();
          continue;
        }
        readSteps(parser, source, stage, builder);
      }
    } catch (JsonProcessingException e) {
      throw new EntityException(
          source + yamlErrorAt(e, parser) + ": invalid YAML: " + yamlProblem(e), e);
    } catch (IOException e) {
      throw new EntityException(source + ": cannot read: " + e, e);
    }
    return builder;
  }

  private static void readSteps(
      JsonParser parser, String source, Stage stage, Workflow.Builder builder) throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return;
    }
    if (token != JsonToken.START_ARRAY) {
      builder.problem(
          at(source, parser)
              + ": stage "
              + stage.yamlName()
              + " must be a list of steps like '- plugin: name', got "
              + describe(token));
      parser.skipChildren();
      return;
    }
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      String where = at(source, parser);
      JsonNode step = YAML.readTree(parser);
      if (step.isTextual()) {
        builder.add(stage, step.asText(), (JsonNode) null, where);
      } else if (step.isObject()) {
        boolean valid = true;
        for (Iterator<String> keys = step.fieldNames(); keys.hasNext(); ) {
          String key = keys.next();
          if (!key.equals("plugin") && !key.equals("config")) {
            builder.problem(
                where + ": unknown step key '" + key + "'; a step has 'plugin' and 'config'");
            valid = false;
          }
        }
        JsonNode plugin = step.get("plugin");
        if (plugin == null || !plugin.isTextual() || plugin.asText().isBlank()) {
          builder.problem(where + ": step needs 'plugin: <name>'");
          valid = false;
        }
        if (valid) {
          builder.add(stage, plugin.asText(), step.get("config"), where);
        }
      } else {
        builder.problem(
            where
                + ": a step is '- plugin: name' with optional 'config:', got "
                + step.getNodeType().toString().toLowerCase(Locale.ROOT));
      }
    }
  }

  private static void readResources(JsonParser parser, String where, Workflow.Builder builder)
      throws IOException {
    JsonNode tree = YAML.readTree(parser);
    try {
      ResourcesConfig config = ConfigBinder.bind(ResourcesConfig.class, tree, "resources");
      if (config.memory() != null && config.memory().path() != null) {
        builder.memoryFile(Path.of(config.memory().path()));
      }
      if (config.storage() != null && config.storage().runFolder() != null) {
        builder.runFolder(Path.of(config.storage().runFolder()));
      }
    } catch (ConfigException e) {
      e.violations().forEach(v -> builder.problem(where + ": " + v));
    }
  }

  /**
   * " line L column C" of a YAML error: SnakeYAML's problem mark when its message has one (the
   * context mark Jackson reports can be lines earlier), else Jackson's location, else the parser's
   * (limit violations carry no location).
   */
  private static String yamlErrorAt(JsonProcessingException e, JsonParser parser) {
    Matcher mark = PROBLEM_MARK.matcher(String.valueOf(e.getOriginalMessage()));
    String line = null;
    String column = null;
    while (mark.find()) {
      line = mark.group(1);
      column = mark.group(2);
    }
    if (line != null) {
      return " line " + line + " column " + column;
    }
    JsonLocation location = e.getLocation() != null ? e.getLocation() : parser.currentLocation();
    return location == null
        ? ""
        : " line " + location.getLineNr() + " column " + location.getColumnNr();
  }

  /** The problem lines of a YAML error without SnakeYAML's source excerpt. */
  private static String yamlProblem(JsonProcessingException e) {
    return String.valueOf(e.getOriginalMessage())
        .lines()
        .filter(
            l ->
                !l.isBlank()
                    && !l.startsWith(" in ")
                    && !l.startsWith("    ")
                    && !l.strip().equals("^"))
        .map(String::strip)
        .reduce((a, b) -> a + "; " + b)
        .orElse("");
  }

  private static String at(String source, JsonParser parser) {
    return source + " line " + parser.currentTokenLocation().getLineNr();
  }

  private static String describe(JsonToken token) {
    return switch (token) {
      case START_ARRAY -> "a list";
      case START_OBJECT -> "a mapping";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      default -> token.toString().toLowerCase(Locale.ROOT);
    };
  }
}
