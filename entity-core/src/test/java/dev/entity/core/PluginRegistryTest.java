package dev.entity.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

class PluginRegistryTest {

  private static Plugin<Plugin.NoConfig> named(String name) {
    return Plugin.of(name, Plugin.NoConfig.class, Set.of(Stage.INPUT), Set.of(), (c, x) -> null);
  }

  @Test
  void getAndListReturnRegisteredPluginsSortedByName() {
    PluginRegistry registry = PluginRegistry.of(named("zeta"), named("alpha"));
    assertThat(registry.get("alpha").name()).isEqualTo("alpha");
    assertThat(registry.list()).extracting(Plugin::name).containsExactly("alpha", "zeta");
    assertThat(registry.names()).containsExactly("alpha", "zeta");
    assertThat(registry.find("beta")).isEmpty();
  }

  @Test
  void unknownNameListsKnownPlugins() {
    PluginRegistry registry = PluginRegistry.of(named("zeta"), named("alpha"));
    assertThatThrownBy(() -> registry.get("beta"))
        .isInstanceOf(EntityException.class)
        .hasMessage("unknown plugin 'beta'; known plugins are alpha, zeta");
    assertThatThrownBy(() -> PluginRegistry.empty().get("x"))
        .hasMessage("unknown plugin 'x'; known plugins are (none)");
  }

  @Test
  void duplicateAndMalformedNamesAreRejected() {
    PluginRegistry registry = PluginRegistry.of(named("alpha"));
    assertThatThrownBy(() -> registry.register(named("alpha")))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("two plugins are named 'alpha'");
    assertThatThrownBy(() -> registry.register(named("Bad-Name")))
        .hasMessageContaining("has name 'Bad-Name'");
  }

  @Test
  void discoverFindsPluginsListedForServiceLoader() {
    PluginRegistry registry = PluginRegistry.discover();
    assertThat(registry.names()).contains("echo_test");
    assertThat(registry.get("echo_test")).isInstanceOf(EchoTestPlugin.class);
  }

  @Test
  void unloadableServiceEntryIsAnEntityException(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path temp) throws Exception {
    java.nio.file.Path services = temp.resolve("META-INF/services");
    java.nio.file.Files.createDirectories(services);
    java.nio.file.Files.writeString(
        services.resolve("dev.entity.core.Plugin"), "no.such.PluginClass\n");
    try (java.net.URLClassLoader loader =
        new java.net.URLClassLoader(
            new java.net.URL[] {temp.toUri().toURL()}, PluginRegistryTest.class.getClassLoader())) {
      assertThatThrownBy(() -> PluginRegistry.discover(loader))
          .isInstanceOf(EntityException.class)
          .hasMessageContaining("cannot load a plugin listed in META-INF/services")
          .hasMessageContaining("no.such.PluginClass");
    }
  }

  @Test
  void stageParsingIgnoresCaseAndListsStagesWhenUnknown() {
    assertThat(Stage.parse("Review")).isEqualTo(Stage.REVIEW);
    assertThatThrownBy(() -> Stage.parse("parsee"))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining(
            "unknown stage 'parsee'; stages are input, parse, think, do, review,"
                + " output, error");
    assertThat(Stage.OUTPUT.maySay()).isTrue();
    assertThat(Stage.DO.maySay()).isFalse();
  }

  @Test
  void failureMessageKeepsEntityMessagesAndNamesOtherExceptions() {
    assertThat(Failure.of(Stage.DO, "p", new EntityException("bad file")).message())
        .isEqualTo("bad file");
    assertThat(Failure.of(Stage.DO, "p", new NullPointerException()).message())
        .isEqualTo("NullPointerException");
    assertThat(Failure.of(Stage.DO, "p", new IllegalStateException("x")).toString())
        .isEqualTo("plugin 'p' failed in stage DO: IllegalStateException: x");
  }
}
