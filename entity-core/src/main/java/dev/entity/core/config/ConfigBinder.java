// Convention: a config record binds from snake_case keys (loraR <- lora_r, loadIn4bit <-
// load_in_4bit, @JsonProperty on the component overrides); a missing or null key binds as null, and
// the record's compact constructor replaces nulls with its defaults. Primitive components are
// therefore required fields.
package dev.entity.core.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.entity.core.EntityException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Path;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.hibernate.validator.HibernateValidator;

/**
 * Binds a config record from a map or JSON/YAML tree and validates it, reporting every problem at
 * once, like pydantic with {@code extra = "forbid"}: unknown keys, type mismatches, missing
 * required fields, Jakarta Bean Validation constraints on record components ({@code @Positive},
 * {@code @NotBlank}, ...), {@code @AssertTrue isX()} methods and {@link CrossFieldRules}, each with
 * its field path, e.g. {@code config.lora_r: must be greater than 0}.
 *
 * <p>Defaults: declare the component with a boxed or reference type and fill nulls in the compact
 * constructor, e.g. {@code if (loraR == null) loraR = 16;}. A missing primitive component is a
 * "required field" violation. Nested records and lists of records bind recursively with their own
 * paths ({@code config.lora.r}, {@code config.sources[1].path}). Enums match their constant names
 * ignoring case. A single value is accepted where a list is expected, and numeric or boolean text
 * ({@code "16"}) is accepted for numbers and booleans; a fraction is never accepted for an integer.
 */
public final class ConfigBinder {

  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
          .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
          .build();

  private ConfigBinder() {}

  /**
   * Binds {@code values} to {@code type} with field paths under {@code config}.
   *
   * @throws ConfigException listing every violation
   */
  public static <C extends Record> C bind(Class<C> type, Map<String, ?> values) {
    return bind(type, values == null ? null : MAPPER.valueToTree(values), "config");
  }

  /**
   * Binds a JSON/YAML tree to {@code type}; a null or missing tree binds like an empty mapping.
   *
   * @param root the path prefix of every violation, e.g. {@code config}; may be empty
   * @throws ConfigException listing every violation
   */
  public static <C extends Record> C bind(Class<C> type, JsonNode tree, String root) {
    List<ConfigViolation> violations = new ArrayList<>();
    JsonNode source = tree == null || tree.isNull() ? MAPPER.createObjectNode() : tree;
    C value = bindRecord(type, source, root, violations);
    if (!violations.isEmpty() || value == null) {
      throw new ConfigException("invalid " + type.getSimpleName(), dedupe(violations));
    }
    return value;
  }

  /**
   * The violations of a config record built in code: Bean Validation constraints and {@link
   * CrossFieldRules}, with paths under {@code root}.
   */
  public static List<ConfigViolation> check(Record config, String root) {
    List<ConfigViolation> violations = new ArrayList<>();
    validateInstance(config, root, violations);
    return dedupe(violations);
  }

  /** The YAML keys of a config record, in declaration order. */
  public static List<String> keys(Class<? extends Record> type) {
    return Arrays.stream(type.getRecordComponents()).map(ConfigBinder::keyOf).toList();
  }

  /**
   * The snake_case key of a Java name: an underscore before each upper-case letter and before a run
   * of digits that follows a letter ({@code loadIn4bit} becomes {@code load_in_4bit}).
   */
  public static String snakeCase(String javaName) {
    StringBuilder key = new StringBuilder(javaName.length() + 8);
    for (int i = 0; i < javaName.length(); i++) {
      char c = javaName.charAt(i);
      char previous = i == 0 ? 0 : javaName.charAt(i - 1);
      if (Character.isUpperCase(c)) {
        if (i > 0) {
          key.append('_');
        }
        key.append(Character.toLowerCase(c));
      } else if (Character.isDigit(c) && Character.isLetter(previous)) {
        key.append('_').append(c);
      } else {
        key.append(c);
      }
    }
    return key.toString();
  }

  private static String keyOf(RecordComponent component) {
    try {
      JsonProperty property =
          component
              .getDeclaringRecord()
              .getDeclaredField(component.getName())
              .getAnnotation(JsonProperty.class);
      if (property != null && !property.value().isEmpty()) {
        return property.value();
      }
    } catch (NoSuchFieldException e) {
      // a record always has a field per component
    }
    return snakeCase(component.getName());
  }

