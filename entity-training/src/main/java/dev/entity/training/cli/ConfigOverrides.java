// Convention: a value is read as a YAML scalar or flow collection, so "16" is a number, "true" a
// boolean, "[q_proj, v_proj]" a list and anything that does not parse stays a string.
package dev.entity.training.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.entity.core.EntityException;
import dev.entity.core.config.ConfigBinder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Resolves {@code key=value} arguments against the plugins of a workflow: a plain {@code key}
 * applies to the one plugin whose config has it; {@code plugin.key} names the plugin when several
 * have it. Unknown and ambiguous keys are errors that list the candidates, all reported at once.
 */
final class ConfigOverrides {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern ARGUMENT =
      Pattern.compile("([a-z][a-z0-9_]*\\.)?[a-z][a-z0-9_]*=.*", Pattern.DOTALL);

  private ConfigOverrides() {}

  /**
   * The overrides per plugin name.
   *
   * @param arguments the {@code key=value} arguments in command-line order (later ones win)
   * @param pluginKeys each plugin of the workflow with its config keys, in workflow order
   * @throws EntityException listing every malformed, unknown or ambiguous key
   */
  static Map<String, Map<String, JsonNode>> resolve(
      List<String> arguments, Map<String, List<String>> pluginKeys) {
    Map<String, Map<String, JsonNode>> out = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (String argument : arguments) {
      if (!ARGUMENT.matcher(argument).matches()) {
        problems.add(
            "'"
                + argument
                + "' is not an override; write key=value or plugin.key=value (keys are lower"
                + " case, e.g. lora_r=8)");
        continue;
      }
      int eq = argument.indexOf('=');
      String name = argument.substring(0, eq);
      JsonNode value = parseValue(argument.substring(eq + 1));
      int dot = name.indexOf('.');
      if (dot >= 0) {
        String plugin = name.substring(0, dot);
        String key = name.substring(dot + 1);
        List<String> keys = pluginKeys.get(plugin);
        if (keys == null) {
          problems.add(
              name
                  + ": no plugin '"
                  + plugin
                  + "' in this workflow; its plugins are "
                  + String.join(", ", pluginKeys.keySet()));
        } else if (!keys.contains(key)) {
          problems.add(
              name
                  + ": plugin '"
                  + plugin
                  + "' has no key '"
                  + key
                  + "'"
                  + suggestion(key, keys)
                  + "; its keys are "
                  + String.join(", ", keys));
        } else {
          out.computeIfAbsent(plugin, p -> new LinkedHashMap<>()).put(key, value);
        }
        continue;
      }
      List<String> owners = owners(name, pluginKeys);
      if (owners.size() == 1) {
        out.computeIfAbsent(owners.getFirst(), p -> new LinkedHashMap<>()).put(name, value);
      } else if (owners.isEmpty()) {
        List<String> all = pluginKeys.values().stream().flatMap(List::stream).distinct().toList();
        StringBuilder known = new StringBuilder();
        pluginKeys.forEach(
            (plugin, keys) ->
                known.append("\n    ").append(plugin).append(": ").append(String.join(", ", keys)));
        problems.add(
            "unknown override key '"
                + name
                + "'"
                + suggestion(name, all)
                + "; the keys of this workflow's plugins are:"
                + known);
      } else {
        problems.add(
            "override key '"
                + name
                + "' is ambiguous: plugins "
                + String.join(" and ", owners)
                + " both have it; write "
                + String.join(" or ", owners.stream().map(o -> o + "." + name + "=...").toList()));
      }
    }
    if (!problems.isEmpty()) {
      throw new EntityException(
          problems.size() == 1
              ? problems.getFirst()
              : "bad overrides:\n  " + String.join("\n  ", problems));
    }
    return out;
  }

  /** The plugins, in workflow order, whose config has {@code key}. */
  static List<String> owners(String key, Map<String, List<String>> pluginKeys) {
    return pluginKeys.entrySet().stream()
        .filter(e -> e.getValue().contains(key))
        .map(Map.Entry::getKey)
        .toList();
  }

  /**
   * A YAML value; an empty value is null (the field's default), text that does not parse stays
   * text.
   */
  static JsonNode parseValue(String text) {
    if (text.isEmpty()) {
      return NullNode.getInstance();
    }
    try {
      JsonNode node = YAML.readTree(text);
      return node == null || node.isMissingNode() ? TextNode.valueOf(text) : node;
    } catch (JacksonException e) {
      return TextNode.valueOf(text);
    }
  }

  private static String suggestion(String key, List<String> candidates) {
    return candidates.stream()
        .filter(c -> ConfigBinder.editDistance(c, key) <= Math.max(3, key.length() / 3))
        .min(Comparator.comparingInt(c -> ConfigBinder.editDistance(c, key)))
        .map(c -> " (did you mean " + c + "?)")
        .orElse("");
  }
}
