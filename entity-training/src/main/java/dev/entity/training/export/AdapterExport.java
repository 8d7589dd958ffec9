// Convention: an adapter is exported by copying PEFT's two files unchanged; "verified" means it
// parses as PEFT config and loads onto its base with every tensor's name and shape checked.
package dev.entity.training.export;

import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.model.Decoder;
import dev.entity.training.checksum.FileChecksums;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Exports a PEFT LoRA adapter folder ({@code adapter_config.json} + {@code
 * adapter_model.safetensors}, as {@link LoraAdapter#save} writes them) to a new folder, checks it
 * loads onto its base model, and writes the {@code SHA256SUMS} manifest.
 */
public final class AdapterExport {

  private AdapterExport() {}

  /**
   * Copies the adapter in {@code adapterFolder} to {@code out} and verifies the copy against the
   * base model in {@code baseFolder} (null: config checks only).
   */
  public static List<FileChecksums.Entry> export(
      Backend backend, Path adapterFolder, Path baseFolder, Path out) {
    verify(backend, adapterFolder, baseFolder);
    try {
      Files.createDirectories(out);
      if (!Files.isSameFile(adapterFolder, out)) {
        for (String name : List.of(LoraAdapter.CONFIG, LoraAdapter.WEIGHTS)) {
          Files.copy(
              adapterFolder.resolve(name), out.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new EntityException(
          "cannot copy the adapter " + adapterFolder + " to " + out + ": " + e.getMessage(), e);
    }
    verify(backend, out, baseFolder);
    return FileChecksums.writeManifest(out);
  }

  /** Parses the adapter's config and, with a base folder, loads it onto the base. */
  public static void verify(Backend backend, Path adapterFolder, Path baseFolder) {
    try {
      LoraAdapter.readConfig(adapterFolder, 0);
      if (!Files.isRegularFile(adapterFolder.resolve(LoraAdapter.WEIGHTS))) {
        throw new EngineException(
            adapterFolder.resolve(LoraAdapter.WEIGHTS)
                + ": not found; a PEFT adapter folder holds "
                + LoraAdapter.CONFIG
                + " and "
                + LoraAdapter.WEIGHTS);
      }
      if (baseFolder != null) {
        LoraAdapter.open(backend, baseFolder, adapterFolder, Decoder.Options.full()).close();
      }
    } catch (EngineException e) {
      throw new EntityException(
          "adapter " + adapterFolder + " is not usable: " + e.getMessage(), e);
    }
  }
}
