package dev.entity.engine.format.safetensors;

import static dev.entity.engine.format.safetensors.RawSafetensors.floats;
import static dev.entity.engine.format.safetensors.RawSafetensors.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafetensorsFolderTest {

  @TempDir Path dir;

  @BeforeEach
  void twoShards() {
    write(
        dir.resolve("model-00001-of-00002.safetensors"),
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
        floats(1));
    write(
        dir.resolve("model-00002-of-00002.safetensors"),
        "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
        floats(2, 3));
  }

  private void index(String json) throws IOException {
    Files.writeString(dir.resolve("model.safetensors.index.json"), json);
  }

  @Test
  void followsTheIndexAcrossShards() throws IOException {
    index(
        """
        {"metadata":{"total_size":12},"weight_map":{
          "b":"model-00002-of-00002.safetensors","a":"model-00001-of-00002.safetensors"}}
        """);
    try (SafetensorsFolder m = SafetensorsFolder.open(dir)) {
      assertThat(m.names()).containsExactly("b", "a");
      assertThat(m.shards()).hasSize(2);
      assertThat(m.tensor("b").data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 1))
          .isEqualTo(3f);
      assertThat(m.entry("a").file().getFileName().toString())
          .isEqualTo("model-00001-of-00002.safetensors");
      assertThat(m.metadata()).containsEntry("format", "pt"); // of the shard the index names first
      assertThatThrownBy(() -> m.tensor("c"))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("no tensor \"c\"");
    }
  }

  @Test
  void singleFileWithoutIndex() {
    write(
        dir.resolve("model.safetensors"),
        "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
        floats(4));
    try (SafetensorsFolder m = SafetensorsFolder.open(dir)) {
      assertThat(m.names()).containsExactly("x");
    }
  }

  @Test
  void folderWithoutWeights() throws IOException {
    Path empty = Files.createDirectory(dir.resolve("empty"));
    assertThatThrownBy(() -> SafetensorsFolder.open(empty))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("neither model.safetensors nor model.safetensors.index.json");
    assertThatThrownBy(() -> SafetensorsFolder.open(dir.resolve("absent")))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("does not exist");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"weight_map\": | not valid JSON",
        "[] | not a JSON object",
        "{\"metadata\":{}} | no \"weight_map\"",
        "{\"weight_map\":{}} | empty weight_map",
        "{\"weight_map\":{\"a\":3}} | not a file name",
        "{\"weight_map\":{\"a\":\"../model-00001-of-00002.safetensors\"}} | not a plain file name",
        "{\"weight_map\":{\"a\":\"/etc/passwd\"}} | not a plain file name",
        "{\"weight_map\":{\"a\":\"model-00003-of-00003.safetensors\"}} | which is missing",
        "{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\"}} | does not contain it",
      })
  void malformedIndex(String json, String expected) throws IOException {
    index(json.strip());
    assertThatThrownBy(() -> SafetensorsFolder.open(dir))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("model.safetensors.index.json")
        .hasMessageContaining(expected.strip());
  }
}
