// Dtype codes in every kernel argument: 0 = F32, 1 = BF16, 2 = F16 (16-bit values are handled as
// their unsigned short bits, rounded to nearest even by hand, so this file needs no header).
// Lookup tables are float32 bit patterns, checked against the Java tables by CudaKernelCompileTest.

#define DT_F32 0
#define DT_BF16 1
#define DT_F16 2

// ---- conversions ----------------------------------------------------------------------------

__device__ __forceinline__ float bf16_to_f32(unsigned short h) {
  return __uint_as_float(((unsigned int)h) << 16);
}

// Round to nearest even; a NaN stays a quiet NaN (as CpuElements.floatToBf16).
__device__ __forceinline__ unsigned short f32_to_bf16(float f) {
  unsigned int x = __float_as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) {
    return (unsigned short)((x >> 16) | 0x0040u);
  }
  return (unsigned short)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

__device__ __forceinline__ float f16_to_f32(unsigned short h) {
  unsigned int sign = ((unsigned int)h & 0x8000u) << 16;
  unsigned int exp = ((unsigned int)h >> 10) & 0x1fu;
  unsigned int man = (unsigned int)h & 0x3ffu;
  if (exp == 0x1fu) {
    return __uint_as_float(sign | 0x7f800000u | (man << 13));
  }
  if (exp == 0u) {
    float v = (float)man * 5.9604644775390625e-8f; // man * 2^-24, exact
    return sign ? -v : v;
  }
  return __uint_as_float(sign | ((exp + 112u) << 23) | (man << 13));
}

// Round to nearest even, overflow to infinity, subnormals kept (as Float.floatToFloat16).
__device__ __forceinline__ unsigned short f32_to_f16(float f) {
  unsigned int x = __float_as_uint(f);
  unsigned int sign = (x >> 16) & 0x8000u;
  unsigned int ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) { // infinity or NaN (a NaN keeps its top payload bits, stays quiet)
    return (unsigned short)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0u));
  }
  if (ax >= 0x477ff000u) { // >= 65520 rounds to infinity
    return (unsigned short)(sign | 0x7c00u);
  }
  if (ax >= 0x38800000u) { // a normal half: rebias the exponent, round at bit 13
    unsigned int r = ax + 0xfffu + ((ax >> 13) & 1u) - 0x38000000u;
    return (unsigned short)(sign | (r >> 13));
  }
  if (ax < 0x33000000u) { // below 2^-25: rounds to zero (2^-25 itself ties to even zero)
    return (unsigned short)sign;
  }
  unsigned int shift = 126u - (ax >> 23); // 14 .. 24: the half's unit is 2^-24
  unsigned int man = (ax & 0x7fffffu) | 0x800000u;
  unsigned int h = man >> shift;
  unsigned int rest = man & ((1u << shift) - 1u);
  unsigned int halfway = 1u << (shift - 1u);
  if (rest > halfway || (rest == halfway && (h & 1u))) {
    h++;
  }
  return (unsigned short)(sign | h);
}

__device__ __forceinline__ float load_any(const void* p, int dtype, long long i) {
  if (dtype == DT_BF16) {
    return bf16_to_f32(((const unsigned short*)p)[i]);
  }
  if (dtype == DT_F16) {
    return f16_to_f32(((const unsigned short*)p)[i]);
  }
  return ((const float*)p)[i];
}

__device__ __forceinline__ void store_any(void* p, int dtype, long long i, float v) {
  if (dtype == DT_BF16) {
    ((unsigned short*)p)[i] = f32_to_bf16(v);
  } else if (dtype == DT_F16) {
    ((unsigned short*)p)[i] = f32_to_f16(v);
  } else {
    ((float*)p)[i] = v;
  }
}

__device__ __forceinline__ long long global_index() {
  return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}

// ---- memory ---------------------------------------------------------------------------------

// Zeroes n bytes: 4-byte words where the address allows, one thread per word (or byte).
extern "C" __global__ void zero_bytes(unsigned char* p, long long n) {
  long long i = global_index();
  if ((((unsigned long long)p) & 3ull) == 0ull) {
    long long words = n >> 2;
    if (i < words) {
      ((unsigned int*)p)[i] = 0u;
    }
    if (i < (n & 3ll)) {
      p[(words << 2) + i] = 0;
    }
  } else if (i < n) {
    p[i] = 0;
  }
}

// Copies n bytes between buffers that do not overlap (words when both are 4-aligned).
extern "C" __global__ void copy_bytes(unsigned char* dst, const unsigned char* src, long long n) {
  long long i = global_index();
  if (((((unsigned long long)dst) | ((unsigned long long)src)) & 3ull) == 0ull) {
    long long words = n >> 2;
    if (i < words) {
      ((unsigned int*)dst)[i] = ((const unsigned int*)src)[i];
    }
    if (i < (n & 3ll)) {
      dst[(words << 2) + i] = src[(words << 2) + i];
    }
  } else if (i < n) {
    dst[i] = src[i];
  }
}

