package dev.entity.engine.model;

import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** One Hugging Face reference fixture (scripts/reference/make_model_fixtures.py) for tests. */
final class HfReference implements AutoCloseable {

  final Path dir;
  final SafetensorsFile ref;

  HfReference(String arch) {
    try {
      dir = Path.of(HfReference.class.getResource("/fixtures/hf/" + arch).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    ref = SafetensorsFile.open(dir.resolve("reference.safetensors"));
  }

  Path model() {
    return dir.resolve("model");
  }

  boolean has(String name) {
    return ref.contains(name);
  }

  float[] floats(String name) {
    return floats(ref.tensor(name));
  }

  static float[] floats(Tensor t) {
    return t.data().toArray(ValueLayout.JAVA_FLOAT);
  }

  int[][] ints(String name) {
    Tensor t = ref.tensor(name);
    int b = (int) t.dim(0);
    int n = (int) t.dim(1);
    int[] flat = t.data().toArray(ValueLayout.JAVA_INT);
    int[][] out = new int[b][n];
    for (int i = 0; i < b; i++) {
      System.arraycopy(flat, i * n, out[i], 0, n);
    }
    return out;
  }

  Batch batch() {
    return Batch.fromHuggingFace(ints("input_ids"), ints("attention_mask"), ints("labels"));
  }

  /** Row indices (into B*T) of real tokens. */
  int[] tokenRows() {
    int[][] mask = ints("attention_mask");
    return java.util.stream.IntStream.range(0, mask.length * mask[0].length)
        .filter(n -> mask[n / mask[0].length][n % mask[0].length] != 0)
        .toArray();
  }

  /** The reference logits of the given rows, (rows, V). */
  float[] logits(String name, int[] rows, int vocab) {
    float[] all = floats(name);
    float[] out = new float[rows.length * vocab];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(all, rows[i] * vocab, out, i * vocab, vocab);
    }
    return out;
  }

  @Override
  public void close() {
    ref.close();
  }
}
