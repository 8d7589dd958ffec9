#!/usr/bin/env python3
"""Reference fixtures for the Java GGUF code (dev.entity.engine.quant, dev.entity.engine.format.gguf).

1. Quantization: a fixed set of F32 blocks (random blocks at several scales plus edge cases: an
   all-zero block, one large value among small ones, negative extremes, ties of magnitude, exact
   .5 rounding points, a constant block, values past the F16 range) quantized with the `gguf`
   package's numpy reference quantizers, which are bit-exact with ggml's quantize_row_*_ref.
2. A small GGUF file written by gguf.GGUFWriter with metadata of every value type and one tensor
   of each type the engine supports, for reader interop and a byte-for-byte writer comparison.

Run:  /work/venv/bin/python scripts/reference/make_gguf_fixtures.py
Out:  entity-engine/src/test/resources/fixtures/gguf/{quant_input.f32, quant_<type>.bin,
      half_input.f32, half_<type>.bin, python_writer.gguf}
All binary files are little-endian and headerless.
"""
import os

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFValueType as V, GGUFWriter, quants

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "entity-engine", "src", "test",
                   "resources", "fixtures", "gguf")


def quant_input() -> np.ndarray:
    rng = np.random.default_rng(20261125)
    blocks = []
    for scale in (1e-3, 0.02, 1.0, 30.0, 1e4):
        blocks.extend(rng.standard_normal((4, 32)) * scale)
    blocks.extend(rng.uniform(-1, 1, (4, 32)))
    blocks.append(np.zeros(32))                                   # all zero
    b = rng.standard_normal(32) * 0.01; b[7] = 50.0; blocks.append(b)      # one large value
    b = rng.standard_normal(32) * 0.01; b[19] = -50.0; blocks.append(b)    # one large negative
    blocks.append(np.full(32, -3.4e38))                                    # negative extreme
    b = rng.standard_normal(32); b[3] = 2.0; b[9] = -2.0; blocks.append(b)  # tie of magnitude
    b = np.arange(-16, 16) + 0.5; b[0] = -127.0; blocks.append(b)          # .5 points for Q8_0
    blocks.append(np.full(32, 0.75))                                       # constant block
    b = rng.standard_normal(32) * 1e5; blocks.append(b)                    # d past F16 range
    blocks.append(np.linspace(-8, 7, 32))                                  # Q4_0/Q5_1 grid points
    return np.asarray(blocks, dtype=np.float32).reshape(-1)


def half_input() -> np.ndarray:
    rng = np.random.default_rng(7)
    special = [0.0, -0.0, 1.0, -1.0, 65504.0, 65520.0, 1e-8, 6e-8, -2.9e-8, 3.0e38, -3.4e38,
               np.inf, -np.inf, np.nan, 1.00390625, 1.01171875, 1 + 2**-11, 1 + 3 * 2**-11]
    vals = np.concatenate([np.array(special, dtype=np.float32),
                           rng.standard_normal(110).astype(np.float32) * 3])
    return vals.astype(np.float32)


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    x = quant_input()
    x.tofile(os.path.join(OUT, "quant_input.f32"))
    for name, qt in (("q8_0", T.Q8_0), ("q4_0", T.Q4_0), ("q5_1", T.Q5_1)):
        with np.errstate(all="ignore"):
            q = quants.quantize(x.reshape(-1, 32), qt)
        q.tofile(os.path.join(OUT, f"quant_{name}.bin"))
        with np.errstate(all="ignore"):
            quants.dequantize(q, qt).astype(np.float32).tofile(os.path.join(OUT, f"dequant_{name}.f32"))
    h = half_input()
    h.tofile(os.path.join(OUT, "half_input.f32"))
    with np.errstate(all="ignore"):
        h.astype(np.float16).tofile(os.path.join(OUT, "half_f16.bin"))
        quants.quantize(h, T.BF16).tofile(os.path.join(OUT, "half_bf16.bin"))

    w = GGUFWriter(os.path.join(OUT, "python_writer.gguf"), "llama")
    w.add_key_value("test.u8", 200, V.UINT8)
    w.add_key_value("test.i8", -100, V.INT8)
    w.add_key_value("test.u16", 60000, V.UINT16)
    w.add_key_value("test.i16", -30000, V.INT16)
    w.add_key_value("test.u32", 4000000000, V.UINT32)
    w.add_key_value("test.i32", -2000000000, V.INT32)
    w.add_key_value("test.u64", 2**63 + 5, V.UINT64)
    w.add_key_value("test.i64", -(2**62), V.INT64)
    w.add_key_value("test.f32", 0.1, V.FLOAT32)
    w.add_key_value("test.f64", 0.1, V.FLOAT64)
    w.add_key_value("test.bool", True, V.BOOL)
    w.add_key_value("test.string", "héllo ▁wörld", V.STRING)
    w.add_key_value("test.strings", ["a", "", "b c"], V.ARRAY, sub_type=V.STRING)
    w.add_key_value("test.i32s", [1, -2, 3], V.ARRAY, sub_type=V.INT32)
    w.add_key_value("test.f32s", [0.5, -1.25], V.ARRAY, sub_type=V.FLOAT32)
    rng = np.random.default_rng(3)
    m = rng.standard_normal((3, 64)).astype(np.float32)
    w.add_tensor("t.f32", m)
    w.add_tensor("t.f16", m.astype(np.float16))
    w.add_tensor("t.bf16", quants.quantize(m, T.BF16), raw_dtype=T.BF16)
    for name, qt in (("q8_0", T.Q8_0), ("q4_0", T.Q4_0), ("q5_1", T.Q5_1)):
        w.add_tensor("t." + name, quants.quantize(m, qt), raw_dtype=qt)
    w.add_tensor("t.vector", rng.standard_normal(5).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    m.tofile(os.path.join(OUT, "python_writer_matrix.f32"))


if __name__ == "__main__":
    main()
