package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.backend.cuda.CudaBackendProvider;
import org.junit.jupiter.api.Test;

/**
 * {@code benchmark train --device}: cuda reaches the backend chooser, which either runs on the GPU
 * or says why it cannot (each missing library and where it looked); auto falls back to the CPU.
 */
class BenchmarkTrainDeviceTest {

  private static Cli run(String device) {
    return Cli.run(
        "benchmark",
        "train",
        "--shape",
        "tiny",
        "--seq",
        "8",
        "--batch",
        "1",
        "--warmup",
        "0",
        "--steps",
        "1",
        "--threads",
        "1",
        "--device",
        device);
  }

  @Test
  void cudaRunsOrExplainsWhyNot() {
    String reason = new CudaBackendProvider().unavailableReason();
    Cli cli = run("cuda");
    if (reason == null) {
      assertThat(cli.code()).as(cli.toString()).isZero();
      assertThat(cli.out()).contains("peak device memory on cuda:0");
      return;
    }
    assertThat(cli.code()).as(cli.toString()).isNotZero();
    assertThat(cli.err())
        .contains("--device device cuda is not usable here")
        .contains("libcuda.so.1")
        .contains("looked in")
        .doesNotContain("Exception");
  }

  @Test
  void autoRunsOnTheBestBackendThere() {
    Cli cli = run("auto");
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out()).contains("step 1/1");
    boolean cuda = new CudaBackendProvider().unavailableReason() == null;
    assertThat(cli.out().contains("peak device memory")).isEqualTo(cuda);
  }

  @Test
  void anUnknownDeviceNamesTheChoices() {
    Cli cli = run("tpu");
    assertThat(cli.code()).isNotZero();
    assertThat(cli.err()).contains("no such backend").contains("cpu").contains("cuda");
  }
}
