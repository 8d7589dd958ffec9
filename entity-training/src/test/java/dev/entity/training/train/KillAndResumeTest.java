package dev.entity.training.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.core.Cancellation;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.model.TrainingSession;
import dev.entity.training.train.metrics.InMemoryMetricsSink;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a training process (another JVM) at random steps, inside checkpoint saves and with SIGTERM,
 * resumes it, and checks that the final adapter equals, bit for bit, that of a run never
 * interrupted, and that no checkpoint folder is ever incomplete.
 *
 * <p>Every run, the reference included, uses the CPU backend's scalar kernels: what is tested is
 * the trainer's resume (state, data position, RNG, atomic saves), which does not depend on the
 * kernels, and the child JVMs run C1 only, where the Vector API kernels fall back to slow Java code
 * (about a fifth of a child's CPU time). Ten child JVMs make this test's time; their start-up, not
 * the steps, is most of it.
 */
class KillAndResumeTest {

  private static final String JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";

  @TempDir static Path shared;
  static Path model;
  static byte[] reference;

  @TempDir Path out;

  @BeforeAll
  static void uninterruptedRun() throws IOException {
    model = TinyTraining.writeModel(Files.createDirectories(shared.resolve("model")));
    Path dir = shared.resolve("reference");
    TrainingConfig config = TinyTraining.config(model, dir, "lora");
    try (Backend backend = new CpuBackend(1, true);
        TrainingSession session = TinyTraining.session(backend, model, config)) {
      Trainer.Result r =
          new Trainer(
                  session,
                  config,
                  new TinyTraining.ListSource(TinyTraining.batches(1, 6, 2), 5),
                  TinyTraining.batches(2, 2, 2),
                  Trainer.Options.defaults().withModel(model.toString(), model),
                  new InMemoryMetricsSink(),
                  new Cancellation())
              .train();
      reference = Files.readAllBytes(r.finalModel().resolve(LoraAdapter.WEIGHTS));
    }
  }

  /** A started training process and the lines it printed. */
  private static final class Child {
    final Process process;
    final List<String> lines = new ArrayList<>();
    private final BufferedReader reader;

    Child(Path out, String resume, String... properties) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(JAVA);
      cmd.add("--add-modules");
      cmd.add("jdk.incubator.vector");
      cmd.add("-XX:+UseSerialGC");
      cmd.add("-XX:TieredStopAtLevel=1");
      cmd.add("-XX:-UsePerfData");
      cmd.addAll(List.of(properties));
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(KillableTraining.class.getName());
      cmd.add(model.toString());
      cmd.add(out.toString());
      cmd.add(resume);
      process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      reader =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Reads lines until one starts with {@code prefix} (true) or the output ends (false). */
    boolean awaitLine(String prefix) throws IOException {
      String line;
      while ((line = reader.readLine()) != null) {
        lines.add(line);
        if (line.startsWith(prefix)) {
          return true;
        }
      }
      return false;
    }

    int finish() throws Exception {
      awaitLine("\u0000never");
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("process ended").isTrue();
      return process.exitValue();
    }
  }

  /** Every checkpoint-N folder is complete; returns whether one exists. */
  private boolean onlyCompleteCheckpoints() {
    List<CheckpointStore.Checkpoint> all = new CheckpointStore(out).list();
    try (Stream<Path> entries = Files.list(out)) {
      for (Path p : entries.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith("checkpoint-") || n.equals(CheckpointStore.FINAL_MODEL)) {
          CheckpointStore.verify(p); // throws for a half-written folder
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return !all.isEmpty();
  }

  /** Resumes (or starts again when nothing was saved) until the run completes. */
  private void resumeToTheEndAndCompare() throws Exception {
    Child c = new Child(out, onlyCompleteCheckpoints() ? "latest" : "none");
    assertThat(c.finish()).as(String.join("\n", c.lines)).isZero();
    assertThat(c.lines).contains("DONE");
    try (Stream<Path> entries = Files.list(out)) {
      assertThat(entries.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("."));
    }
    byte[] weights =
        Files.readAllBytes(out.resolve(CheckpointStore.FINAL_MODEL).resolve(LoraAdapter.WEIGHTS));
    assertThat(weights).as("final adapter bits after resume").isEqualTo(reference);
  }

  @Test
  void killedAtRandomStepsThenResumedEndsWithTheSameBits() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    // two kills in a row at random steps, then resume to the end
    Child first = new Child(out, "none");
    int k1 = 1 + random.nextInt(8);
    assertThat(first.awaitLine("STEP " + k1)).as("seed " + seed).isTrue();
    Thread.sleep(random.nextInt(40));
    first.process.destroyForcibly().waitFor();
    onlyCompleteCheckpoints();

    Child second = new Child(out, onlyCompleteCheckpoints() ? "latest" : "none");
    int k2 = k1 + 1 + random.nextInt(11 - k1);
    second.awaitLine("STEP " + k2);
    second.process.destroyForcibly().waitFor();
    resumeToTheEndAndCompare();
  }

  @Test
  void killedInsideSavesThenResumedEndsWithTheSameBits() throws Exception {
    for (String[] kill :
        new String[][] {{"3", "STARTED"}, {"6", "FILES_WRITTEN"}, {"9", "MANIFEST_WRITTEN"}}) {
      Child c =
          new Child(
              out,
              onlyCompleteCheckpoints() ? "latest" : "none",
              "-Dkill.step=" + kill[0],
              "-Dkill.phase=" + kill[1]);
      assertThat(c.finish()).as(String.join("\n", c.lines)).isEqualTo(137);
      assertThat(c.lines).contains("HALT checkpoint-" + kill[0] + " " + kill[1]);
      // the interrupted save left at most a temporary folder, never checkpoint-N
      assertThat(out.resolve("checkpoint-" + kill[0])).doesNotExist();
      onlyCompleteCheckpoints();
    }
    resumeToTheEndAndCompare();
  }

  @Test
  void sigtermWritesACheckpointExitsNonZeroAndResumesToTheSameBits() throws Exception {
    // two signals in a row: exit at once (130) or, if the checkpoint was already written, as
    // interrupted (3); either way every checkpoint folder is complete
    Child twice = new Child(out, "none");
    assertThat(twice.awaitLine("STEP 2")).isTrue();
    twice.process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our pipes
    Thread.sleep(5);
    twice.process.toHandle().destroy();
    assertThat(twice.finish()).as(String.join("\n", twice.lines)).isIn(3, 130);
    onlyCompleteCheckpoints();

    Child c = new Child(out, onlyCompleteCheckpoints() ? "latest" : "none");
    assertThat(c.awaitLine("STEP 5")).isTrue();
    c.process.toHandle().destroy();
    int status = c.finish();
    assertThat(status).as(String.join("\n", c.lines)).isEqualTo(3);
    assertThat(c.lines).anyMatch(l -> l.startsWith("SIGTERM received"));
    assertThat(c.lines).contains("STOPPED INTERRUPTED");
    String resumeLine =
        c.lines.stream().filter(l -> l.startsWith("To resume: ")).findFirst().orElseThrow();
    Path checkpoint = Path.of(resumeLine.substring(resumeLine.indexOf("--resume ") + 9));
    CheckpointStore.verify(checkpoint);

    Child resumed = new Child(out, checkpoint.toString());
    assertThat(resumed.finish()).as(String.join("\n", resumed.lines)).isZero();
    byte[] weights =
        Files.readAllBytes(out.resolve(CheckpointStore.FINAL_MODEL).resolve(LoraAdapter.WEIGHTS));
    assertThat(weights).isEqualTo(reference);
  }
}
