// Convention: offsets count elements, not bytes, and every slot starts on a multiple of ALIGN
// elements, so views of F32 and BF16 buffers alike start on a 64-byte boundary.
package dev.entity.engine.model;

import dev.entity.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One list of named shapes laid out back to back in a flat buffer: the single source of the offsets
 * of every named view of the parameter, gradient, optimizer-moment and activation buffers (DESIGN
 * convention 4). Two buffers carved from the same layout have their views at the same offsets, so a
 * parameter's gradient and moments are found by the parameter's name.
 */
public final class SlotLayout {

  /** Slot alignment in elements (64 bytes of BF16, 128 of F32). */
  public static final long ALIGN = 32;

  /** A named shape at an element offset. */
  public record Entry(String name, long[] shape, long offset) {
    public Entry {
      shape = shape.clone();
    }

    public long count() {
      return Tensor.elementCount(shape);
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    @Override
    public String toString() {
      return name + Arrays.toString(shape) + "@" + offset;
    }
  }

  private final List<Entry> entries;
  private final Map<String, Entry> byName;
  private final long totalElements;

  private SlotLayout(List<Entry> entries, long totalElements) {
    this.entries = List.copyOf(entries);
    Map<String, Entry> map = new LinkedHashMap<>();
    for (Entry e : entries) {
      map.put(e.name(), e);
    }
    this.byName = Collections.unmodifiableMap(map);
    this.totalElements = totalElements;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Collects slots in order; names must be unique. */
  public static final class Builder {
    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, Entry> seen = new LinkedHashMap<>();
    private long next;

    public Builder add(String name, long... shape) {
      if (seen.containsKey(name)) {
        throw new IllegalArgumentException("slot '" + name + "' declared twice");
      }
      Entry e = new Entry(name, shape, next);
      entries.add(e);
      seen.put(name, e);
      next = alignUp(next + e.count());
      return this;
    }

    public boolean contains(String name) {
      return seen.containsKey(name);
    }

    public SlotLayout build() {
      return new SlotLayout(entries, next);
    }
  }

  static long alignUp(long n) {
    return (n + ALIGN - 1) / ALIGN * ALIGN;
  }

  /** Elements a buffer needs to hold every slot (padding included). */
  public long totalElements() {
    return totalElements;
  }

  public List<Entry> entries() {
    return entries;
  }

  public boolean contains(String name) {
    return byName.containsKey(name);
  }

  public Entry entry(String name) {
    Entry e = byName.get(name);
    if (e == null) {
      throw new IllegalArgumentException("no slot named '" + name + "'");
    }
    return e;
  }

  /** The view of slot {@code name} inside {@code base} (a buffer of at least total elements). */
  public Tensor view(Tensor base, String name) {
    return slice(base, entry(name));
  }

  /** Every slot's view of {@code base}, by name, in slot order. */
  public Map<String, Tensor> carve(Tensor base) {
    Map<String, Tensor> views = new LinkedHashMap<>();
    for (Entry e : entries) {
      views.put(e.name(), slice(base, e));
    }
    return Collections.unmodifiableMap(views);
  }

  /** Elements {@code [offset, offset + count(shape))} of a flat buffer, seen with {@code shape}. */
  public static Tensor slice(Tensor base, long offset, long... shape) {
    long bytes = base.dtype().bytes();
    long count = Tensor.elementCount(shape);
    if (offset < 0 || offset + count > base.elementCount()) {
      throw new IllegalArgumentException(
          "view of "
              + count
              + " elements at "
              + offset
              + " outside a buffer of "
              + base.elementCount());
    }
    return new Tensor(
        base.dtype(), shape, base.data().asSlice(offset * bytes, count * bytes), base.device());
  }

  private static Tensor slice(Tensor base, Entry e) {
    return slice(base, e.offset(), e.shape);
  }
}
