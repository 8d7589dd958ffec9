// Convention: the schema is read from the config records alone (components, their Bean Validation
// annotations, and the defaults their compact constructor fills in when every component is null),
// so
// docs/API.md's generated section cannot say anything the code does not.
package dev.entity.training.docs;

import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.config.ConfigBinder;
import dev.entity.core.config.CrossFieldRules;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.Negative;
import jakarta.validation.constraints.NegativeOrZero;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import java.lang.annotation.Annotation;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Generates the Markdown configuration schema of every plugin in a registry: for each plugin its
 * stages, resources and config record, then one table row per key with its type, default and rules.
 * {@link ApiDocTest} checks that docs/API.md holds exactly this text between {@link #BEGIN} and
 * {@link #END}, and rewrites it when run with {@code -Dentity.docs.write=true}.
 */
final class ConfigSchema {

  static final String BEGIN =
      "<!-- BEGIN GENERATED config schema: edit the config records, then run"
          + " ./mvnw -pl entity-training -am test -Dtest=ApiDocTest -Dentity.docs.write=true"
          + " -Dsurefire.failIfNoSpecifiedTests=false -->";
  static final String END = "<!-- END GENERATED config schema -->";

  private ConfigSchema() {}

  /** The generated section, without the markers. */
  static String markdown(PluginRegistry registry) {
    StringBuilder out = new StringBuilder();
    for (Plugin<?> plugin : registry.list()) {
      out.append("\n### ").append(plugin.name()).append("\n\n");
      out.append("Stages: ")
          .append(
              plugin.stages().stream()
                  .sorted()
                  .map(Stage::yamlName)
                  .collect(Collectors.joining(", ")))
          .append(". Resources: ")
          .append(plugin.resources().isEmpty() ? "none" : String.join(", ", sorted(plugin)))
          .append(". Config record: `")
          .append(plugin.configType().getName().replace('$', '.'))
          .append("`")
          .append(
              CrossFieldRules.class.isAssignableFrom(plugin.configType())
                  ? " (with cross-field rules)."
                  : ".")
          .append("\n\n");
      out.append(table(plugin.configType()));
      out.append(nestedTables(plugin.configType()));
    }
    return out.toString();
  }

  /** A table for each component that is itself a config record, after the plugin's own table. */
  static String nestedTables(Class<? extends Record> type) {
    StringBuilder out = new StringBuilder();
    List<String> keys = ConfigBinder.keys(type);
    RecordComponent[] components = type.getRecordComponents();
    for (int i = 0; i < components.length; i++) {
      if (components[i].getType().isRecord()) {
        @SuppressWarnings("unchecked")
        Class<? extends Record> nested = (Class<? extends Record>) components[i].getType();
        out.append("\nKeys of `").append(keys.get(i)).append("`:\n\n").append(table(nested));
      }
    }
    return out.toString();
  }

  private static List<String> sorted(Plugin<?> plugin) {
    return plugin.resources().stream().sorted().toList();
  }

  /** One row per key of {@code type}: key, type, default, rules. */
  static String table(Class<? extends Record> type) {
    RecordComponent[] components = type.getRecordComponents();
    List<String> keys = ConfigBinder.keys(type);
    Record defaults = defaults(type);
    StringBuilder out = new StringBuilder("| key | type | default | rules |\n|---|---|---|---|\n");
    for (int i = 0; i < components.length; i++) {
      RecordComponent component = components[i];
      List<String> rules = rules(component.getAccessor().getAnnotations());
      Object value = read(component, defaults);
      boolean notNull = rules.remove("required");
      boolean empty = value == null || value instanceof List<?> list && list.isEmpty();
      String shown =
          component.getType().isPrimitive() || notNull && empty
              ? "required"
              : value == null ? "none" : render(value);
      out.append("| `")
          .append(keys.get(i))
          .append("` | ")
          .append(typeName(component.getGenericType()))
          .append(" | ")
          .append(shown)
          .append(" | ")
          .append(rules.isEmpty() ? "" : String.join("; ", rules))
          .append(" |\n");
    }
    return out.toString();
  }

  /** The record built from all-null (or zero) components: the defaults its constructor fills in. */
  private static Record defaults(Class<? extends Record> type) {
    RecordComponent[] components = type.getRecordComponents();
    Class<?>[] types =
        Arrays.stream(components).map(RecordComponent::getType).toArray(Class[]::new);
    Object[] args = new Object[components.length];
    for (int i = 0; i < types.length; i++) {
      args[i] = types[i].isPrimitive() ? zero(types[i]) : null;
    }
    try {
      Constructor<? extends Record> constructor = type.getDeclaredConstructor(types);
      constructor.setAccessible(true);
      return constructor.newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(
          type.getName() + " cannot be built from all-null components: " + e.getCause(), e);
    }
  }

  private static Object zero(Class<?> primitive) {
    if (primitive == boolean.class) {
      return false;
    }
    if (primitive == char.class) {
      return (char) 0;
    }
    if (primitive == double.class) {
      return 0.0;
    }
    if (primitive == float.class) {
      return 0.0f;
    }
    if (primitive == long.class) {
      return 0L;
    }
    if (primitive == int.class) {
      return 0;
    }
    return primitive == short.class ? (short) 0 : (byte) 0;
  }

  private static Object read(RecordComponent component, Record record) {
    try {
      return component.getAccessor().invoke(record);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String render(Object value) {
    if (value instanceof Record record) {
      List<String> keys = ConfigBinder.keys(record.getClass());
      RecordComponent[] components = record.getClass().getRecordComponents();
      List<String> set = new ArrayList<>();
      for (int i = 0; i < components.length; i++) {
        Object v = read(components[i], record);
        if (v != null) {
          set.add(keys.get(i) + ": " + v);
        }
      }
      return set.isEmpty() ? "none" : "`{" + String.join(", ", set) + "}`";
    }
    if (value instanceof java.util.Map<?, ?> map && map.isEmpty()) {
      return "none";
    }
    if (value instanceof List<?> list) {
      return list.isEmpty()
          ? "`[]`"
          : "`[" + list.stream().map(String::valueOf).collect(Collectors.joining(", ")) + "]`";
    }
    if (value instanceof Enum<?> e) {
      return "`" + e.name().toLowerCase(Locale.ROOT) + "`";
    }
    return "`" + value + "`";
  }

  static String typeName(Type type) {
    if (type instanceof ParameterizedType parameterized
        && parameterized.getRawType() instanceof Class<?> raw
        && List.class.isAssignableFrom(raw)) {
      return "list of " + typeName(parameterized.getActualTypeArguments()[0]);
    }
    if (type instanceof ParameterizedType parameterized
        && parameterized.getRawType() instanceof Class<?> raw
        && java.util.Map.class.isAssignableFrom(raw)) {
      Type[] arguments = parameterized.getActualTypeArguments();
      return "mapping of " + typeName(arguments[0]) + " to " + typeName(arguments[1]);
    }
    if (!(type instanceof Class<?> c)) {
      return type.getTypeName();
    }
    if (c == String.class) {
      return "string";
    }
    if (c == Integer.class || c == int.class || c == Long.class || c == long.class) {
      return "integer";
    }
    if (c == Double.class || c == double.class || c == Float.class || c == float.class) {
      return "number";
    }
    if (c == Boolean.class || c == boolean.class) {
      return "boolean";
    }
    if (c.isEnum()) {
      return "one of "
          + Arrays.stream(c.getEnumConstants())
              .map(e -> ((Enum<?>) e).name().toLowerCase(Locale.ROOT))
              .collect(Collectors.joining(", "));
    }
    if (c.isRecord()) {
      return "mapping (" + c.getSimpleName() + ")";
    }
    return c.getSimpleName();
  }

  /** The Bean Validation constraints as short rules; "required" for the not-null family. */
  static List<String> rules(Annotation[] annotations) {
    List<String> rules = new ArrayList<>();
    for (Annotation a : annotations) {
      switch (a) {
        case NotNull n -> rules.add("required");
        case NotBlank n -> rules.add("required");
        case NotEmpty n -> rules.add("required");
        case Positive p -> rules.add("> 0");
        case PositiveOrZero p -> rules.add("≥ 0");
        case Negative n -> rules.add("< 0");
        case NegativeOrZero n -> rules.add("≤ 0");
        case Min m -> rules.add("≥ " + m.value());
        case Max m -> rules.add("≤ " + m.value());
        case DecimalMin m -> rules.add((m.inclusive() ? "≥ " : "> ") + m.value());
        case DecimalMax m -> rules.add((m.inclusive() ? "≤ " : "< ") + m.value());
        case Size s -> rules.add("size " + s.min() + ".." + s.max());
        case Pattern p -> rules.add(pattern(p.regexp()));
        default -> {
          if (a.annotationType().getPackageName().startsWith("jakarta.validation")) {
            rules.add("@" + a.annotationType().getSimpleName());
          }
        }
      }
    }
    return rules;
  }

  /** {@code (?i)a|b|c} reads as "one of a, b, c"; any other pattern is shown as is. */
  private static String pattern(String regexp) {
    String plain = regexp.replace("(?i)", "");
    if (plain.matches("[a-z0-9_.-]+(\\|[a-z0-9_.-]+)*")) {
      return "one of " + String.join(", ", plain.split("\\|"));
    }
    return "matches `" + regexp + "`";
  }
}