// dst = src between float dtypes, through F32, rounding once to dst's dtype.
extern "C" __global__ void convert_float(
    void* dst, int dst_type, const void* src, int src_type, long long n) {
  long long i = global_index();
  if (i < n) {
    store_any(dst, dst_type, i, load_any(src, src_type, i));
  }
}

// ---- bias and embedding (the weight may be a frozen BF16/F16 tensor) -------------------------

// out (N, OC) += bias (OC), one thread per element.
extern "C" __global__ void add_bias(
    float* out, const void* bias, int bias_type, long long rows, long long oc) {
  long long i = global_index();
  if (i < rows * oc) {
    out[i] += load_any(bias, bias_type, i % oc);
  }
}

// out (N, C) = table[ids[n]]; an id outside [0, V) gives a zero row (the host cannot be told
// without a sync, and a zero row cannot pass for a real embedding in a loss curve).
extern "C" __global__ void embedding_forward(
    float* out, const int* ids, const void* table, int table_type, long long n, long long c,
    long long v) {
  long long i = global_index();
  if (i < n * c) {
    long long row = i / c;
    long long col = i - row * c;
    int id = ids[row];
    out[i] = (id >= 0 && id < v) ? load_any(table, table_type, (long long)id * c + col) : 0.0f;
  }
}

// dtable (V, C) += dout rows by id, deterministically without atomics: block (x, y) owns columns
// x*blockDim .. and the ids of vocabulary slice y; each thread walks all N rows in order and adds
// only those whose id is in its slice, so every element gets its additions in order of n (the
// CPU's order: the same bits).
extern "C" __global__ void embedding_backward(
    float* dtable, const float* dout, const int* ids, long long n, long long c, long long v) {
  long long col = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  long long slice = (v + gridDim.y - 1) / gridDim.y;
  long long lo = (long long)blockIdx.y * slice;
  long long hi = lo + slice < v ? lo + slice : v;
  if (col >= c) {
    return;
  }
  for (long long r = 0; r < n; r++) {
    long long id = ids[r];
    if (id >= lo && id < hi) {
      dtable[id * c + col] += dout[r * c + col];
    }
  }
}

// ---- NF4 (bitsandbytes layout) ----------------------------------------------------------------

__constant__ unsigned int NF4_BITS[16] = {
    0xbf800000, 0xbf3239b1, 0xbf066b30, 0xbeca32a0, 0xbe91a24d, 0xbe3d353f, 0xbdba7871, 0x00000000,
    0x3da2faff, 0x3e24cae3, 0x3e7c04dd, 0x3ead033a, 0x3ee1a4b8, 0x3f1007ab, 0x3f3913b3, 0x3f800000,
};

