// The cases are written against two Backends and nothing else, so one set of cases serves the real
// GPU (CudaKernelParityTest) and the host emulation (EmulatedKernelParityTest). Tolerances: 1e-5
// relative for F32 math, 0 (bit for bit)
// where the kernel reproduces the CPU's arithmetic, 1e-2 where BF16 operands are involved.
package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.model.TrainingSession;
import dev.entity.engine.optim.AdamW;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every kernel op of a CUDA backend against {@link CpuBackend} on fresh random inputs, and whole
 * training steps of the tiny llama, qwen2 and gpt2 fixture models (full fine-tuning, LoRA with
 * dropout over BF16 frozen weights, QLoRA) matching the CPU within tolerance.
 */
abstract class KernelParityCases {

  private static final double F32 = 1e-5;
  private static final double EXACT = 0;

  /** The backend under test and the reference, opened by the subclass's {@code @BeforeAll}. */
  static Backend gpu;

  static Backend cpu;

  @AfterAll
  static void closeBackends() {
    if (gpu != null) {
      gpu.close();
      gpu = null;
    }
    if (cpu != null) {
      cpu.close();
      cpu = null;
    }
  }

  private static ParityRig rig(long seed) {
    return new ParityRig(cpu, gpu, seed);
  }

  // ---- memory and casts -----------------------------------------------------------------------

  @Test
  void zeroAndSameDtypeCopy() {
    ParityRig r = rig(1);
    Tensor x = r.normal(1000, 3);
    r.check("zero", EXACT, new Tensor[] {x}, new int[] {0}, (b, t) -> b.zero(t[0]));
    Tensor bytes = r.cpu.allocate(DType.U8, 13);
    r.check("zero u8", EXACT, new Tensor[] {bytes}, new int[] {0}, (b, t) -> b.zero(t[0]));
    r.check(
        "copy",
        EXACT,
        new Tensor[] {r.cpu.allocate(DType.F32, 1000, 3), x},
        new int[] {0},
        (b, t) -> b.convert(t[0], t[1]));
  }

