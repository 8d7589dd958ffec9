// Dimensions: B batch, T time, NH query heads, NKV key/value heads, HS head size (<= HS_MAX);
// q, out (B, T, NH, HS); k, v (B, T, NKV, HS); lse, delta (B, NH, T); segments (B, T) or null.
// Query head h reads key/value head h / (NH / NKV); query t sees key s iff s <= t and both carry
// the same segment id. Flash-style: keys come in tiles of BK, one lane per key; a row keeps a
// running max and sum (its scores are never stored), and a lane owns dimensions lane + 32 k of the
// row's output. Backward is two kernels with one writer per output element (dq per query row,
// dk and dv per key), each walking its loop in a fixed order: no atomics, bit-reproducible.

#define BK 32
#define HS_MAX 128
#define DPL (HS_MAX / 32)  // output dimensions per lane
#define KSTRIDE (HS_MAX + 1)  // padded shared rows: lane j reading row j hits bank j + d
#define FULL_MASK 0xffffffffu
#define NEG_INF (-__int_as_float(0x7f800000))

__device__ __forceinline__ float warp_sum(float v) {
  for (int m = 16; m > 0; m >>= 1) {
    v += __shfl_xor_sync(FULL_MASK, v, m); // butterfly: every lane ends with the same bits
  }
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int m = 16; m > 0; m >>= 1) {
    v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, m));
  }
  return v;
}

__device__ __forceinline__ long long row_offset(int b, int t, int T, int heads, int h, int hs) {
  return (((long long)b * T + t) * heads + h) * hs;
}

// Loads keys s0 .. s0 + BK - 1 of head kh into Ks (padded) and, when Vs is not null, values into
// Vs with row stride vstride; rows past T are zero.
__device__ void load_kv_tile(
    float* Ks, float* Vs, int vstride, const float* k, const float* v, int b, int s0, int T,
    int NKV, int kh, int HS) {
  for (int idx = threadIdx.x; idx < BK * HS; idx += blockDim.x) {
    int j = idx / HS;
    int d = idx - j * HS;
    int s = s0 + j;
    bool in = s < T;
    long long o = row_offset(b, in ? s : 0, T, NKV, kh, HS) + d;
    Ks[j * KSTRIDE + d] = in ? k[o] : 0.0f;
    if (Vs != 0) {
      Vs[j * vstride + d] = in ? v[o] : 0.0f;
    }
  }
}

// Stages `rows` query rows t0 .. of head h from src (B, T, heads, HS) into dst (rows, HS_MAX);
// rows past T are zero.
__device__ void load_rows(
    float* dst, const float* src, int rows, int b, int t0, int T, int heads, int h, int HS) {
  for (int idx = threadIdx.x; idx < rows * HS; idx += blockDim.x) {
    int r = idx / HS;
    int d = idx - r * HS;
    int t = t0 + r;
    dst[r * HS_MAX + d] = t < T ? src[row_offset(b, t, T, heads, h, HS) + d] : 0.0f;
  }
}

// acc[kk] (dimension lane + 32 kk) += sum over j < count of w_j rows[j * stride + d], where w_j is
// lane j's w: the weighted sum of a tile's rows, in order of j.
__device__ __forceinline__ void add_weighted_rows(
    float* acc, float w, const float* rows, long long stride, int count, int lane, int HS) {
  for (int j = 0; j < count; j++) {
    float wj = __shfl_sync(FULL_MASK, w, j);
    #pragma unroll
    for (int kk = 0; kk < DPL; kk++) {
      int d = lane + 32 * kk;
      if (d < HS) {
        acc[kk] += wj * rows[j * stride + d];
      }
    }
  }
}