__constant__ unsigned int DYNAMIC_BITS[256] = {
    0xbf7e3333, 0xbf7a999a, 0xbf770000, 0xbf736666, 0xbf6fcccd, 0xbf6c3333, 0xbf68999a, 0xbf650000,
    0xbf616666, 0xbf5dcccd, 0xbf5a3333, 0xbf56999a, 0xbf530000, 0xbf4f6666, 0xbf4bcccd, 0xbf483333,
    0xbf44999a, 0xbf410000, 0xbf3d6666, 0xbf39cccd, 0xbf363334, 0xbf32999a, 0xbf2f0000, 0xbf2b6666,
    0xbf27cccd, 0xbf243334, 0xbf20999a, 0xbf1d0000, 0xbf196666, 0xbf15cccd, 0xbf123334, 0xbf0e999a,
    0xbf0b0000, 0xbf076666, 0xbf03cccc, 0xbf003333, 0xbef93332, 0xbef20000, 0xbeeacccc, 0xbee3999a,
    0xbedc6666, 0xbed53333, 0xbece0000, 0xbec6cccc, 0xbebf999a, 0xbeb86666, 0xbeb13333, 0xbeaa0000,
    0xbea2cccc, 0xbe9b999a, 0xbe946666, 0xbe8d3334, 0xbe860000, 0xbe7d9999, 0xbe6f3333, 0xbe60cccd,
    0xbe526666, 0xbe440000, 0xbe35999a, 0xbe273333, 0xbe18cccd, 0xbe0a6666, 0xbdf80000, 0xbddb3334,
    0xbdc9eb85, 0xbdc428f7, 0xbdbe6667, 0xbdb8a3d7, 0xbdb2e148, 0xbdad1eb8, 0xbda75c2a, 0xbda1999a,
    0xbd9bd70a, 0xbd96147b, 0xbd9051eb, 0xbd8a8f5d, 0xbd84cccd, 0xbd7e147b, 0xbd728f5d, 0xbd670a3d,
    0xbd5b851f, 0xbd500000, 0xbd447ae1, 0xbd38f5c3, 0xbd2d70a3, 0xbd21eb85, 0xbd166667, 0xbd0ae148,
    0xbcfeb852, 0xbce7ae15, 0xbcd0a3d7, 0xbcb9999a, 0xbca28f5d, 0xbc8b851f, 0xbc68f5c3, 0xbc3ae148,
    0xbc1f3b64, 0xbc160418, 0xbc0ccccd, 0xbc039581, 0xbbf4bc6a, 0xbbe24dd3, 0xbbcfdf3b, 0xbbbd70a4,
    0xbbab020d, 0xbb989374, 0xbb8624dd, 0xbb676c8a, 0xbb428f5c, 0xbb1db22d, 0xbaf1a9fc, 0xbaa7ef9d,
    0xba7765ff, 0xba59e83e, 0xba3c6a80, 0xba1eecc1, 0xba016f01, 0xb9c7e283, 0xb98ce705, 0xb923d70b,
    0xb8ba1f4b, 0xb88aefb3, 0xb8378034, 0xb7b24206, 0xb70205ff, 0xb65a1a94, 0xb513a3b7, 0x00000000,
    0x3513a3b7, 0x365a1a94, 0x370205ff, 0x37b24206, 0x38378034, 0x388aefb3, 0x38ba1f4b, 0x3923d70b,
    0x398ce705, 0x39c7e283, 0x3a016f01, 0x3a1eecc1, 0x3a3c6a80, 0x3a59e83e, 0x3a7765ff, 0x3aa7ef9d,
    0x3af1a9fc, 0x3b1db22d, 0x3b428f5c, 0x3b676c8a, 0x3b8624dd, 0x3b989374, 0x3bab020d, 0x3bbd70a4,
    0x3bcfdf3b, 0x3be24dd3, 0x3bf4bc6a, 0x3c039581, 0x3c0ccccd, 0x3c160418, 0x3c1f3b64, 0x3c3ae148,
    0x3c68f5c3, 0x3c8b851f, 0x3ca28f5d, 0x3cb9999a, 0x3cd0a3d7, 0x3ce7ae15, 0x3cfeb852, 0x3d0ae148,
    0x3d166667, 0x3d21eb85, 0x3d2d70a3, 0x3d38f5c3, 0x3d447ae1, 0x3d500000, 0x3d5b851f, 0x3d670a3d,
    0x3d728f5d, 0x3d7e147b, 0x3d84cccd, 0x3d8a8f5d, 0x3d9051eb, 0x3d96147b, 0x3d9bd70a, 0x3da1999a,
    0x3da75c2a, 0x3dad1eb8, 0x3db2e148, 0x3db8a3d7, 0x3dbe6667, 0x3dc428f7, 0x3dc9eb85, 0x3ddb3334,
    0x3df80000, 0x3e0a6666, 0x3e18cccd, 0x3e273333, 0x3e35999a, 0x3e440000, 0x3e526666, 0x3e60cccd,
    0x3e6f3333, 0x3e7d9999, 0x3e860000, 0x3e8d3334, 0x3e946666, 0x3e9b999a, 0x3ea2cccc, 0x3eaa0000,
    0x3eb13333, 0x3eb86666, 0x3ebf999a, 0x3ec6cccc, 0x3ece0000, 0x3ed53333, 0x3edc6666, 0x3ee3999a,
    0x3eeacccc, 0x3ef20000, 0x3ef93332, 0x3f003333, 0x3f03cccc, 0x3f076666, 0x3f0b0000, 0x3f0e999a,
    0x3f123334, 0x3f15cccd, 0x3f196666, 0x3f1d0000, 0x3f20999a, 0x3f243334, 0x3f27cccd, 0x3f2b6666,
    0x3f2f0000, 0x3f32999a, 0x3f363334, 0x3f39cccd, 0x3f3d6666, 0x3f410000, 0x3f44999a, 0x3f483333,
    0x3f4bcccd, 0x3f4f6666, 0x3f530000, 0x3f56999a, 0x3f5a3333, 0x3f5dcccd, 0x3f616666, 0x3f650000,
    0x3f68999a, 0x3f6c3333, 0x3f6fcccd, 0x3f736666, 0x3f770000, 0x3f7a999a, 0x3f7e3333, 0x3f800000,
};

// out[i] = nf4[code i] * absmax[i / 64] in F32, rounded once to out's dtype; the first value of a
// byte is its high nibble. out (N); packed (ceil(N/2)) U8; absmax (ceil(N/64)) F32.
extern "C" __global__ void nf4_dequantize(
    void* out, int out_type, const unsigned char* packed, const float* absmax, long long n) {
  long long i = global_index();
  if (i < n) {
    unsigned int b = packed[i >> 1];
    unsigned int code = (i & 1ll) ? (b & 0xfu) : (b >> 4);
    store_any(out, out_type, i, __fmul_rn(__uint_as_float(NF4_BITS[code]), absmax[i >> 6]));
  }
}

// out[i] = dynamic8[codes[i]] * scales[i / 256] + offset[0], unfused as in Java.
extern "C" __global__ void nf4_absmax_dequantize(
    float* out, const unsigned char* codes, const float* scales, const float* offset,
    long long m) {
  long long i = global_index();
  if (i < m) {
    out[i] = __fadd_rn(__fmul_rn(__uint_as_float(DYNAMIC_BITS[codes[i]]), scales[i >> 8]), offset[0]);
  }
}
