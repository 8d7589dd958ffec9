package dev.entity.training.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Checks the Docker files without a Docker engine (none on the build machines): the compose file
 * parses and reserves the GPU, mounts the four folders and passes HF_TOKEN; the Dockerfile builds
 * with the Maven wrapper in a JDK 25 stage and runs the CLI on a CUDA runtime base.
 */
class DockerFilesTest {

  @Test
  void composeReservesTheGpuAndMountsTheFolders() throws Exception {
    JsonNode compose =
        new ObjectMapper(new YAMLFactory()).readTree(Repository.read("docker-compose.yml"));
    JsonNode service = compose.path("services").path("entity-train");

    JsonNode device = service.at("/deploy/resources/reservations/devices/0");
    assertThat(device.path("driver").asText()).isEqualTo("nvidia");
    assertThat(device.path("count").asText()).isEqualTo("all");
    assertThat(device.path("capabilities").toString()).contains("gpu");
    List<String> targets = new ArrayList<>();
    service.path("volumes").forEach(v -> targets.add(v.asText().replaceFirst("^.*:", "")));
    assertThat(targets).containsExactlyInAnyOrder("/data", "/models", "/runs", "/hf-cache");
    assertThat(service.path("environment").path("HF_HOME").asText()).isEqualTo("/hf-cache");
    assertThat(service.path("environment").has("HF_TOKEN")).isTrue();
    assertThat(service.path("build").path("dockerfile").asText()).isEqualTo("Dockerfile");
  }

  @Test
  void dockerfileIsAMultiStageWrapperBuildOnACudaRuntime() {
    String dockerfile = Repository.read("Dockerfile");
    List<String> from = dockerfile.lines().filter(l -> l.startsWith("FROM ")).toList();

    assertThat(from).hasSize(2);
    assertThat(from.get(0)).matches("FROM eclipse-temurin:25-jdk AS build");
    assertThat(from.get(1))
        .matches("FROM nvidia/cuda:\\d+\\.\\d+\\.\\d+-runtime-ubuntu\\d+\\.\\d+");
    assertThat(dockerfile)
        .contains("./mvnw -B -q -DskipTests")
        .contains("package -pl entity-training -am")
        .contains("COPY --from=build /opt/java/openjdk /opt/java/openjdk")
        .contains("/src/entity-training/target/dist/")
        .contains("--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED")
        .contains("dev.entity.training.cli.Main")
        .contains("HF_HOME=/hf-cache")
        .contains("VOLUME [\"/data\", \"/models\", \"/runs\", \"/hf-cache\"]");
  }

  @Test
  void theBuildContextLeavesOutOutputsAndHistory() {
    List<String> ignored = Repository.read(".dockerignore").lines().toList();

    assertThat(ignored).contains("**/target/", "runs/", "node_modules/", ".git/");
  }
}