// dst[d] = acc * factor, or dst[d] += acc when accumulate, for this lane's dimensions.
__device__ __forceinline__ void store_row(
    float* dst, const float* acc, float factor, int accumulate, int lane, int HS) {
  #pragma unroll
  for (int kk = 0; kk < DPL; kk++) {
    int d = lane + 32 * kk;
    if (d < HS) {
      if (accumulate) {
        dst[d] += acc[kk];
      } else {
        dst[d] = acc[kk] * factor;
      }
    }
  }
}

// ---- forward ------------------------------------------------------------------------------------

#define FWD_WARPS 4
#define FWD_RPW 4  // query rows per warp
#define FWD_ROWS (FWD_WARPS * FWD_RPW)

// grid (ceil(T / FWD_ROWS), NH, B), block FWD_WARPS * 32.
extern "C" __global__ void attention_forward(
    float* out, float* lse, const float* q, const float* k, const float* v, const int* seg,
    int T, int NH, int NKV, int HS, float scale) {
  __shared__ float Ks[BK * KSTRIDE];
  __shared__ float Vs[BK * HS_MAX];
  __shared__ float Qs[FWD_ROWS * HS_MAX];
  int b = blockIdx.z;
  int h = blockIdx.y;
  int kh = h / (NH / NKV);
  int t0 = blockIdx.x * FWD_ROWS;
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  load_rows(Qs, q, FWD_ROWS, b, t0, T, NH, h, HS);
  float m[FWD_RPW];
  float l[FWD_RPW];
  float o[FWD_RPW][DPL];
  #pragma unroll
  for (int i = 0; i < FWD_RPW; i++) {
    m[i] = NEG_INF;
    l[i] = 0.0f;
    #pragma unroll
    for (int kk = 0; kk < DPL; kk++) {
      o[i][kk] = 0.0f;
    }
  }
  int tEnd = t0 + FWD_ROWS < T ? t0 + FWD_ROWS : T;
  for (int s0 = 0; s0 < tEnd; s0 += BK) {
    __syncthreads(); // the previous tile is consumed (and Qs is loaded)
    load_kv_tile(Ks, Vs, HS_MAX, k, v, b, s0, T, NKV, kh, HS);
    __syncthreads();
    int s = s0 + lane;
    int segKey = (seg != 0 && s < T) ? seg[(long long)b * T + s] : 0;
    #pragma unroll
    for (int i = 0; i < FWD_RPW; i++) {
      int r = warp * FWD_RPW + i;
      int t = t0 + r;
      if (t >= T || s0 > t) {
        continue; // uniform across the warp
      }
      bool vis = s <= t && (seg == 0 || segKey == seg[(long long)b * T + t]);
      float sc = NEG_INF;
      if (vis) {
        float acc = 0.0f;
        for (int d = 0; d < HS; d++) {
          acc += Qs[r * HS_MAX + d] * Ks[lane * KSTRIDE + d];
        }
        sc = scale * acc;
      }
      float mNew = fmaxf(m[i], warp_max(sc));
      if (mNew == NEG_INF) {
        continue; // nothing visible yet (other segments only)
      }
      float corr = expf(m[i] - mNew);
      float p = vis ? expf(sc - mNew) : 0.0f;
      l[i] = l[i] * corr + warp_sum(p);
      m[i] = mNew;
      #pragma unroll
      for (int kk = 0; kk < DPL; kk++) {
        o[i][kk] *= corr;
      }
      add_weighted_rows(o[i], p, Vs, HS_MAX, BK, lane, HS);
    }
  }
  #pragma unroll
  for (int i = 0; i < FWD_RPW; i++) {
    int t = t0 + warp * FWD_RPW + i;
    if (t >= T) {
      continue;
    }
    store_row(out + row_offset(b, t, T, NH, h, HS), o[i], 1.0f / l[i], 0, lane, HS);
    if (lane == 0) {
      lse[((long long)b * NH + h) * T + t] = m[i] + logf(l[i]);
    }
  }
}

// ---- backward -----------------------------------------------------------------------------------

