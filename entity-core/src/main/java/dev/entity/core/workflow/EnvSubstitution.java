// Convention: substitution works on the text before YAML parsing, line by line, so line numbers
// stay true; lines whose first non-blank character is '#' are left alone.
package dev.entity.core.workflow;

import dev.entity.core.EntityException;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${NAME}} and {@code ${NAME:-default}} in workflow text with environment values.
 * As in the shell, the default is used when the variable is unset or empty; {@code $${} writes a
 * literal {@code ${}. An unset variable without a default, or a malformed reference, is an error
 * naming the variable, the file and the line.
 */
public final class EnvSubstitution {

  private static final Pattern REFERENCE =
      Pattern.compile("\\$\\$\\{|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}|\\$\\{");

  private EnvSubstitution() {}

  /**
   * The text with every reference replaced.
   *
   * @param source the file name used in error messages
   * @param environment variable lookup, e.g. {@code System::getenv}; returns null when unset
   * @throws EntityException for an unset variable without default or a malformed reference
   */
  public static String apply(String text, String source, Function<String, String> environment) {
    StringBuilder out = new StringBuilder(text.length());
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (i > 0) {
        out.append('\n');
      }
      String line = lines[i];
      if (line.stripLeading().startsWith("#")) {
        out.append(line);
        continue;
      }
      Matcher matcher = REFERENCE.matcher(line);
      int last = 0;
      while (matcher.find()) {
        out.append(line, last, matcher.start());
        last = matcher.end();
        String token = matcher.group();
        if (token.equals("$${")) {
          out.append("${");
        } else if (matcher.group(1) == null) {
          throw new EntityException(
              source
                  + " line "
                  + (i + 1)
                  + ": malformed variable reference near '"
                  + line.substring(matcher.start(), Math.min(line.length(), matcher.start() + 20))
                  + "'; write ${NAME} or ${NAME:-default}, or $${ for a literal ${");
        } else {
          String name = matcher.group(1);
          String value = environment.apply(name);
          String fallback = matcher.group(2);
          if (value == null || (value.isEmpty() && fallback != null)) {
            if (fallback == null) {
              throw new EntityException(
                  source
                      + " line "
                      + (i + 1)
                      + ": environment variable "
                      + name
                      + " is not set; set it, or give a default with ${"
                      + name
                      + ":-value}");
            }
            value = fallback;
          }
          out.append(value);
        }
      }
      out.append(line, last, line.length());
    }
    return out.toString();
  }
}