  @ParameterizedTest
  @CsvSource({"F32,BF16", "F32,F16", "BF16,F32", "F16,F32", "BF16,F16", "F16,BF16"})
  void castsRoundToNearestEvenBitForBit(DType from, DType to) {
    ParityRig r = rig(2);
    float[] special = {
      0f,
      -0f,
      1f,
      -1f,
      65504f,
      65519.99f,
      65520f,
      1e-8f,
      5.9604645e-8f,
      2.9802322e-8f,
      6.1035156e-5f,
      6.0e-5f,
      Float.MIN_VALUE,
      Float.MAX_VALUE,
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY,
      1.00390625f,
      1.0078125f,
      3.0e38f,
      -2.5e-6f
    };
    Tensor values = r.normal(1000f, DType.F32, 4096);
    for (int i = 0; i < special.length; i++) {
      values.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, special[i]);
    }
    Tensor src = r.cpu.allocate(from, 4096);
    r.cpu.convert(src, values);
    r.check(
        "convert " + from + "->" + to,
        EXACT,
        new Tensor[] {r.cpu.allocate(to, 4096), src},
        new int[] {0},
        (b, t) -> b.convert(t[0], t[1]));
  }

  // ---- elementwise ----------------------------------------------------------------------------

  @Test
  void addScaleAxpy() {
    ParityRig r = rig(3);
    Tensor a = r.normal(3, 1001);
    Tensor c = r.normal(3, 1001);
    r.check(
        "add",
        F32,
        new Tensor[] {r.normal(3, 1001), a, c},
        new int[] {0},
        (b, t) -> b.add(t[0], t[1], t[2]));
    r.check("scale", F32, new Tensor[] {a}, new int[] {0}, (b, t) -> b.scale(t[0], 0.37f));
    r.check("axpy", F32, new Tensor[] {a, c}, new int[] {0}, (b, t) -> b.axpy(t[0], t[1], -1.5f));
  }

  @ParameterizedTest
  @ValueSource(strings = {"F32", "BF16", "F16"})
  void biasForwardAndBackward(DType biasType) {
    ParityRig r = rig(4);
    Tensor out = r.normal(130, 70);
    r.check(
        "addBias",
        F32,
        new Tensor[] {out, r.normal(1f, biasType, 70)},
        new int[] {0},
        (b, t) -> b.addBias(t[0], t[1]));
    r.check(
        "biasBackward",
        F32,
        new Tensor[] {r.normal(70), r.normal(130, 70)},
        new int[] {0},
        (b, t) -> b.biasBackward(t[0], t[1]));
  }

  @Test
  void activations() {
    ParityRig r = rig(5);
    Tensor g = r.normal(3f, DType.F32, 50, 33);
    Tensor u = r.normal(50, 33);
    Tensor d = r.normal(50, 33);
    r.check(
        "swiglu",
        F32,
        new Tensor[] {r.normal(50, 33), g, u},
        new int[] {0},
        (b, t) -> b.swigluForward(t[0], t[1], t[2]));
    r.check(
        "swiglu backward",
        F32,
        new Tensor[] {r.normal(50, 33), r.normal(50, 33), d, g, u},
        new int[] {0, 1},
        (b, t) -> b.swigluBackward(t[0], t[1], t[2], t[3], t[4]));
    r.check(
        "gelu",
        F32,
        new Tensor[] {r.normal(50, 33), g},
        new int[] {0},
        (b, t) -> b.geluForward(t[0], t[1]));
    r.check(
        "gelu backward",
        F32,
        new Tensor[] {r.normal(50, 33), d, g},
        new int[] {0},
        (b, t) -> b.geluBackward(t[0], t[1], t[2]));
  }

  @ParameterizedTest
  @ValueSource(longs = {0L, 42L, -7L, 0x1234_5678_9abcL})
  void dropoutMasksAreTheCpuMasksBitForBit(long seed) {
    ParityRig r = rig(6);
    r.check(
        "dropout",
        EXACT,
        new Tensor[] {r.normal(3000), r.normal(3000)},
        new int[] {0},
        (b, t) -> b.dropout(t[0], t[1], 0.3f, seed));
  }

  @Test
  void adamwFollowsTheCpuUpdate() {
    ParityRig r = rig(7);
    Tensor v = r.normal(3001);
    for (long i = 0; i < v.elementCount(); i++) {
      float x = v.data().getAtIndex(ValueLayout.JAVA_FLOAT, i);
      v.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, x * x);
    }
    r.check(
        "adamw",
        1e-6,
        new Tensor[] {r.normal(3001), r.normal(3001), r.normal(0.1f, DType.F32, 3001), v},
        new int[] {0, 2, 3},
        (b, t) -> b.adamw(t[0], t[1], t[2], t[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.5f, 7));
  }

  // ---- embedding, norms, rope -----------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"F32", "BF16"})
  void embeddingForwardAndBackwardBitForBit(DType tableType) {
    ParityRig r = rig(8);
    Tensor ids = r.ints(50, 300); // many repeated ids: the order of additions matters
    r.check(
        "embedding",
        EXACT,
        new Tensor[] {r.normal(300, 40), ids, r.normal(1f, tableType, 50, 40)},
        new int[] {0},
        (b, t) -> b.embeddingForward(t[0], t[1], t[2]));
    r.check(
        "embedding backward",
        EXACT,
        new Tensor[] {r.normal(50, 40), r.normal(300, 40), ids},
        new int[] {0},
        (b, t) -> b.embeddingBackward(t[0], t[1], t[2]));
  }

  @ParameterizedTest
  @CsvSource({"F32,64", "BF16,64", "F32,1000", "F32,4096"})
  void rmsNorm(DType weightType, long c) {
    ParityRig r = rig(9);
    Tensor x = r.normal(150, c);
    Tensor w = r.normal(1f, weightType, c);
    Tensor rstd = r.cpu.allocate(DType.F32, 150);
    r.check(
        "rmsnorm",
        F32,
        new Tensor[] {r.normal(150, c), rstd, x, w},
        new int[] {0, 1},
        (b, t) -> b.rmsNormForward(t[0], t[1], t[2], t[3], 1e-5f));
    r.cpu.rmsNormForward(r.cpu.allocate(DType.F32, 150, c), rstd, x, w, 1e-5f);
    r.check(
        "rmsnorm backward",
        3e-5,
        new Tensor[] {r.normal(150, c), r.normal(c), r.normal(150, c), x, w, rstd},
        new int[] {0, 1},
        (b, t) -> b.rmsNormBackward(t[0], t[1], t[2], t[3], t[4], t[5]));
  }

  @ParameterizedTest
  @CsvSource({"F32,true", "BF16,false"})
  void layerNorm(DType weightType, boolean withBias) {
    ParityRig r = rig(10);
    long n = 130, c = 96;
    Tensor x = r.normal(2f, DType.F32, n, c);
    Tensor w = r.normal(1f, weightType, c);
    Tensor bias = withBias ? r.normal(1f, weightType, c) : null;
    Tensor mean = r.cpu.allocate(DType.F32, n);
    Tensor rstd = r.cpu.allocate(DType.F32, n);
    r.check(
        "layernorm",
        F32,
        new Tensor[] {r.normal(n, c), mean, rstd, x, w, bias},
        new int[] {0, 1, 2},
        (b, t) -> b.layerNormForward(t[0], t[1], t[2], t[3], t[4], t[5], 1e-5f));
    r.cpu.layerNormForward(r.cpu.allocate(DType.F32, n, c), mean, rstd, x, w, bias, 1e-5f);
    Tensor dw = withBias ? r.normal(c) : null;
    r.check(
        "layernorm backward",
        3e-5,
        new Tensor[] {r.normal(n, c), dw, r.normal(c), r.normal(n, c), x, w, mean, rstd},
        withBias ? new int[] {0, 1, 2} : new int[] {0, 2},
        (b, t) -> b.layerNormBackward(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]));
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void ropeAndItsInverse(boolean inverse) {
    ParityRig r = rig(11);
    long n = 37, heads = 3, hs = 64;
    float[] freq = new float[(int) hs / 2];
    for (int i = 0; i < freq.length; i++) {
      freq[i] = (float) Math.pow(10000, -2.0 * i / hs);
    }
    r.check(
        "rope",
        F32,
        new Tensor[] {r.normal(n, heads, hs), r.ints(4000, n), r.of(freq, hs / 2)},
        new int[] {0},
        (b, t) -> b.rope(t[0], t[1], t[2], inverse));
  }

  // ---- attention ------------------------------------------------------------------------------

  @ParameterizedTest
  @CsvSource({
    "2, 70, 4, 2, 64, false",
    "2, 70, 4, 2, 64, true",
    "1, 40, 2, 1, 128, true",
    "1, 33, 6, 6, 128, false",
    "3, 17, 4, 1, 32, true",
    "1, 9, 2, 2, 80, false"
  })
  void attentionForwardAndBackward(long b, long t, long nh, long nkv, long hs, boolean packed) {
    ParityRig r = rig(12);
    float scale = (float) (1 / Math.sqrt(hs));
    Tensor q = r.normal(b, t, nh, hs);
    Tensor k = r.normal(b, t, nkv, hs);
    Tensor v = r.normal(b, t, nkv, hs);
    Tensor segments = null;
    if (packed) {
      segments = r.cpu.allocate(DType.I32, b, t);
      for (long i = 0; i < b * t; i++) { // three packed samples per row
        segments.data().setAtIndex(ValueLayout.JAVA_INT, i, (int) ((i % t) * 3 / t));
      }
    }
    Tensor out = r.cpu.allocate(DType.F32, b, t, nh, hs);
    Tensor lse = r.cpu.allocate(DType.F32, b, nh, t);
    Tensor seg = segments;
    r.check(
        "attention",
        F32,
        new Tensor[] {out, lse, q, k, v, seg},
        new int[] {0, 1},
        (be, x) -> be.attentionForward(x[0], x[1], x[2], x[3], x[4], x[5], scale));
    r.cpu.attentionForward(out, lse, q, k, v, seg, scale);
    r.check(
        "attention backward",
        1e-4,
        new Tensor[] {
          r.normal(b, t, nh, hs),
          r.normal(b, t, nkv, hs),
          r.normal(b, t, nkv, hs),
          r.normal(b, t, nh, hs),
          q,
          k,
          v,
          out,
          lse,
          seg
        },
        new int[] {0, 1, 2},
        (be, x) ->
            be.attentionBackward(
                x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], scale));
  }

  @ParameterizedTest
  @CsvSource({"1, 0, 4, 2, 64", "5, 60, 4, 1, 128", "3, 37, 2, 2, 32"})
  void decodeAttention(long n, long start, long nh, long nkv, long hs) {
    ParityRig r = rig(13);
    long s = start + n + 4;
    r.check(
        "decode",
        F32,
        new Tensor[] {
          r.normal(n, nh, hs), r.normal(n, nh, hs), r.normal(s, nkv, hs), r.normal(s, nkv, hs)
        },
        new int[] {0},
        (b, t) -> b.attentionDecode(t[0], t[1], t[2], t[3], start, 0.125f));
  }

  // ---- loss, sums, quantization ---------------------------------------------------------------

  @Test
  void crossEntropyWithIgnoredRows() {
    ParityRig r = rig(14);
    long n = 40, v = 3001;
    Tensor targets = r.ints((int) v, n);
    for (int i = 0; i < n; i += 7) {
      targets.data().setAtIndex(ValueLayout.JAVA_INT, i, -100);
    }
    r.check(
        "cross-entropy",
        F32,
        new Tensor[] {r.normal(n), r.normal(4f, DType.F32, n, v), targets},
        new int[] {0, 1},
        (b, t) -> b.crossEntropyForwardBackward(t[0], t[1], t[2], -100, 0.25f));
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 1000, 8192, 100_003})
  void sumsInAFixedOrder(long n) {
    ParityRig r = rig(15);
    Tensor x = r.normal(n);
    Tensor onGpu = r.up(x);
    double sum = r.cpu.sum(x);
    double squares = r.cpu.sumOfSquares(x);
    assertThat(r.gpu.sum(onGpu))
        .isCloseTo(sum, org.assertj.core.data.Offset.offset(1e-5 * Math.sqrt(squares) + 1e-9));
    assertThat(r.gpu.sumOfSquares(onGpu))
        .isCloseTo(squares, org.assertj.core.data.Offset.offset(1e-5 * squares));
    assertThat(r.gpu.sum(onGpu)).as("the same bits twice").isEqualTo(r.gpu.sum(onGpu));
  }

  @ParameterizedTest
  @ValueSource(strings = {"F32", "BF16", "F16"})
  void nf4DequantizeBitForBit(DType outType) {
    ParityRig r = rig(16);
    long n = 64 * 37 + 10;
    Tensor packed = r.cpu.allocate(DType.U8, (n + 1) / 2);
    Tensor codes = r.ints(256, (n + 1) / 2);
    for (long i = 0; i < packed.elementCount(); i++) {
      packed
          .data()
          .set(ValueLayout.JAVA_BYTE, i, (byte) codes.data().getAtIndex(ValueLayout.JAVA_INT, i));
    }
    Tensor absmax = r.normal((n + 63) / 64);
    r.check(
        "nf4",
        EXACT,
        new Tensor[] {r.cpu.allocate(outType, n), packed, absmax},
        new int[] {0},
        (b, t) -> b.nf4Dequantize(t[0], t[1], t[2]));
    long m = 600;
    Tensor absCodes = r.cpu.allocate(DType.U8, m);
    for (long i = 0; i < m; i++) {
      absCodes.data().set(ValueLayout.JAVA_BYTE, i, (byte) (i * 37));
    }
    r.check(
        "nf4 absmax",
        EXACT,
        new Tensor[] {r.cpu.allocate(DType.F32, m), absCodes, r.normal(3), r.normal(1)},
        new int[] {0},
        (b, t) -> b.nf4AbsmaxDequantize(t[0], t[1], t[2], t[3]));
  }

  @Test
  void reductionsAndBackwardsGiveTheSameBitsEveryRun() {
    ParityRig r = rig(17);
    long b = 2, t = 37, nh = 4, nkv = 2, hs = 64, n = 90, c = 300;
    Tensor q = r.up(r.normal(b, t, nh, hs));
    Tensor k = r.up(r.normal(b, t, nkv, hs));
    Tensor v = r.up(r.normal(b, t, nkv, hs));
    Tensor dout = r.up(r.normal(b, t, nh, hs));
    Tensor x = r.up(r.normal(n, c));
    Tensor g = r.up(r.normal(n, c));
    Tensor w = r.up(r.normal(c));
    Tensor ids = r.up(r.ints(7, n));
    Tensor out = gpu.allocate(DType.F32, b, t, nh, hs);
    Tensor lse = gpu.allocate(DType.F32, b, nh, t);
    Tensor rstd = gpu.allocate(DType.F32, n);
    gpu.attentionForward(out, lse, q, k, v, null, 0.125f);
    gpu.rmsNormForward(gpu.allocate(DType.F32, n, c), rstd, x, w, 1e-5f);
    byte[][] first = null;
    for (int run = 0; run < 2; run++) {
      Tensor dq = gpu.allocate(DType.F32, b, t, nh, hs);
      Tensor dk = gpu.allocate(DType.F32, b, t, nkv, hs);
      Tensor dv = gpu.allocate(DType.F32, b, t, nkv, hs);
      Tensor dx = gpu.allocate(DType.F32, n, c);
      Tensor dw = gpu.allocate(DType.F32, c);
      Tensor db = gpu.allocate(DType.F32, c);
      Tensor dtable = gpu.allocate(DType.F32, 7, c);
      gpu.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, null, 0.125f);
      gpu.rmsNormBackward(dx, dw, g, x, w, rstd);
      gpu.biasBackward(db, g);
      gpu.embeddingBackward(dtable, g, ids);
      byte[][] now = {
        r.bytes(dq),
        r.bytes(dk),
        r.bytes(dv),
        r.bytes(dx),
        r.bytes(dw),
        r.bytes(db),
        r.bytes(dtable)
      };
      if (first == null) {
        first = now;
      } else {
        for (int i = 0; i < now.length; i++) {
          assertThat(now[i]).as("result %d of the second run", i).isEqualTo(first[i]);
        }
      }
    }
    assertThat(gpu.sumOfSquares(x)).isEqualTo(gpu.sumOfSquares(x));
  }

  // ---- whole training steps -------------------------------------------------------------------

  @ParameterizedTest
  @CsvSource({"llama,full", "qwen2,full", "gpt2,full", "llama,lora", "qwen2,qlora", "gpt2,lora"})
  void oneTrainingStepMatchesTheCpu(String arch, String method) throws Exception {
    Path dir = fixture(arch);
    LoraConfig lora = new LoraConfig(4, 8, 0.1, List.of(LoraConfig.ALL_LINEAR), false, 11);
    Decoder.Options options =
        switch (method) {
          case "full" -> Decoder.Options.full();
          case "lora" -> Decoder.Options.lora(lora).withFrozenDType(DType.BF16);
          default -> Decoder.Options.qlora(lora, Nf4Config.qlora());
        };
    float lr = 1e-4f;
    Batch batch;
    try (SafetensorsFile ref = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
      batch =
          Batch.fromHuggingFace(
              ints(ref.tensor("input_ids")),
              ints(ref.tensor("attention_mask")),
              ints(ref.tensor("labels")));
    }
    Map<String, float[]> cpuGrads;
    Map<String, float[]> cpuParams;
    float cpuLoss;
    double cpuNorm;
    try (TrainingSession s =
        TrainingSession.open(cpu, dir.resolve("model"), options, AdamW.Config.torch(0.01f))) {
      s.zeroGrad();
      cpuLoss = s.accumulate(batch, 1f);
      cpuGrads = values(s.decoder().store(), true);
      cpuNorm = s.step(lr, 1.0).gradNorm();
      cpuParams = values(s.decoder().store(), false);
    }
    try (TrainingSession s =
        TrainingSession.open(gpu, dir.resolve("model"), options, AdamW.Config.torch(0.01f))) {
      s.zeroGrad();
      float loss = s.accumulate(batch, 1f);
      assertThat((double) loss)
          .as("loss")
          .isCloseTo(cpuLoss, org.assertj.core.data.Offset.offset(1e-4 * Math.abs(cpuLoss)));
      Map<String, float[]> grads = values(s.decoder().store(), true);
      for (String name : cpuGrads.keySet()) {
        ParityRig.assertClose("grad " + name, cpuGrads.get(name), grads.get(name), 2e-3);
      }
      double norm = s.step(lr, 1.0).gradNorm();
      assertThat(norm)
          .as("grad norm")
          .isCloseTo(cpuNorm, org.assertj.core.data.Offset.offset(1e-3 * cpuNorm));
      Map<String, float[]> params = values(s.decoder().store(), false);
      for (String name : cpuParams.keySet()) {
        float[] e = cpuParams.get(name);
        float[] a = params.get(name);
        for (int i = 0; i < e.length; i++) { // Adam's first step moves each weight by about lr
          if (Math.abs(a[i] - e[i]) > 2.5 * lr + 1e-5 * Math.abs(e[i])) {
            throw new AssertionError(name + "[" + i + "]: gpu " + a[i] + " vs cpu " + e[i]);
          }
        }
      }
    }
  }

  private static Path fixture(String arch) throws URISyntaxException {
    return Path.of(KernelParityCases.class.getResource("/fixtures/hf/" + arch).toURI());
  }

  private static int[][] ints(Tensor t) {
    int rows = (int) t.dim(0);
    int cols = (int) t.dim(1);
    int[] flat = t.data().toArray(ValueLayout.JAVA_INT);
    int[][] out = new int[rows][cols];
    for (int i = 0; i < rows; i++) {
      System.arraycopy(flat, i * cols, out[i], 0, cols);
    }
    return out;
  }

  /** Gradients (or parameters) of the trainable slots, read back to the host. */
  private static Map<String, float[]> values(ParameterStore store, boolean grads) {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (Arena arena = Arena.ofConfined()) {
      for (ParameterStore.Slot s : store.trainableSlots()) {
        Tensor t = grads ? store.grad(s.name()) : store.param(s.name());
        out.put(s.name(), store.toHost(t, arena).data().toArray(ValueLayout.JAVA_FLOAT));
      }
    }
    return out;
  }
}
