package dev.entity.training.cli;

import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code entity-train} command line. Each subcommand is a thin class over the library; this
 * class only wires them together and turns user errors ({@link EntityException}, {@link
 * EngineException}) into one clear message and exit code 1 — a stack trace only with {@code
 * --debug}. Usage errors (unknown flag, missing argument) exit with 2, as picocli does.
 */
@Command(
    name = "entity-train",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    description = {
      "Fine-tune large language models on the JVM: full, LoRA and QLoRA, then export to Hugging"
          + " Face, PEFT, GGUF and Ollama.",
      ""
    },
    footerHeading = "%nGetting started:%n",
    footer = {
      "  entity-train quickstart       all six stages on sample data and a tiny model",
      "  entity-train train --config configs/cpu_lora.yaml --model DIR",
      "  entity-train help COMMAND     options and examples of a command",
      "",
      "Stages: input (dataset), parse (training config, memory estimate), do (full, LoRA or QLoRA"
          + " fine-tuning), review (evaluation), output (export); CUDA is being built."
    },
    subcommands = {CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  /** Exit code for errors the user can fix (bad dataset, config, model folder). */
  public static final int USER_ERROR = 1;

  @Option(
      names = "--debug",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces for errors.")
  boolean debug;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Where interactive answers come from (standard input, or a test's reader). */
  BufferedReader input;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the CLI with the given streams and returns the exit code (used by tests). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    return run(args, new InputStreamReader(System.in, StandardCharsets.UTF_8), out, err);
  }

  /** Runs the CLI reading interactive answers from {@code in}; returns the exit code. */
  public static int run(String[] args, Reader in, PrintWriter out, PrintWriter err) {
    CommandLine cli = commandLine();
    ((Main) cli.getCommand()).input = new BufferedReader(in);
    cli.setOut(out);
    cli.setErr(err);
    try {
      return cli.execute(args);
    } finally {
      out.flush();
      err.flush();
    }
  }

  /** The full command tree; every command is registered here. */
  public static CommandLine commandLine() {
    Main main = new Main();
    main.input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    CommandLine cli = new CommandLine(main);
    for (Object command : Commands.all()) {
      cli.addSubcommand(command);
    }
    cli.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          boolean userError = ex instanceof EntityException || ex instanceof EngineException;
          PrintWriter err = commandLine.getErr();
          if (main.debug || !userError) {
            ex.printStackTrace(err);
          }
          if (userError) {
            err.println("error: " + ex.getMessage());
            return USER_ERROR;
          }
          err.println("internal error: " + ex + " (rerun with --debug for details)");
          return 70;
        });
    return cli;
  }

  /** Prints the version of the built jar. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"entity-train " + (v == null ? "development build" : v)};
    }
  }
}
