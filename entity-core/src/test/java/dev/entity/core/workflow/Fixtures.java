package dev.entity.core.workflow;

import dev.entity.core.Plugin;
import dev.entity.core.PluginContext;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import jakarta.validation.constraints.Positive;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Small plugins shared by the workflow tests. */
final class Fixtures {

  private Fixtures() {}

  /** Config of {@link #append}: text to append, and a positive repeat count. */
  record AppendConfig(String text, @Positive Integer times) {
    AppendConfig {
      if (text == null) {
        text = "+";
      }
      if (times == null) {
        times = 1;
      }
    }
  }

  /** Appends text to the message; runs anywhere in the pipeline. */
  static Plugin<AppendConfig> append(String name, List<String> calls) {
    return Plugin.of(
        name,
        AppendConfig.class,
        EnumSet.of(Stage.INPUT, Stage.PARSE, Stage.THINK, Stage.DO, Stage.REVIEW, Stage.OUTPUT),
        Set.of(),
        (context, config) -> {
          calls.add(context.stage() + ":" + context.pluginName());
          return context.message() + config.text().repeat(config.times());
        });
  }

  /** Throws with {@code message} in any normal stage. */
  static Plugin<Plugin.NoConfig> failing(String name, RuntimeException error) {
    return Plugin.of(
        name,
        Plugin.NoConfig.class,
        EnumSet.copyOf(Stage.PIPELINE),
        Set.of(),
        (context, config) -> {
          throw error;
        });
  }

  /** An ERROR-stage plugin that records and says the failure. */
  static Plugin<Plugin.NoConfig> reporter(List<String> calls) {
    return Plugin.of(
        "reporter",
        Plugin.NoConfig.class,
        Set.of(Stage.ERROR),
        Set.of(),
        (context, config) -> {
          String failure = context.failure().orElseThrow().toString();
          calls.add("ERROR:" + failure);
          context.say("sorry: " + failure);
          return null;
        });
  }

  /** A plugin that says the message; OUTPUT and, wrongly placed, THINK are allowed. */
  static Plugin<Plugin.NoConfig> speaker() {
    return Plugin.of(
        "speaker",
        Plugin.NoConfig.class,
        Set.of(Stage.THINK, Stage.OUTPUT),
        Set.of(),
        (PluginContext context, Plugin.NoConfig config) -> {
          context.say("result: " + context.message());
          return null;
        });
  }

  static PluginRegistry registry(List<String> calls) {
    return PluginRegistry.of(append("a", calls), append("b", calls), speaker(), reporter(calls));
  }

  static List<String> calls() {
    return new ArrayList<>();
  }
}
