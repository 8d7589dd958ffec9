package dev.entity.core;

import java.util.LinkedHashMap;
import java.util.Map;

/** Turns alternating keys and values into an ordered field map, for {@link PluginLog}. */
final class PluginLogFields {

  private PluginLogFields() {}

  static Map<String, Object> of(Object... keyValues) {
    if (keyValues.length % 2 != 0) {
      throw new IllegalArgumentException(
          "log fields must alternate key and value; got an odd count " + keyValues.length);
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      if (!(keyValues[i] instanceof String key)) {
        throw new IllegalArgumentException(
            "log field key at position " + i + " must be a string, got " + keyValues[i]);
      }
      fields.put(key, keyValues[i + 1]);
    }
    return fields;
  }
}
