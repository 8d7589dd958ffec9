package dev.entity.core.config;

import dev.entity.core.EntityException;
import java.util.List;

/**
 * A config that does not bind: every violation found, each with its field path. The message lists
 * them all, one per line, after a header naming what was being bound.
 */
public final class ConfigException extends EntityException {

  private final List<ConfigViolation> violations;

  /** An exception listing {@code violations} under {@code header}. */
  public ConfigException(String header, List<ConfigViolation> violations) {
    super(format(header, violations));
    this.violations = List.copyOf(violations);
  }

  /** The violations, in the order found. */
  public List<ConfigViolation> violations() {
    return violations;
  }

  private static String format(String header, List<ConfigViolation> violations) {
    StringBuilder text = new StringBuilder(header);
    text.append(" (")
        .append(violations.size())
        .append(violations.size() == 1 ? " problem" : " problems")
        .append("):");
    for (ConfigViolation violation : violations) {
      text.append("\n  ").append(violation);
    }
    return text.toString();
  }
}
