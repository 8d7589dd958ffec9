package dev.entity.training.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerStateTest {

  @TempDir Path dir;

  private static TrainerState state() {
    Map<String, String> fingerprint = Map.of("config.seed", "42", "model.model_type", "llama");
    return new TrainerState(
        TrainerState.FORMAT,
        7,
        1.0 / 3,
        12,
        2,
        42,
        1,
        3,
        42,
        42,
        0.1 + 0.2,
        6,
        1,
        1234,
        new LearningRateSchedule(LearningRateSchedule.Kind.COSINE, 5e-3, 2, 12),
        7,
        RunFingerprint.hash(fingerprint),
        fingerprint,
        List.of(Map.of("step", 7, "loss", 2.5)));
  }

  @Test
  void roundTripsEveryFieldExactly() {
    Path f = dir.resolve(TrainerState.FILE);
    TrainerState s = state();
    s.write(f);
    TrainerState back = TrainerState.read(f);
    assertThat(back.bestMetric()).isEqualTo(0.1 + 0.2); // the same bits, not 0.3
    assertThat(back.epoch()).isEqualTo(1.0 / 3);
    assertThat(back.scheduler()).isEqualTo(s.scheduler());
    assertThat(back.fingerprint()).isEqualTo(s.fingerprint());
    assertThat(back.dataPosition().epoch()).isEqualTo(1);
    assertThat(back.dataPosition().batchIndex()).isEqualTo(3);
    assertThat(back.logHistory()).hasSize(1);
    assertThat(back).usingRecursiveComparison().ignoringFields("logHistory").isEqualTo(s);
  }

  @Test
  void truncatedMalformedAndHostileFilesAreClearErrors() throws IOException {
    Path f = dir.resolve(TrainerState.FILE);
    state().write(f);
    String json = Files.readString(f);

    Files.writeString(f, json.substring(0, json.length() / 2));
    assertThatThrownBy(() -> TrainerState.read(f))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("not a valid trainer state")
        .hasMessageContaining("resume from another one");

    Files.write(f, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2});
    assertThatThrownBy(() -> TrainerState.read(f)).isInstanceOf(EntityException.class);

    Files.writeString(f, "[1, 2, 3]");
    assertThatThrownBy(() -> TrainerState.read(f)).isInstanceOf(EntityException.class);

    Files.writeString(f, json.replace("\"format_version\" : 1", "\"format_version\" : 99"));
    assertThatThrownBy(() -> TrainerState.read(f))
        .hasMessageContaining("format_version 99 is not 1");

    Files.writeString(f, json.replace("\"global_step\" : 7", "\"global_step\" : -7"));
    assertThatThrownBy(() -> TrainerState.read(f)).hasMessageContaining("missing or negative");

    Files.writeString(f, json.replace("\"global_step\" : 7", "\"global_step\" : \"seven\""));
    assertThatThrownBy(() -> TrainerState.read(f)).hasMessageContaining("not a valid trainer");

    Files.writeString(f, "{\"format_version\": 1}", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> TrainerState.read(f)).hasMessageContaining("missing or negative");

    Files.writeString(
        f, "{\"format_version\": 1, \"a\": " + "[".repeat(5000) + "]".repeat(5000) + "}");
    assertThatThrownBy(() -> TrainerState.read(f)).isInstanceOf(EntityException.class);

    Files.delete(f);
    assertThatThrownBy(() -> TrainerState.read(f)).hasMessageContaining("not found");
  }

  @Test
  void fingerprintDiffNamesEveryDifferingKey() {
    Map<String, String> a = Map.of("config.lora_r", "4", "config.seed", "42", "data.rows", "12");
    Map<String, String> b = Map.of("config.lora_r", "8", "config.seed", "42", "model.x", "1");
    assertThat(RunFingerprint.diff(a, b))
        .containsExactly(
            "config.lora_r: checkpoint 4, now 8",
            "data.rows: checkpoint 12, now (absent)",
            "model.x: checkpoint (absent), now 1");
    assertThat(RunFingerprint.diff(a, a)).isEmpty();
    assertThat(RunFingerprint.hash(a)).isNotEqualTo(RunFingerprint.hash(b)).hasSize(64);
  }
}
