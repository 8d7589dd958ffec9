package dev.entity.training.cli;

import dev.entity.engine.model.ModelConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs {@code entity-train} in-process and keeps its exit code and output. */
record Cli(int code, String out, String err) {

  static Cli run(String... args) {
    return runWithInput("", args);
  }

  static Cli runWithInput(String input, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new StringReader(input), new PrintWriter(out), new PrintWriter(err));
    return new Cli(code, out.toString(), err.toString());
  }

  /** The project's own file {@code relative}, e.g. {@code configs/cpu_lora.yaml}. */
  static String project(String relative) {
    return ProjectFolder.find().resolve(relative).toString();
  }

  /** A folder with the tiny shape's config.json. */
  static Path tinyModel(Path dir) {
    try {
      Path model = Files.createDirectories(dir.resolve("tiny-model"));
      ModelConfig.shape("tiny").write(model.resolve("config.json"));
      return model;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String toString() {
    return "exit " + code + "\n--- out\n" + out + "--- err\n" + err;
  }
}
