#!/usr/bin/env python3
"""Reference fixtures for NF4 with double quantization in the bitsandbytes layout.

bitsandbytes itself cannot run here (no CUDA, not installable offline), so this script is a
transcription of its reference algorithm, written from bitsandbytes' source (csrc/kernels.cu and
csrc/cuda/blockwise_quantization.cu: kQuantizeBlockwise, dQuantizeNF4, dQuantize<0>,
kDequantizeBlockwise; bitsandbytes/functional.py: get_4bit_type('nf4'), create_dynamic_map(signed=True),
quantize_4bit(compress_statistics=True), quantize_blockwise(blocksize=256), dequantize_4bit). The
facts it follows:

- NF4 codebook: the 16 float32 values of get_4bit_type('nf4') (normalized by their max, 1.0).
- 4-bit blocks of 64: absmax = max |x| over the block's valid items (float32), x is scaled by the
  float32 reciprocal 1/absmax (x * (1/absmax), as the CUDA kernel does) and mapped to a code by the
  dQuantizeNF4 decision tree (strict '>' against the tree's thresholds, which are C float literals:
  each decimal rounded once to float32; NaN, from an all-zero block, falls through to code 0).
- Packing: two codes per byte, the first element in the high nibble; an odd tail is padded with 0.0,
  whose code is 7.
- Double quantization: offset = absmax.mean() (torch float32 mean), then the absmax values minus
  the offset are quantized blockwise in blocks of 256 with the signed dynamic 8-bit map
  (create_dynamic_map(signed=True), built here with torch exactly as bitsandbytes builds it) by the
  CUDA binary search dQuantize<0> (midpoint rounding), each 256-block with its own float32 absmax.
- Dequantization: absmax' = map[code] * absmax2[block] + offset (float32 multiply, then add), then
  value = nf4[code] * absmax' (float32), rounded to bfloat16 (nearest even) for a bf16 compute dtype.

How to run (repository root): /work/venv/bin/python scripts/reference/make_nf4_fixtures.py
Deterministic: re-running writes identical bytes. Output: OUT/nf4.safetensors (OUT defaults to
entity-engine/src/test/resources/fixtures/nf4) with, for each case <c>:
  <c>.input (n) F32          the values quantized (bf16-representable for the case "bf16")
  <c>.packed (ceil(n/2)) U8  NF4 codes, two per byte, high nibble first
  <c>.absmax (blocks) F32    the plain per-64 absmax (no double quantization)
  <c>.absmax_codes (blocks) U8, <c>.absmax_scales (ceil(blocks/256)) F32, <c>.offset (1) F32
                             the double-quantized absmax
  <c>.dequant_f32 (n) F32     dequantized with double quantization
  <c>.dequant_bf16_bits (2n) U8  the same rounded to bfloat16, little-endian 16-bit patterns
  <c>.dequant_plain_f32 (n) F32   dequantized from the plain absmax
plus dynamic_map (256) F32 and nf4_code (16) F32.
"""

import argparse
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file

F = np.float32

NF4 = np.array(
    [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ],
    dtype=F,
)


def create_dynamic_map_signed():
    """bitsandbytes.functional.create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)."""
    data = []
    max_exponent_bits, non_sign_bits = 7, 7
    for i in range(max_exponent_bits):
        fraction_items = int(2 ** (i + non_sign_bits - max_exponent_bits) + 1)
        boundaries = torch.linspace(0.1, 1, fraction_items)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    assert len(data) == 256
    data.sort()
    return torch.Tensor(data).numpy()


def f32_literal(text):
    """A C float literal: the decimal rounded ONCE to the nearest float32 (not via a double)."""
    exact = Fraction(text)
    c = F(float(text))
    candidates = [np.nextafter(c, F(-2)), c, np.nextafter(c, F(2))]
    return min(candidates, key=lambda v: abs(Fraction(float(v)) - exact))


def nf4_index(x):
    """dQuantizeNF4: the decision tree, comparisons in float32 against the C literals."""
    t = lambda v: f32_literal(repr(v))  # noqa: E731
    if x > t(0.03979014977812767):
        if x > t(0.3893125355243683):
            if x > t(0.6427869200706482):
                return 15 if x > t(0.8614784181118011) else 14
            return 13 if x > t(0.5016634166240692) else 12
        if x > t(0.2035212516784668):
            return 11 if x > t(0.2920137718319893) else 10
        return 9 if x > t(0.1202552504837513) else 8
    if x > t(-0.33967943489551544):
        if x > t(-0.13791173323988914):
            return 7 if x > t(-0.045525018125772476) else 6
        return 5 if x > t(-0.23460740596055984) else 4
    if x > t(-0.6106329262256622):
        return 3 if x > t(-0.4599952697753906) else 2
    return 1 if x > t(-0.8480964004993439) else 0


def dquantize(code, x):
    """dQuantize<0>: binary search over the 256-entry map, then the nearer neighbour by midpoint."""
    pivot, upper_pivot, lower_pivot = 127, 255, 0
    lower, upper = F(-1.0), F(1.0)
    val = code[pivot]
    i = 64
    while i > 0:
        if x > val:
            lower_pivot, lower = pivot, val
            pivot += i
        else:
            upper_pivot, upper = pivot, val
            pivot -= i
        val = code[pivot]
        i >>= 1
    if upper_pivot == 255:
        upper = code[upper_pivot]
    if lower_pivot == 0:
        lower = code[lower_pivot]
    if x > val:
        midpoint = F((upper + val) * F(0.5))
        return upper_pivot if x > midpoint else pivot
    midpoint = F((lower + val) * F(0.5))
    return lower_pivot if x < midpoint else pivot