// delta (B, NH, T) = dot(dout row, out row); one warp per row, grid ceil(B*T*NH / 4), block 128.
extern "C" __global__ void attention_backward_delta(
    float* delta, const float* dout, const float* out, int B, int T, int NH, int HS) {
  long long row = (long long)blockIdx.x * 4 + (threadIdx.x >> 5);
  int lane = threadIdx.x & 31;
  if (row >= (long long)B * T * NH) {
    return; // whole warp
  }
  float acc = 0.0f;
  for (int d = lane; d < HS; d += 32) {
    acc += dout[row * HS + d] * out[row * HS + d];
  }
  acc = warp_sum(acc);
  if (lane == 0) {
    long long h = row % NH;
    long long bt = row / NH;
    long long b = bt / T;
    long long t = bt - b * T;
    delta[(b * NH + h) * T + t] = acc;
  }
}

#define DQ_WARPS 4
#define DQ_RPW 2
#define DQ_ROWS (DQ_WARPS * DQ_RPW)

// dq += scale sum_s p (dout.v_s - delta) k_s. grid (ceil(T / DQ_ROWS), NH, B), block DQ_WARPS*32.
extern "C" __global__ void attention_backward_dq(
    float* dq, const float* dout, const float* q, const float* k, const float* v,
    const float* lse, const float* delta, const int* seg, int T, int NH, int NKV, int HS,
    float scale) {
  __shared__ float Ks[BK * KSTRIDE];
  __shared__ float Vs[BK * KSTRIDE];
  __shared__ float Qs[DQ_ROWS * HS_MAX];
  __shared__ float Gs[DQ_ROWS * HS_MAX];
  int b = blockIdx.z;
  int h = blockIdx.y;
  int kh = h / (NH / NKV);
  int t0 = blockIdx.x * DQ_ROWS;
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  load_rows(Qs, q, DQ_ROWS, b, t0, T, NH, h, HS);
  load_rows(Gs, dout, DQ_ROWS, b, t0, T, NH, h, HS);
  float acc[DQ_RPW][DPL];
  float rowLse[DQ_RPW];
  float rowDelta[DQ_RPW];
  #pragma unroll
  for (int i = 0; i < DQ_RPW; i++) {
    int t = t0 + warp * DQ_RPW + i;
    long long li = ((long long)b * NH + h) * T + (t < T ? t : 0);
    rowLse[i] = lse[li];
    rowDelta[i] = delta[li];
    #pragma unroll
    for (int kk = 0; kk < DPL; kk++) {
      acc[i][kk] = 0.0f;
    }
  }
  int tEnd = t0 + DQ_ROWS < T ? t0 + DQ_ROWS : T;
  for (int s0 = 0; s0 < tEnd; s0 += BK) {
    __syncthreads();
    load_kv_tile(Ks, Vs, KSTRIDE, k, v, b, s0, T, NKV, kh, HS);
    __syncthreads();
    int s = s0 + lane;
    int segKey = (seg != 0 && s < T) ? seg[(long long)b * T + s] : 0;
    #pragma unroll
    for (int i = 0; i < DQ_RPW; i++) {
      int r = warp * DQ_RPW + i;
      int t = t0 + r;
      if (t >= T || s0 > t) {
        continue;
      }
      bool vis = s <= t && (seg == 0 || segKey == seg[(long long)b * T + t]);
      float ds = 0.0f;
      if (vis) {
        float qk = 0.0f;
        float gv = 0.0f;
        for (int d = 0; d < HS; d++) {
          qk += Qs[r * HS_MAX + d] * Ks[lane * KSTRIDE + d];
          gv += Gs[r * HS_MAX + d] * Vs[lane * KSTRIDE + d];
        }
        float p = expf(scale * qk - rowLse[i]);
        ds = p * (gv - rowDelta[i]) * scale;
      }
      add_weighted_rows(acc[i], ds, Ks, KSTRIDE, BK, lane, HS);
    }
  }
  #pragma unroll
  for (int i = 0; i < DQ_RPW; i++) {
    int t = t0 + warp * DQ_RPW + i;
    if (t >= T) {
      continue;
    }
    store_row(dq + row_offset(b, t, T, NH, h, HS), acc[i], 1.0f, 1, lane, HS);
  }
}

