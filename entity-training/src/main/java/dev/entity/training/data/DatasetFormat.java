package dev.entity.training.data;

import dev.entity.core.EntityException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The record layouts a dataset file can use; {@link #AUTO} detects one per file from the keys of
 * its records. The layouts:
 *
 * <ul>
 *   <li>{@code alpaca}: {@code instruction}, optional {@code input}, {@code output}, optional
 *       {@code system}. The user turn is the instruction, followed by a blank line and the input
 *       when the input is not empty.
 *   <li>{@code sharegpt}: {@code conversations}, a list of {@code {from, value}}; {@code from} is
 *       {@code human}/{@code user}, {@code gpt}/{@code assistant}/{@code model} or {@code system}.
 *   <li>{@code openai}: {@code messages}, a list of {@code {role, content}} with role {@code
 *       system}, {@code user} or {@code assistant}.
 *   <li>{@code json}: {@code text} (one assistant turn, the whole text is trained) or {@code
 *       prompt} + {@code completion} (a user and an assistant turn).
 * </ul>
 */
public enum DatasetFormat {
  AUTO,
  ALPACA,
  SHAREGPT,
  OPENAI,
  JSON;

  /** The name used in configs and on the command line. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The formats a record can actually be in (every value but {@link #AUTO}). */
  public static List<DatasetFormat> concrete() {
    return List.of(ALPACA, SHAREGPT, OPENAI, JSON);
  }

  /**
   * Parses a config value (case-insensitive; {@code null} or blank means auto).
   *
   * @throws EntityException naming the field and the accepted values
   */
  public static DatasetFormat parse(String value) {
    if (value == null || value.isBlank()) {
      return AUTO;
    }
    String wanted = value.trim().toLowerCase(Locale.ROOT);
    for (DatasetFormat f : values()) {
      if (f.configName().equals(wanted)) {
        return f;
      }
    }
    throw new EntityException(
        "dataset_format: unsupported format '"
            + value
            + "'; use one of "
            + Arrays.stream(values())
                .map(DatasetFormat::configName)
                .collect(Collectors.joining(", ")));
  }
}
