package dev.entity.engine.quant;

import dev.entity.engine.EngineException;
import dev.entity.engine.tensor.DType;

/**
 * How QLoRA keeps frozen linear weights: NF4 with or without double quantization of the absmax
 * values, dequantized to {@code computeDType} (F32, BF16 or F16) right before each matmul — the
 * engine's form of bitsandbytes' {@code bnb_4bit_compute_dtype} and {@code
 * bnb_4bit_use_double_quant}.
 */
public record Nf4Config(DType computeDType, boolean doubleQuant) {

  public Nf4Config {
    if (!computeDType.isFloat()) {
      throw new EngineException(
          "bnb_4bit_compute_dtype must be float32, bfloat16 or float16, not " + computeDType);
    }
  }

  /** bitsandbytes' QLoRA settings: BF16 compute, double quantization. */
  public static Nf4Config qlora() {
    return new Nf4Config(DType.BF16, true);
  }

  /**
   * From the training config's spellings: {@code bnb_4bit_compute_dtype} float32 | bfloat16 |
   * float16 and {@code bnb_4bit_use_double_quant}.
   */
  public static Nf4Config of(String computeDtype, boolean doubleQuant) {
    DType dtype =
        switch (computeDtype) {
          case "float32" -> DType.F32;
          case "bfloat16" -> DType.BF16;
          case "float16" -> DType.F16;
          default ->
              throw new EngineException(
                  "bnb_4bit_compute_dtype: '"
                      + computeDtype
                      + "' is not one of float32, bfloat16, float16");
        };
    return new Nf4Config(dtype, doubleQuant);
  }
}
