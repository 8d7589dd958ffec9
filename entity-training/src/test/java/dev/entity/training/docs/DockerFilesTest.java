package dev.entity.training.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Checks the Docker files without a Docker engine (none on the build machines, so the image is
 * never built here): the compose file parses and reserves the GPU, mounts the four folders and
 * passes HF_TOKEN; the Dockerfile builds with the Maven wrapper in a JDK 25 stage and runs the CLI
 * on a CUDA runtime base; every COPY source exists and .dockerignore leaves out build outputs and
 * runs but nothing the build needs.
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
    assertThat(from.get(0)).as("JDK 25 builds").matches("FROM eclipse-temurin:25-jdk AS build");
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
    assertThat(ignoredByDocker("entity-training/target/dist/x.jar")).isTrue();
    assertThat(ignoredByDocker("target/classes")).isTrue();
    assertThat(ignoredByDocker("runs/quickstart/model/config.json")).isTrue();
    assertThat(ignoredByDocker(".git/HEAD")).isTrue();
  }

  /**
   * What the build stage needs from the context: the wrapper, the root pom, every module's pom
   * (Maven reads the whole reactor even with -pl) and sources, and what the runtime stage copies.
   */
  static List<String> buildInputs() {
    List<String> needed =
        new ArrayList<>(
            List.of(
                "mvnw",
                ".mvn/wrapper/maven-wrapper.properties",
                ".mvn/jvm.config",
                "pom.xml",
                "configs/quickstart.yaml",
                "data/sample.jsonl"));
    Matcher module =
        Pattern.compile("<module>([^<]+)</module>").matcher(Repository.read("pom.xml"));
    while (module.find()) {
      needed.add(module.group(1) + "/pom.xml");
    }
    for (String source : List.of("entity-core", "entity-engine", "entity-training")) {
      needed.add(source + "/src/main/java");
    }
    return needed;
  }

  @Test
  void everythingTheBuildNeedsIsInTheContextAndNotIgnored() {
    List<String> needed = buildInputs();
    assertThat(needed).contains("benchmarks/pom.xml", "examples/custom-plugin/pom.xml");
    for (String path : needed) {
      assertThat(Repository.root().resolve(path)).as(path).exists();
      assertThat(ignoredByDocker(path)).as(path + " is left out by .dockerignore").isFalse();
    }
  }

  @Test
  void everyCopySourceExists() {
    String dockerfile = Repository.read("Dockerfile");
    Matcher copy = Pattern.compile("(?m)^COPY (--from=(\\S+) )?(\\S+) (\\S+)$").matcher(dockerfile);
    int copies = 0;
    while (copy.find()) {
      copies++;
      String source = copy.group(3);
      if (copy.group(2) == null) {
        assertThat(source).as("the build stage copies the whole context").isEqualTo(".");
        continue;
      }
      if (source.startsWith("/src/")) {
        String relative = source.substring("/src/".length()).replaceFirst("/$", "");
        if (relative.endsWith("target/dist")) {
          // made by the build stage's package: the module's pom must put the jars there
          assertThat(Repository.read(relative.replace("target/dist", "pom.xml")))
              .contains("<outputDirectory>${project.build.directory}/dist</outputDirectory>");
        } else {
          assertThat(Repository.root().resolve(relative)).as(source).exists();
          assertThat(ignoredByDocker(relative)).as(source + " is left out").isFalse();
        }
      } else {
        assertThat(source).as("the JDK of the build image").isEqualTo("/opt/java/openjdk");
      }
    }
    assertThat(copies).isEqualTo(5);
  }

  /**
   * Whether .dockerignore leaves {@code path} (relative to the context) out: a pattern matches the
   * path or one of its parent folders; {@code **}{@code /} also matches at the root.
   */
  static boolean ignoredByDocker(String path) {
    List<PathMatcher> matchers = new ArrayList<>();
    for (String line : Repository.read(".dockerignore").lines().toList()) {
      String pattern = line.strip().replaceFirst("/$", "");
      if (pattern.isEmpty() || pattern.startsWith("#")) {
        continue;
      }
      assertThat(pattern).as("negated patterns are not used").doesNotStartWith("!");
      matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + pattern));
      if (pattern.startsWith("**/")) {
        matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + pattern.substring(3)));
      }
    }
    for (Path p = Path.of(path); p != null; p = p.getParent()) {
      for (PathMatcher m : matchers) {
        if (m.matches(p)) {
          return true;
        }
      }
    }
    return false;
  }
}
