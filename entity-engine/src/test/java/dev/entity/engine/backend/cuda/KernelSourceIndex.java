// Parses only what the tests need from the kernel files: each `extern "C" __global__ void NAME(`
// with its parameter list, the #define constants, and the __constant__ bit tables.
package dev.entity.engine.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The kernels, their C parameter kinds, and the constants of the CUDA sources, read as text. */
final class KernelSourceIndex {

  /** The kind of one C parameter, in the terms of {@link KernelArgs}. */
  enum Kind {
    POINTER,
    INT32,
    INT64,
    FLOAT32
  }

  private static final Pattern KERNEL =
      Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(\\w+)\\s*\\(([^)]*)\\)");
  private static final Pattern DEFINE =
      Pattern.compile("^#define\\s+(\\w+)\\s+(\\d+)\\b", Pattern.MULTILINE);

  final Map<String, String> sources = new LinkedHashMap<>();
  final Map<String, List<Kind>> kernels = new LinkedHashMap<>();
  final Map<String, String> parameters = new LinkedHashMap<>();
  final Map<String, String> fileOf = new LinkedHashMap<>();
  final List<String> duplicates = new ArrayList<>();

  KernelSourceIndex() {
    for (String file : CudaKernelSources.files()) {
      String text = read(file);
      sources.put(file, text);
      Matcher m = KERNEL.matcher(text);
      while (m.find()) {
        parameters.put(m.group(1), m.group(2).replaceAll("\\s+", " ").strip());
        fileOf.put(m.group(1), file);
        if (kernels.put(m.group(1), kinds(m.group(2))) != null) {
          duplicates.add(m.group(1));
        }
      }
    }
  }

  static String read(String file) {
    try (InputStream in = CudaKernelSources.class.getResourceAsStream(file)) {
      if (in == null) {
        throw new IllegalStateException("kernel source " + file + " is not on the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Kind> kinds(String params) {
    List<Kind> out = new ArrayList<>();
    for (String raw : params.split(",")) {
      String p = raw.strip();
      if (p.isEmpty()) {
        continue;
      }
      if (p.contains("*")) {
        out.add(Kind.POINTER);
      } else if (p.matches("(const\\s+)?long\\s+long\\s+\\w+")) {
        out.add(Kind.INT64);
      } else if (p.matches("(const\\s+)?int\\s+\\w+")) {
        out.add(Kind.INT32);
      } else if (p.matches("(const\\s+)?float\\s+\\w+")) {
        out.add(Kind.FLOAT32);
      } else {
        throw new IllegalStateException("unsupported kernel parameter type: " + p);
      }
    }
    return out;
  }

  static Kind kind(KernelArgs.Arg arg) {
    return switch (arg) {
      case KernelArgs.Pointer p -> Kind.POINTER;
      case KernelArgs.Int32 i -> Kind.INT32;
      case KernelArgs.Int64 l -> Kind.INT64;
      case KernelArgs.Float32 f -> Kind.FLOAT32;
    };
  }

  /** The value of {@code #define name N} in {@code file}, or -1 when it is not defined there. */
  long define(String file, String name) {
    Matcher m = DEFINE.matcher(sources.get(file));
    while (m.find()) {
      if (m.group(1).equals(name)) {
        return Long.parseLong(m.group(2));
      }
    }
    return -1;
  }

  /** The values of {@code __constant__ unsigned int NAME[] = {0x..., ...};} as floats. */
  float[] constantTable(String file, String name) {
    Matcher m =
        Pattern.compile(
                "__constant__\\s+unsigned\\s+int\\s+" + name + "\\[\\d+\\]\\s*=\\s*\\{([^}]*)}")
            .matcher(sources.get(file));
    if (!m.find()) {
      throw new IllegalStateException("no table " + name + " in " + file);
    }
    List<Float> values = new ArrayList<>();
    for (String hex : m.group(1).split(",")) {
      if (!hex.isBlank()) {
        values.add(Float.intBitsToFloat(Integer.parseUnsignedInt(hex.strip().substring(2), 16)));
      }
    }
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }
}