#define KV_WARPS 8
#define KV_DPW (HS_MAX / KV_WARPS)  // dimensions per warp
#define KV_ROWS 8  // query rows staged per pass

// dv_s += sum_t p dout_t; dk_s += sum_t ds q_t, over the query heads of the group (in order) and
// the query rows t >= s (in order). Lane j owns key s0 + j; warp w owns dimensions
// w * ceil(HS/8) ..; dot products are the sum, in warp order, of the warps' partial dots.
// grid (ceil(T / BK), NKV, B), block KV_WARPS * 32.
extern "C" __global__ void attention_backward_dkv(
    float* dk, float* dv, const float* dout, const float* q, const float* k, const float* v,
    const float* lse, const float* delta, const int* seg, int T, int NH, int NKV, int HS,
    float scale) {
  __shared__ float Qc[KV_ROWS * HS_MAX];
  __shared__ float Gc[KV_ROWS * HS_MAX];
  __shared__ float partQk[KV_ROWS * KV_WARPS * 32];
  __shared__ float partGv[KV_ROWS * KV_WARPS * 32];
  __shared__ float rowLse[KV_ROWS];
  __shared__ float rowDelta[KV_ROWS];
  __shared__ int rowSeg[KV_ROWS];
  int b = blockIdx.z;
  int kh = blockIdx.y;
  int group = NH / NKV;
  int s0 = blockIdx.x * BK;
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  int s = s0 + lane;
  int dpw = (HS + KV_WARPS - 1) / KV_WARPS;
  int d0 = warp * dpw;
  float kreg[KV_DPW];
  float vreg[KV_DPW];
  float dkAcc[KV_DPW];
  float dvAcc[KV_DPW];
  long long kvBase = row_offset(b, s < T ? s : 0, T, NKV, kh, HS);
  #pragma unroll
  for (int dd = 0; dd < KV_DPW; dd++) {
    int d = d0 + dd;
    bool in = dd < dpw && d < HS && s < T;
    kreg[dd] = in ? k[kvBase + d] : 0.0f;
    vreg[dd] = in ? v[kvBase + d] : 0.0f;
    dkAcc[dd] = 0.0f;
    dvAcc[dd] = 0.0f;
  }
  int segKey = (seg != 0 && s < T) ? seg[(long long)b * T + s] : 0;
  for (int g = 0; g < group; g++) {
    int h = kh * group + g;
    for (int t0 = s0; t0 < T; t0 += KV_ROWS) {
      __syncthreads(); // the previous rows are consumed
      load_rows(Qc, q, KV_ROWS, b, t0, T, NH, h, HS);
      load_rows(Gc, dout, KV_ROWS, b, t0, T, NH, h, HS);
      if (threadIdx.x < KV_ROWS) {
        int t = t0 + threadIdx.x;
        long long li = ((long long)b * NH + h) * T + (t < T ? t : 0);
        rowLse[threadIdx.x] = lse[li];
        rowDelta[threadIdx.x] = delta[li];
        rowSeg[threadIdx.x] = (seg != 0 && t < T) ? seg[(long long)b * T + t] : 0;
      }
      __syncthreads();
      for (int r = 0; r < KV_ROWS; r++) {
        float qk = 0.0f;
        float gv = 0.0f;
        #pragma unroll
        for (int dd = 0; dd < KV_DPW; dd++) {
          int d = d0 + dd;
          if (dd < dpw && d < HS) {
            qk += Qc[r * HS_MAX + d] * kreg[dd];
            gv += Gc[r * HS_MAX + d] * vreg[dd];
          }
        }
        partQk[(r * KV_WARPS + warp) * 32 + lane] = qk;
        partGv[(r * KV_WARPS + warp) * 32 + lane] = gv;
      }
      __syncthreads();
      for (int r = 0; r < KV_ROWS; r++) {
        int t = t0 + r;
        bool vis = t < T && s <= t && (seg == 0 || segKey == rowSeg[r]);
        if (!vis) {
          continue;
        }
        float qk = 0.0f;
        float gv = 0.0f;
        for (int w = 0; w < KV_WARPS; w++) {
          qk += partQk[(r * KV_WARPS + w) * 32 + lane];
          gv += partGv[(r * KV_WARPS + w) * 32 + lane];
        }
        float p = expf(scale * qk - rowLse[r]);
        float ds = p * (gv - rowDelta[r]) * scale;
        #pragma unroll
        for (int dd = 0; dd < KV_DPW; dd++) {
          int d = d0 + dd;
          if (dd < dpw && d < HS) {
            dvAcc[dd] += p * Gc[r * HS_MAX + d];
            dkAcc[dd] += ds * Qc[r * HS_MAX + d];
          }
        }
      }
    }
  }
  if (s < T) {
    #pragma unroll
    for (int dd = 0; dd < KV_DPW; dd++) {
      int d = d0 + dd;
      if (dd < dpw && d < HS) {
        dk[kvBase + d] += dkAcc[dd];
        dv[kvBase + d] += dvAcc[dd];
      }
    }
  }
}

