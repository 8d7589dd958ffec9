// Convention: a GGUF file counts as exported only after every tensor was read back through the
// GGUF reader and dequantized without a NaN or infinity; a file that fails is deleted.
package dev.entity.training.export;

import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import dev.entity.engine.format.gguf.GgmlType;
import dev.entity.engine.format.gguf.GgufExport;
import dev.entity.engine.format.gguf.GgufReader;
import dev.entity.engine.format.gguf.GgufTensorInfo;
import dev.entity.engine.tensor.Tensor;
import dev.entity.training.checksum.FileChecksums;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * GGUF export with verification, over the engine's {@link GgufExport}: a Hugging Face folder to a
 * model GGUF of a type (f32, f16, bf16, q8_0, q4_0, q5_1), and a PEFT adapter to a GGUF LoRA
 * adapter. Each written file is read back tensor by tensor.
 */
public final class GgufFileExport {

  /** What was written and checked. */
  public record Result(Path file, GgmlType type, int tensors, long bytes, String sha256) {}

  private GgufFileExport() {}

  /** The GGUF type for a user's name ("q8_0", "F16", ...), as an {@link EntityException}. */
  public static GgmlType parseType(String name) {
    try {
      return GgufExport.parseType(name);
    } catch (EngineException e) {
      throw new EntityException(e.getMessage(), e);
    }
  }

  /** Converts the model folder {@code hfFolder} to {@code out} with matrices in {@code type}. */
  public static Result model(Path hfFolder, Path out, GgmlType type, String name) {
    createParent(out);
    try {
      GgufExport.model(hfFolder, out, new GgufExport.Options(type, name, null));
    } catch (EngineException e) {
      throw new EntityException("cannot convert " + hfFolder + " to GGUF: " + e.getMessage(), e);
    }
    return verify(out, type);
  }

  /** Converts the PEFT adapter for the base in {@code baseFolder} to a GGUF LoRA adapter. */
  public static Result adapter(Path adapterFolder, Path baseFolder, Path out) {
    createParent(out);
    try {
      GgufExport.adapter(adapterFolder, baseFolder, out);
    } catch (EngineException e) {
      throw new EntityException(
          "cannot convert the adapter " + adapterFolder + " to GGUF: " + e.getMessage(), e);
    }
    return verify(out, GgmlType.F32);
  }

  /**
   * Reads back every tensor of a GGUF file; deletes the file when one is unreadable or not finite.
   */
  public static Result verify(Path file, GgmlType type) {
    int count = 0;
    try (GgufReader reader = GgufReader.open(file)) {
      if (reader.tensors().isEmpty()) {
        throw new EntityException(file + ": verification failed: the GGUF holds no tensors");
      }
      for (GgufTensorInfo info : reader.tensors()) {
        try (Arena arena = Arena.ofConfined()) {
          Tensor t = reader.readF32(info.name(), arena);
          for (long i = 0; i < t.elementCount(); i++) {
            float v = t.data().getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (!Float.isFinite(v)) {
              throw new EntityException(
                  file
                      + ": verification failed: tensor "
                      + info.name()
                      + " holds "
                      + v
                      + " at element "
                      + i);
            }
          }
        }
        count++;
      }
    } catch (EngineException | EntityException e) {
      deleteQuietly(file);
      throw e instanceof EntityException ee
          ? ee
          : new EntityException(file + ": verification failed: " + e.getMessage(), e);
    }
    try {
      return new Result(file, type, count, Files.size(file), FileChecksums.sha256(file));
    } catch (IOException e) {
      throw new EntityException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static void createParent(Path out) {
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new EntityException("cannot create the folder of " + out + ": " + e.getMessage(), e);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // the error being reported matters more than a leftover file
    }
  }
}
