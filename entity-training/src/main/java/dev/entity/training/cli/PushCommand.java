package dev.entity.training.cli;

import dev.entity.training.hub.HubSettings;
import dev.entity.training.hub.HubUploader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code entity-train push}: upload a folder to a Hugging Face Hub model repository. */
@Command(
    name = "push",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Push a folder (model, adapter, GGUF) to a Hugging Face Hub model repository.",
    description = {
      "Creates the repository if needed, uploads large files through Git LFS and commits"
          + " every file in one commit. The token comes from HF_TOKEN or the token file"
          + " ($HF_HOME/token, written by `hf auth login`); it is never printed. HF_ENDPOINT"
          + " selects another Hub.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train push --folder runs/my-run/export/merged --repo me/my-model",
      "  entity-train push --folder export/adapter --repo me/my-lora --private"
    })
final class PushCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--folder", required = true, paramLabel = "DIR", description = "Folder to push.")
  Path folder;

  @Option(
      names = "--repo",
      required = true,
      paramLabel = "ID",
      description = "Repository id, owner/name.")
  String repo;

  @Option(names = "--private", description = "Create the repository private.")
  boolean privateRepo;

  @Option(
      names = "--message",
      defaultValue = "Upload model trained with entity-training",
      paramLabel = "TEXT",
      description = "Commit message.")
  String message;

  /** Hub settings; tests replace them. */
  static HubSettings settings = null; // tests point push at a local Hub

  @Override
  public Integer call() {
    PrintWriter w = spec.commandLine().getOut();
    HubSettings s = settings != null ? settings : HubSettings.fromEnvironment();
    HubUploader.Result r =
        new HubUploader(s, w::println)
            .push(folder, repo, HubUploader.Options.of(privateRepo, message));
    w.println(
        "pushed "
            + (r.regularFiles() + r.lfsFiles())
            + " files ("
            + r.lfsFiles()
            + " via LFS) to "
            + r.url());
    return 0;
  }
}