// ---- decoding against a cache -------------------------------------------------------------------

#define DEC_WARPS 4

// One warp per (new row i, head h): query i at position start + i sees cache rows 0 .. start + i.
// q, out (N, NH, HS); keys, values (S, NKV, HS). grid ceil(N * NH / DEC_WARPS), block DEC_WARPS*32.
extern "C" __global__ void attention_decode(
    float* out, const float* q, const float* keys, const float* values, int N, int NH, int NKV,
    int HS, long long start, float scale) {
  __shared__ float Qw[DEC_WARPS * HS_MAX];
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  long long task = (long long)blockIdx.x * DEC_WARPS + warp;
  if (task >= (long long)N * NH) {
    return; // whole warp; no block-wide barrier below
  }
  long long row = task / NH;
  int h = (int)(task - row * NH);
  int kh = h / (NH / NKV);
  float* qw = Qw + warp * HS_MAX;
  for (int d = lane; d < HS; d += 32) {
    qw[d] = q[(row * NH + h) * HS + d];
  }
  __syncwarp();
  long long last = start + row; // inclusive
  float m = NEG_INF;
  float l = 0.0f;
  float o[DPL];
  #pragma unroll
  for (int kk = 0; kk < DPL; kk++) {
    o[kk] = 0.0f;
  }
  for (long long s0 = 0; s0 <= last; s0 += BK) {
    long long s = s0 + lane;
    bool vis = s <= last;
    float sc = NEG_INF;
    if (vis) {
      const float* kr = keys + (s * NKV + kh) * HS;
      float acc = 0.0f;
      for (int d = 0; d < HS; d++) {
        acc += qw[d] * kr[d];
      }
      sc = scale * acc;
    }
    float mNew = fmaxf(m, warp_max(sc));
    float corr = expf(m - mNew);
    float p = vis ? expf(sc - mNew) : 0.0f;
    l = l * corr + warp_sum(p);
    m = mNew;
    #pragma unroll
    for (int kk = 0; kk < DPL; kk++) {
      o[kk] *= corr;
    }
    int count = last - s0 + 1 < BK ? (int)(last - s0 + 1) : BK;
    add_weighted_rows(o, p, values + (s0 * NKV + kh) * HS, (long long)NKV * HS, count, lane, HS);
  }
  store_row(out + (row * NH + h) * HS, o, 1.0f / l, 0, lane, HS);
}
