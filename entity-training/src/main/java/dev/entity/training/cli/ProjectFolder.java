package dev.entity.training.cli;

import dev.entity.core.EntityException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The project's own folder (the clone holding {@code ./entity-train}, {@code configs/} and {@code
 * data/}), where the quickstart finds its workflow and sample dataset. Looked for, in order: the
 * {@code entity.home} system property or {@code ENTITY_HOME} variable, the folders above the
 * running jar (the launcher runs {@code entity-training/target/dist/*.jar}), and the working
 * directory and its parents.
 */
final class ProjectFolder {

  /** A file every clone has; its presence marks the project folder. */
  static final String MARKER = "configs/quickstart.yaml";

  private ProjectFolder() {}

  /**
   * The project folder.
   *
   * @throws EntityException when none of the places holds {@value #MARKER}
   */
  static Path find() {
    List<Path> starts = new ArrayList<>();
    String home = System.getProperty("entity.home", System.getenv("ENTITY_HOME"));
    if (home != null && !home.isBlank()) {
      starts.add(Path.of(home));
    }
    codeLocation().ifPresent(starts::add);
    starts.add(Path.of("").toAbsolutePath());
    for (Path start : starts) {
      for (Path dir = start.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
        if (Files.isRegularFile(dir.resolve(MARKER))) {
          return dir;
        }
      }
    }
    throw new EntityException(
        "cannot find the entity-training project folder (the one with "
            + MARKER
            + ") above "
            + starts
            + "; run from the clone, or set ENTITY_HOME to it");
  }

  private static Optional<Path> codeLocation() {
    try {
      var source = ProjectFolder.class.getProtectionDomain().getCodeSource();
      return source == null ? Optional.empty() : Optional.of(Path.of(source.getLocation().toURI()));
    } catch (URISyntaxException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
