package dev.entity.core.config;

import java.util.List;

/**
 * Implemented by a config record whose fields constrain each other (e.g. "qlora needs
 * load_in_4bit"). {@link ConfigBinder} calls it after the record is built and every single-field
 * constraint holds, and reports what it returns together with the other violations. A Bean
 * Validation {@code @AssertTrue} method named {@code isSomething()} works too; this hook is for
 * rules that should point at a particular field.
 */
public interface CrossFieldRules {

  /**
   * The violated cross-field rules, empty when all hold.
   *
   * @return violations with paths relative to this record, in its snake_case keys, e.g. {@code
   *     ConfigViolation.of("lora_r", "only applies when training_method is lora or qlora")}
   */
  List<ConfigViolation> crossFieldViolations();
}