def blockwise_absmax(x, block):
    n = x.size
    out = np.zeros((n + block - 1) // block, dtype=F)
    for b in range(out.size):
        out[b] = np.max(np.abs(x[b * block : (b + 1) * block]))
    return out


def reciprocal_scaled(x, absmax, block):
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = (F(1.0) / absmax).astype(F)
        return (x * np.repeat(inv, block)[: x.size]).astype(F)


def quantize_nf4(x):
    absmax = blockwise_absmax(x, 64)
    scaled = reciprocal_scaled(x, absmax, 64)
    idx = np.array([nf4_index(v) for v in scaled], dtype=np.uint8)
    if idx.size % 2:
        idx = np.append(idx, np.uint8(nf4_index(F(0.0))))
    packed = (idx[0::2] << 4) | idx[1::2]
    return packed.astype(np.uint8), absmax


def quantize_absmax(absmax, code):
    offset = torch.from_numpy(absmax.copy()).mean().numpy().astype(F).reshape(1)
    centred = (absmax - offset[0]).astype(F)
    scales = blockwise_absmax(centred, 256)
    scaled = reciprocal_scaled(centred, scales, 256)
    codes = np.array([dquantize(code, v) for v in scaled], dtype=np.uint8)
    return codes, scales, offset


def dequantize(packed, absmax, n):
    idx = np.empty(packed.size * 2, dtype=np.uint8)
    idx[0::2] = packed >> 4
    idx[1::2] = packed & 0xF
    idx = idx[:n]
    return (NF4[idx] * np.repeat(absmax, 64)[:n]).astype(F)


def to_bf16(x):
    bits = x.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def cases(rng):
    out = {}
    out["normal"] = (rng.standard_normal(64 * 6 + 37) * 0.02).astype(F)  # odd n, partial block
    # More than 256 blocks: two double-quantization blocks, the second partial.
    out["wide"] = (rng.standard_normal(64 * 300 + 10) * np.repeat(rng.uniform(0.01, 0.2, 301), 64)[: 64 * 300 + 10]).astype(F)
    bf = (rng.standard_normal(64 * 8) * 0.05).astype(F)
    out["bf16"] = (to_bf16(bf).astype(np.uint32) << 16).view(F)  # values a BF16 file holds
    edge = np.zeros(64 * 5, dtype=F)
    # block 0: all zero; block 1: every NF4 value and threshold times absmax 1; block 2: ties and
    # signs at absmax 3; block 3: tiny magnitudes; block 4: one huge outlier.
    thresholds = [0.03979014977812767, 0.3893125355243683, 0.6427869200706482, 0.8614784181118011,
                  0.5016634166240692, 0.2035212516784668, 0.2920137718319893, 0.1202552504837513,
                  -0.33967943489551544, -0.13791173323988914, -0.045525018125772476,
                  -0.23460740596055984, -0.6106329262256622, -0.4599952697753906,
                  -0.8480964004993439]
    b1 = list(NF4) + [f32_literal(repr(t)) for t in thresholds]
    b1 += [np.nextafter(f32_literal(repr(t)), F(2)) for t in thresholds]
    b1 += [np.nextafter(f32_literal(repr(t)), F(-2)) for t in thresholds]
    b1 = (b1 + [F(0.5)] * 64)[:64]
    b1[0] = F(-1.0)
    edge[64:128] = b1
    edge[128:192] = (np.round(rng.uniform(-3, 3, 64) * 4) / 4).astype(F)
    edge[128] = F(3.0)
    edge[192:256] = (rng.standard_normal(64) * 1e-30).astype(F)
    edge[256:320] = (rng.standard_normal(64) * 0.01).astype(F)
    edge[300] = F(-50.0)
    out["edge"] = edge
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="entity-engine/src/test/resources/fixtures/nf4")
    args = parser.parse_args()
    rng = np.random.default_rng(20261125)
    code = create_dynamic_map_signed()
    tensors = {"dynamic_map": code, "nf4_code": NF4}
    for name, x in cases(rng).items():
        packed, absmax = quantize_nf4(x)
        codes, scales, offset = quantize_absmax(absmax, code)
        absmax_dq = (code[codes] * np.repeat(scales, 256)[: codes.size]).astype(F)
        absmax_dq = (absmax_dq + offset[0]).astype(F)
        deq = dequantize(packed, absmax_dq, x.size)
        tensors[name + ".input"] = x
        tensors[name + ".packed"] = packed
        tensors[name + ".absmax"] = absmax
        tensors[name + ".absmax_codes"] = codes
        tensors[name + ".absmax_scales"] = scales
        tensors[name + ".offset"] = offset
        tensors[name + ".dequant_f32"] = deq
        tensors[name + ".dequant_bf16_bits"] = to_bf16(deq).view(np.uint8)
        tensors[name + ".dequant_plain_f32"] = dequantize(packed, absmax, x.size)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "nf4.safetensors"), metadata={"torch": torch.__version__})
    print("wrote", out / "nf4.safetensors", len(tensors), "tensors")


if __name__ == "__main__":
    main()
