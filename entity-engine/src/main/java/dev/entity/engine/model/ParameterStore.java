// Convention: trainable parameters, their gradients and any optimizer moments are carved from ONE
// layout (the trainable slots in order), so a name finds a slot's view in every role; frozen slots
// live in separate segments (F32, or a compact dtype such as BF16 for weights used only by matmul,
// or NF4: packed codes, absmax data and offsets in byte/F32 segments with one view per slot each).
package dev.entity.engine.model;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.quant.DynamicMap;
import dev.entity.engine.quant.Nf4;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.engine.quant.Nf4Tensor;
import dev.entity.engine.quant.Nf4Weights;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model's parameters as a few flat backend buffers with named views: trainable parameters
 * (F32), their gradients (F32), frozen parameters kept exact (F32), and frozen matrices kept
 * compact (BF16 or F16, used only as matmul operands) or quantized to NF4 (QLoRA's frozen linear
 * weights, dequantized by their layer into the shared {@link #nf4Scratch}). Names are Hugging Face
 * tensor names (PEFT names for LoRA adapters). Optimizers get moment buffers with the same views
 * through {@link #allocateTrainableRole}.
 */
public final class ParameterStore implements AutoCloseable {

  /** Where a slot is kept and whether it is trained. */
  public enum Storage {
    /** F32, has a gradient and optimizer state. */
    TRAINABLE,
    /** F32, frozen. */
    FROZEN,
    /** Frozen in the store's compact dtype; only ever a matmul operand. */
    FROZEN_COMPACT,
    /** Frozen in NF4 (see {@link #nf4}); a linear weight its layer dequantizes before use. */
    FROZEN_NF4
  }

  /**
   * One parameter.
   *
   * @param name the Hugging Face (or PEFT) tensor name
   * @param shape the shape as the engine uses it, e.g. a linear weight (OC, C)
   * @param storage where it is kept
   * @param fileTransposed true when files hold the transpose (GPT-2's Conv1D weights (C, OC))
   */
  public record Slot(String name, long[] shape, Storage storage, boolean fileTransposed) {
    public Slot {
      shape = shape.clone();
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    public long count() {
      return Tensor.elementCount(shape);
    }

    /** The shape as stored in Hugging Face files. */
    public long[] fileShape() {
      return fileTransposed ? new long[] {shape[1], shape[0]} : shape.clone();
    }

    @Override
    public String toString() {
      return name + Arrays.toString(shape) + " " + storage;
    }
  }

  /** A flat buffer and its named views. */
  public record Segment(Tensor flat, Map<String, Tensor> views) {
    public Tensor view(String name) {
      Tensor t = views.get(name);
      if (t == null) {
        throw new IllegalArgumentException("no slot named '" + name + "' in this segment");
      }
      return t;
    }
  }

  private final Backend backend;
  private final List<Slot> slots;
  private final Map<String, Slot> byName = new LinkedHashMap<>();
  private final DType compactDType;
  private final SlotLayout trainableLayout;
  private final Segment params;
  private final Segment grads;
  private final Segment frozen;
  private final Segment compact;
  private final Nf4Config nf4; // null when no slot is NF4
  private final Segment nf4Packed; // U8 codes
  private final Segment nf4Absmax; // F32: 64-block absmax, or 256-block scales with double quant
  private final Segment nf4Codes; // U8 8-bit absmax codes (double quantization)
  private final Segment nf4Offsets; // F32, one per slot (double quantization)
  private final Nf4Tensor.Scratch nf4Scratch;
  private final List<Tensor> owned = new ArrayList<>();

  /**
   * Allocates zero-filled buffers for {@code slots} on {@code backend}; {@code compactDType} is the
   * dtype of {@link Storage#FROZEN_COMPACT} slots (BF16 or F16; F32 makes them plain frozen).
   */
  public ParameterStore(Backend backend, List<Slot> slots, DType compactDType) {
    this(backend, slots, compactDType, null);
  }

  /**
   * As {@link #ParameterStore(Backend, List, DType)}, with {@link Storage#FROZEN_NF4} slots kept as
   * {@code nf4} says (required when there are such slots).
   */
  public ParameterStore(Backend backend, List<Slot> slots, DType compactDType, Nf4Config nf4) {
    if (!compactDType.isFloat()) {
      throw new IllegalArgumentException("compact dtype must be a float type: " + compactDType);
    }
    this.backend = backend;
    this.slots = List.copyOf(slots);
    this.compactDType = compactDType;
    SlotLayout.Builder trainable = SlotLayout.builder();
    SlotLayout.Builder exact = SlotLayout.builder();
    SlotLayout.Builder small = SlotLayout.builder();
    SlotLayout.Builder packed = SlotLayout.builder();
    SlotLayout.Builder absmax = SlotLayout.builder();
    SlotLayout.Builder codes = SlotLayout.builder();
    SlotLayout.Builder offsets = SlotLayout.builder();
    long largest = 0;
    for (Slot s : slots) {
      if (byName.put(s.name(), s) != null) {
        throw new IllegalArgumentException("parameter '" + s.name() + "' declared twice");
      }
      switch (s.storage()) {
        case TRAINABLE -> trainable.add(s.name(), s.shape);
        case FROZEN -> exact.add(s.name(), s.shape);
        case FROZEN_COMPACT -> small.add(s.name(), s.shape);
        case FROZEN_NF4 -> {
          if (nf4 == null) {
            throw new IllegalArgumentException("NF4 slot '" + s.name() + "' without an Nf4Config");
          }
          long blocks = Nf4.blocks(s.count());
          packed.add(s.name(), Nf4.packedBytes(s.count()));
          if (nf4.doubleQuant()) {
            codes.add(s.name(), blocks);
            absmax.add(s.name(), DynamicMap.blocks(blocks));
            offsets.add(s.name(), 1);
          } else {
            absmax.add(s.name(), blocks);
          }
          largest = Math.max(largest, s.count());
        }
      }
    }
    this.trainableLayout = trainable.build();
    this.params = allocate(trainableLayout, DType.F32);
    this.grads = allocate(trainableLayout, DType.F32);
    this.frozen = allocate(exact.build(), DType.F32);
    this.compact = allocate(small.build(), compactDType);
    this.nf4 = nf4;
    this.nf4Packed = allocate(packed.build(), DType.U8);
    this.nf4Absmax = allocate(absmax.build(), DType.F32);
    this.nf4Codes = allocate(codes.build(), DType.U8);
    this.nf4Offsets = allocate(offsets.build(), DType.F32);
    this.nf4Scratch =
        largest == 0
            ? null
            : new Nf4Tensor.Scratch(
                own(backend.allocate(nf4.computeDType(), largest)),
                own(backend.allocate(DType.F32, Nf4.blocks(largest))));
  }

  private Tensor own(Tensor t) {
    owned.add(t);
    return t;
  }

  private Segment allocate(SlotLayout layout, DType dtype) {
    if (layout.entries().isEmpty()) {
      return new Segment(null, Map.of());
    }
    Tensor flat = backend.allocate(dtype, layout.totalElements());
    owned.add(flat);
    return new Segment(flat, layout.carve(flat));
  }

  /**
   * A new zero-filled F32 buffer with one view per trainable slot at the parameters' offsets (for
   * optimizer moments). Freed with the store.
   */
  public Segment allocateTrainableRole() {
    return allocate(trainableLayout, DType.F32);
  }

  public Backend backend() {
    return backend;
  }

  public DType compactDType() {
    return compactDType;
  }

  /** Every slot in declaration order. */
  public List<Slot> slots() {
    return slots;
  }

  public List<Slot> trainableSlots() {
    return slots.stream().filter(s -> s.storage() == Storage.TRAINABLE).toList();
  }

  public boolean contains(String name) {
    return byName.containsKey(name);
  }

  public Slot slot(String name) {
    Slot s = byName.get(name);
    if (s == null) {
      throw new IllegalArgumentException("no parameter named '" + name + "'");
    }
    return s;
  }

  /**
   * The parameter's view, in whichever segment holds it; NF4 slots have none (see {@link #nf4}).
   */
  public Tensor param(String name) {
    return switch (slot(name).storage()) {
      case TRAINABLE -> params.view(name);
      case FROZEN -> frozen.view(name);
      case FROZEN_COMPACT -> compact.view(name);
      case FROZEN_NF4 ->
          throw new IllegalArgumentException(
              "parameter '" + name + "' is stored as NF4; use nf4(name) or toHost(name, arena)");
    };
  }

  /** The NF4 views of a {@link Storage#FROZEN_NF4} slot. */
  public Nf4Tensor nf4(String name) {
    Slot s = slot(name);
    if (s.storage() != Storage.FROZEN_NF4) {
      throw new IllegalArgumentException("parameter '" + name + "' is not stored as NF4");
    }
    boolean dq = nf4.doubleQuant();
    return new Nf4Tensor(
        s.shape,
        nf4Packed.view(name),
        nf4Absmax.view(name),
        dq ? nf4Codes.view(name) : null,
        dq ? nf4Offsets.view(name) : null);
  }

  /** How NF4 slots are kept, or null when the store has none. */
  public Nf4Config nf4Config() {
    return nf4;
  }

  /**
   * The work buffers NF4 layers dequantize into (sized for the largest NF4 slot, in the compute
   * dtype), or null when the store has no NF4 slot.
   */
  public Nf4Tensor.Scratch nf4Scratch() {
    return nf4Scratch;
  }

  /**
   * Bytes of the buffers holding slots of {@code storage}, alignment padding included; for NF4 the
   * packed codes, absmax data and offsets (not the dequantize scratch).
   */
  public long bytes(Storage storage) {
    return switch (storage) {
      case TRAINABLE -> bytes(params);
      case FROZEN -> bytes(frozen);
      case FROZEN_COMPACT -> bytes(compact);
      case FROZEN_NF4 -> bytes(nf4Packed) + bytes(nf4Absmax) + bytes(nf4Codes) + bytes(nf4Offsets);
    };
  }

  private static long bytes(Segment s) {
    return s.flat() == null ? 0 : s.flat().byteSize();
  }

  /** The gradient's view, or null when the parameter is frozen. */
  public Tensor grad(String name) {
    return slot(name).storage() == Storage.TRAINABLE ? grads.view(name) : null;
  }

  /**
   * The elements of {@code flat} (a trainable-role buffer: parameters, gradients or moments) from
   * the start of slot {@code first} to the end of slot {@code last}, padding included, as one 1-D
   * view: consecutive slots updated by one kernel call.
   */
  public Tensor trainableSpan(Tensor flat, String first, String last) {
    long from = trainableLayout.entry(first).offset();
    SlotLayout.Entry end = trainableLayout.entry(last);
    return SlotLayout.slice(flat, from, end.offset() + end.count() - from);
  }

  /** All trainable parameters as one flat F32 buffer (padding between slots stays zero). */
  public Tensor trainableParams() {
    return params.flat();
  }

  /** All gradients as one flat F32 buffer, in slot order. */
  public Tensor gradients() {
    return grads.flat();
  }

  public long trainableCount() {
    return trainableSlots().stream().mapToLong(Slot::count).sum();
  }

  public long parameterCount() {
    return slots.stream().mapToLong(Slot::count).sum();
  }

  /**
   * Copies a host tensor (F32, BF16 or F16, the parameter's element count) into parameter {@code
   * name}, converting to the slot's dtype.
   */
  public void copyFromHost(String name, Tensor host) {
    if (slot(name).storage() != Storage.FROZEN_NF4) {
      copyFromHost(param(name), host);
      return;
    }
    if (host.elementCount() != slot(name).count()) {
      throw new IllegalArgumentException(
          "host tensor " + host + " does not fit " + Arrays.toString(slot(name).shape));
    }
    Nf4Weights q = Nf4Weights.quantize(hostFloats(host), nf4.doubleQuant());
    Nf4Tensor t = nf4(name);
    copyBytes(t.packed(), MemorySegment.ofArray(q.packed()));
    copyBytes(t.absmax(), MemorySegment.ofArray(q.absmax()));
    if (q.doubleQuant()) {
      copyBytes(t.absmaxCodes(), MemorySegment.ofArray(q.absmaxCodes()));
      copyBytes(t.offset(), MemorySegment.ofArray(new float[] {q.offset()}));
    }
  }

  /** A host tensor's values (F32, BF16 or F16) as floats, for quantizing on the host. */
  private static float[] hostFloats(Tensor host) {
    int n = Math.toIntExact(host.elementCount());
    MemorySegment s = host.data();
    float[] out = new float[n];
    switch (host.dtype()) {
      case F32 -> MemorySegment.copy(s, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, out, 0, n);
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          out[i] =
              Float.intBitsToFloat(
                  (s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i) & 0xffff) << 16);
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float.float16ToFloat(s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
        }
      }
      case I32, U8 -> throw new IllegalArgumentException("not a float tensor: " + host);
    }
    return out;
  }

  /** Copies host bytes (exactly dst's size) into the backend view {@code dst}. */
  private void copyBytes(Tensor dst, MemorySegment bytes) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment seg = arena.allocate(dst.byteSize(), 64);
      seg.copyFrom(bytes);
      Tensor host = new Tensor(dst.dtype(), dst.shape(), seg, Device.CPU);
      Tensor src = backend.upload(host);
      try {
        backend.convert(dst, src);
      } finally {
        if (src != host) {
          backend.free(src);
        }
      }
    }
  }

  /**
   * Copies a host tensor into {@code dst}, a view of one of this store's buffers (a parameter or an
   * optimizer moment), converting between F32, BF16 and F16.
   */
  public void copyFromHost(Tensor dst, Tensor host) {
    if (host.elementCount() != dst.elementCount()) {
      throw new IllegalArgumentException(
          "host tensor " + host + " does not fit " + Arrays.toString(dst.shape()));
    }
    if (!host.data().isAccessibleBy(ANOTHER_THREAD)) {
      // A confined host segment (an Arena.ofConfined copy) cannot be read by the CPU backend's
      // workers, which convert large tensors in parallel: stage it in a shared segment.
      try (Arena shared = Arena.ofShared()) {
        MemorySegment copy = shared.allocate(host.byteSize(), 64);
        copy.copyFrom(host.data());
        copyFromHost(dst, new Tensor(host.dtype(), host.shape(), copy, host.device()));
      }
      return;
    }
    Tensor src = backend.upload(host);
    try {
      backend.convert(dst, src.reshape(dst.shape()));
    } finally {
      if (src != host) {
        backend.free(src);
      }
    }
  }

  private static final Thread ANOTHER_THREAD = Thread.ofPlatform().unstarted(() -> {});

  /** An F32 host copy of parameter {@code name} in {@code arena}; NF4 slots are dequantized. */
  public Tensor toHost(String name, Arena arena) {
    if (slot(name).storage() != Storage.FROZEN_NF4) {
      return toHost(param(name), arena);
    }
    Nf4Tensor q = nf4(name);
    Tensor values = backend.allocate(DType.F32, q.shape());
    Tensor absmax = backend.allocate(DType.F32, Math.max(1, Nf4.blocks(q.elementCount())));
    try {
      q.dequantize(backend, values, absmax);
      return toHost(values, arena);
    } finally {
      backend.free(values);
      backend.free(absmax);
    }
  }

  /**
   * An F32 host copy of a backend tensor (a parameter, gradient or moment view) in {@code arena}.
   */
  public Tensor toHost(Tensor src, Arena arena) {
    Tensor host =
        new Tensor(DType.F32, src.shape(), arena.allocate(src.elementCount() * 4, 64), Device.CPU);
    if (src.dtype() == DType.F32) {
      backend.download(host, src);
      return host;
    }
    Tensor tmp = backend.allocate(DType.F32, src.shape());
    try {
      backend.convert(tmp, src);
      backend.download(host, tmp);
    } finally {
      backend.free(tmp);
    }
    return host;
  }

  /**
   * A seed for the values of slot {@code name} derived from a run seed: the same name gets the same
   * numbers whatever else the model holds.
   */
  public static long slotSeed(long seed, String name) {
    long h = 0xcbf29ce484222325L; // FNV-1a over the name's UTF-16 units
    for (int i = 0; i < name.length(); i++) {
      h = (h ^ name.charAt(i)) * 0x100000001b3L;
    }
    return seed * 0x9E3779B97F4A7C15L ^ h;
  }

  /** Zeroes every gradient (backward only ever accumulates). */
  public void zeroGrad() {
    if (grads.flat() != null) {
      backend.zero(grads.flat());
    }
  }

  @Override
  public void close() {
    for (Tensor t : owned) {
      backend.free(t);
    }
    owned.clear();
  }
}
