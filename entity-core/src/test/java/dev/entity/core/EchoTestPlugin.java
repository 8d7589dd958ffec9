package dev.entity.core;

import java.util.Set;

/** A plugin listed in the test META-INF/services file, to test discovery. */
public final class EchoTestPlugin implements Plugin<EchoTestPlugin.Config> {

  /** Its config: a prefix put before the message. */
  public record Config(String prefix) {
    /** Defaults the prefix to "echo: ". */
    public Config {
      if (prefix == null) {
        prefix = "echo: ";
      }
    }
  }

  @Override
  public String name() {
    return "echo_test";
  }

  @Override
  public Set<Stage> stages() {
    return Set.of(Stage.INPUT, Stage.OUTPUT);
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public String execute(PluginContext context, Config config) {
    return config.prefix() + context.message();
  }
}