  private static <R extends Record> R bindRecord(
      Class<R> type, JsonNode node, String path, List<ConfigViolation> out) {
    if (!node.isObject()) {
      out.add(new ConfigViolation(path, "expected a mapping of fields, got " + describe(node)));
      return null;
    }
    RecordComponent[] components = type.getRecordComponents();
    Map<String, RecordComponent> byKey = new LinkedHashMap<>();
    for (RecordComponent component : components) {
      byKey.put(keyOf(component), component);
    }
    int before = out.size();
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!byKey.containsKey(name)) {
        out.add(new ConfigViolation(join(path, name), unknownField(name, byKey.keySet())));
      }
    }
    Object[] arguments = new Object[components.length];
    boolean[] failed = new boolean[components.length];
    for (int i = 0; i < components.length; i++) {
      RecordComponent component = components[i];
      String key = keyOf(component);
      String fieldPath = join(path, key);
      JsonNode value = node.get(key);
      Class<?> raw = component.getType();
      int errorsBefore = out.size();
      if (value == null || value.isNull()) {
        if (raw.isPrimitive()) {
          out.add(
              new ConfigViolation(
                  fieldPath,
                  value == null
                      ? "required field is missing"
                      : "must not be null (it is required)"));
        }
        arguments[i] = raw.isPrimitive() ? primitiveZero(raw) : null;
      } else {
        arguments[i] = convert(value, component.getGenericType(), fieldPath, out);
      }
      failed[i] = out.size() > errorsBefore;
      if (failed[i] && raw.isPrimitive()) {
        arguments[i] = primitiveZero(raw);
      }
    }
    if (out.size() > before) {
      // Still report the constraints of the fields that did convert, so one pass shows everything.
      for (int i = 0; i < components.length; i++) {
        if (!failed[i] && arguments[i] != null) {
          for (ConstraintViolation<R> violation :
              validator().validateValue(type, components[i].getName(), arguments[i])) {
            out.add(
                new ConfigViolation(
                    pathOf(type, violation.getPropertyPath(), path), message(violation)));
          }
        }
      }
      return null;
    }
    R instance;
    try {
      Constructor<R> constructor =
          type.getDeclaredConstructor(
              Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
      constructor.setAccessible(true);
      instance = constructor.newInstance(arguments);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      out.add(
          new ConfigViolation(
              path,
              cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
      return null;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot construct config record " + type.getName(), e);
    }
    validateInstance(instance, path, out);
    return instance;
  }

  private static void validateInstance(Record instance, String path, List<ConfigViolation> out) {
    int before = out.size();
    for (ConstraintViolation<Record> violation : validator().validate(instance)) {
      out.add(
          new ConfigViolation(
              pathOf(instance.getClass(), violation.getPropertyPath(), path), message(violation)));
    }
    if (out.size() == before && instance instanceof CrossFieldRules rules) {
      for (ConfigViolation violation : rules.crossFieldViolations()) {
        out.add(violation.under(path));
      }
    }
  }

  private static Object convert(JsonNode value, Type type, String path, List<ConfigViolation> out) {
    Class<?> raw = rawClass(type);
    if (Record.class.isAssignableFrom(raw)) {
      return bindRecord(raw.asSubclass(Record.class), value, path, out);
    }
    if (raw.isEnum()) {
      return enumConstant(raw, value, path, out);
    }
    if (Collection.class.isAssignableFrom(raw) && type instanceof ParameterizedType parameterized) {
      Class<?> element = rawClass(parameterized.getActualTypeArguments()[0]);
      if (Record.class.isAssignableFrom(element) || element.isEnum()) {
        JsonNode items = value.isArray() ? value : MAPPER.createArrayNode().add(value);
        List<Object> list = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
          list.add(
              convert(
                  items.get(i),
                  parameterized.getActualTypeArguments()[0],
                  path + "[" + i + "]",
                  out));
        }
        return Set.class.isAssignableFrom(raw)
            ? new LinkedHashSet<>(list)
            : list.stream().filter(x -> x != null).toList();
      }
    }
    if ((raw == int.class || raw == Integer.class)
        && value.isIntegralNumber()
        && !value.canConvertToInt()) {
      out.add(
          new ConfigViolation(
              path, "expected an integer between -2147483648 and 2147483647, got " + value));
      return null;
    }
    if (raw == String.class && (value.isContainerNode())) {
      out.add(new ConfigViolation(path, "expected a string, got " + describe(value)));
      return null;
    }
    try {
      JavaType javaType = MAPPER.getTypeFactory().constructType(type);
      return MAPPER.treeToValue(value, javaType);
    } catch (Exception e) {
      out.add(new ConfigViolation(path, "expected " + expected(type) + ", got " + describe(value)));
      return null;
    }
  }

  private static Object enumConstant(
      Class<?> raw, JsonNode value, String path, List<ConfigViolation> out) {
    Object[] constants = raw.getEnumConstants();
    if (value.isValueNode()) {
      String text = value.asText().strip();
      for (Object constant : constants) {
        if (((Enum<?>) constant).name().equalsIgnoreCase(text)) {
          return constant;
        }
      }
    }
    out.add(
        new ConfigViolation(path, "must be one of " + enumNames(raw) + "; got " + describe(value)));
    return null;
  }

  private static String enumNames(Class<?> raw) {
    return Arrays.stream(raw.getEnumConstants())
        .map(c -> ((Enum<?>) c).name().toLowerCase(Locale.ROOT))
        .collect(Collectors.joining(", "));
  }

  private static String unknownField(String name, Collection<String> known) {
    String hint = "";
    int best = 3;
    for (String candidate : known) {
      int distance = editDistance(name.toLowerCase(Locale.ROOT), candidate);
      if (distance < best) {
        best = distance;
        hint = "; did you mean '" + candidate + "'?";
      }
    }
    return "unknown field; known fields are "
        + (known.isEmpty() ? "(none)" : String.join(", ", known))
        + hint;
  }

  /**
   * The Levenshtein distance between two strings, for "did you mean" hints on unknown keys (also
   * used by the CLI's override keys).
   */
  public static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  /** The user-facing path of a Bean Validation property path on {@code type}. */
  private static String pathOf(Class<?> type, Path propertyPath, String root) {
    StringBuilder path = new StringBuilder(root);
    Class<?> current = type;
    for (Path.Node node : propertyPath) {
      if (node.getIndex() != null) {
        path.append('[').append(node.getIndex()).append(']');
      } else if (node.getKey() != null) {
        path.append('[').append(node.getKey()).append(']');
      }
      String name = node.getName();
      if (name == null || name.startsWith("<")) {
        continue;
      }
      String key = snakeCase(name);
      Class<?> next = null;
      if (current != null && current.isRecord()) {
        for (RecordComponent component : current.getRecordComponents()) {
          if (component.getName().equals(name)) {
            key = keyOf(component);
            next = component.getType();
          }
        }
      }
      current = next;
      if (!path.isEmpty()) {
        path.append('.');
      }
      path.append(key);
    }
    return path.toString();
  }

  private static String message(ConstraintViolation<?> violation) {
    return violation.getMessage();
  }

  private static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  private static Class<?> rawClass(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    return Object.class;
  }

  private static String expected(Type type) {
    Class<?> raw = rawClass(type);
    if (raw == int.class
        || raw == Integer.class
        || raw == long.class
        || raw == Long.class
        || raw == short.class
        || raw == Short.class
        || raw == java.math.BigInteger.class) {
      return "an integer";
    }
    if (raw == double.class
        || raw == Double.class
        || raw == float.class
        || raw == Float.class
        || raw == java.math.BigDecimal.class) {
      return "a number";
    }
    if (raw == boolean.class || raw == Boolean.class) {
      return "true or false";
    }
    if (raw == String.class) {
      return "a string";
    }
    if (raw == java.nio.file.Path.class) {
      return "a path";
    }
    if (Collection.class.isAssignableFrom(raw) || raw.isArray()) {
      if (type instanceof ParameterizedType p) {
        String element = expected(p.getActualTypeArguments()[0]);
        return "a list (each " + element + ")";
      }
      return "a list";
    }
    if (Map.class.isAssignableFrom(raw)) {
      return "a mapping";
    }
    return "a " + raw.getSimpleName();
  }

  private static String describe(JsonNode value) {
    JsonNodeType kind = value == null ? JsonNodeType.NULL : value.getNodeType();
    return switch (kind) {
      case STRING -> "string \"" + abbreviate(value.asText()) + "\"";
      case NUMBER -> "number " + value;
      case BOOLEAN -> "boolean " + value;
      case ARRAY -> "a list";
      case OBJECT, POJO -> "a mapping";
      case NULL, MISSING -> "nothing (null)";
      case BINARY -> "binary data";
    };
  }

  private static String abbreviate(String text) {
    return text.length() <= 60 ? text : text.substring(0, 57) + "...";
  }

  private static Object primitiveZero(Class<?> raw) {
    if (raw == boolean.class) {
      return false;
    }
    if (raw == char.class) {
      return (char) 0;
    }
    return MAPPER.convertValue(0, raw);
  }

  private static List<ConfigViolation> dedupe(List<ConfigViolation> violations) {
    return List.copyOf(new LinkedHashSet<>(violations));
  }

  private static Validator validator() {
    return ValidatorHolder.VALIDATOR;
  }

  // Built on first use: starting Hibernate Validator takes a few hundred milliseconds.
  private static final class ValidatorHolder {
    static final Validator VALIDATOR = create();

    private static Validator create() {
      try {
        return Validation.byProvider(HibernateValidator.class)
            .configure()
            .defaultLocale(Locale.ENGLISH)
            .locales(Locale.ENGLISH)
            .buildValidatorFactory()
            .getValidator();
      } catch (RuntimeException e) {
        throw new EntityException("cannot start Bean Validation: " + e.getMessage(), e);
      }
    }
  }
}
