package dev.entity.engine.backend.cuda;

import dev.entity.engine.EngineException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One shared library opened for FFM downcalls: its symbols become {@link MethodHandle}s, and a
 * missing symbol is an {@link EngineException} naming the library and the function (usually a
 * library older than CUDA 12). Libraries stay loaded for the life of the process (the global
 * arena): the driver cannot be unloaded safely anyway.
 */
final class NativeLibrary {

  private static final Linker LINKER = Linker.nativeLinker();

  private final String name;
  private final SymbolLookup lookup;

  private NativeLibrary(String name, SymbolLookup lookup) {
    this.name = name;
    this.lookup = lookup;
  }

  /** Opens {@code file} (a path, or a bare name for the system loader to find). */
  static NativeLibrary open(Path file) {
    if (file.getParent() != null && !isElf(file)) {
      throw new EngineException("cannot load " + file + ": it is not an ELF shared library");
    }
    try {
      SymbolLookup lookup =
          file.getParent() == null
              ? SymbolLookup.libraryLookup(file.toString(), Arena.global())
              : SymbolLookup.libraryLookup(file, Arena.global());
      return new NativeLibrary(file.toString(), lookup);
    } catch (IllegalArgumentException | IllegalCallerException e) {
      throw new EngineException(
          "cannot load " + file + ": " + e.getMessage() + " (is it a library for this machine?)",
          e);
    }
  }

  /** Checks the ELF magic first: dlopen of a non-library makes the JVM print a warning. */
  private static boolean isElf(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] magic = in.readNBytes(4);
      return magic.length == 4
          && magic[0] == 0x7f
          && magic[1] == 'E'
          && magic[2] == 'L'
          && magic[3] == 'F';
    } catch (IOException e) {
      return false;
    }
  }

  /** Whether the system loader (dlopen with its default search) finds {@code name}. */
  static boolean loadableByName(String name) {
    try {
      SymbolLookup.libraryLookup(name, Arena.global());
      return true;
    } catch (IllegalArgumentException | IllegalCallerException e) {
      return false;
    }
  }

  String name() {
    return name;
  }

  /** The function {@code symbol} with C signature {@code descriptor}. */
  MethodHandle function(String symbol, FunctionDescriptor descriptor) {
    return optional(symbol, descriptor)
        .orElseThrow(
            () ->
                new EngineException(
                    name
                        + " has no function "
                        + symbol
                        + "; it is older than this backend needs (CUDA 12 or newer)"));
  }

  /** The first of {@code symbols} the library has (a newer name first, its older alias next). */
  MethodHandle firstOf(FunctionDescriptor descriptor, String... symbols) {
    for (String symbol : symbols) {
      Optional<MethodHandle> h = optional(symbol, descriptor);
      if (h.isPresent()) {
        return h.get();
      }
    }
    return function(symbols[0], descriptor);
  }

  Optional<MethodHandle> optional(String symbol, FunctionDescriptor descriptor) {
    Optional<MemorySegment> address = lookup.find(symbol);
    return address.map(a -> LINKER.downcallHandle(a, descriptor));
  }

  /** A C string at {@code address} (null pointer: empty). */
  static String cString(MemorySegment address) {
    if (address == null || address.equals(MemorySegment.NULL)) {
      return "";
    }
    return address.reinterpret(1 << 16).getString(0);
  }

  /**
   * What a failed downcall threw, to be thrown again: runtime exceptions and errors as they are
   * (our checks throw those), anything checked wrapped.
   */
  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }
}
