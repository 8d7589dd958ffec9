/**
 * The pipeline framework: {@link dev.entity.core.Stage stages}, {@link dev.entity.core.Plugin
 * plugins} with validated config records, the {@link dev.entity.core.PluginContext context} they
 * run in, and the {@link dev.entity.core.PluginRegistry registry} that finds them.
 *
 * <p>Writing a plugin: a config record (snake_case YAML keys, defaults filled in the compact
 * constructor, Jakarta Bean Validation constraints on components) and a class with a public
 * no-argument constructor, listed in {@code META-INF/services/dev.entity.core.Plugin}:
 *
 * <pre>{@code
 * public final class GreetPlugin implements Plugin<GreetPlugin.Config> {
 *   public record Config(@NotBlank String name, @Positive Integer times) {
 *     public Config {
 *       if (times == null) times = 1;
 *     }
 *   }
 *   public String name() { return "greet"; }
 *   public Set<Stage> stages() { return Set.of(Stage.OUTPUT); }
 *   public Set<String> resources() { return Set.of("memory"); }
 *   public Class<Config> configType() { return Config.class; }
 *   public String execute(PluginContext context, Config config) {
 *     context.remember("greeted", config.name());
 *     context.say(("hello " + config.name() + "\n").repeat(config.times()));
 *     return context.message();
 *   }
 * }
 * }</pre>
 *
 * Running it: see {@link dev.entity.core.workflow.WorkflowExecutor}.
 */
package dev.entity.core;
