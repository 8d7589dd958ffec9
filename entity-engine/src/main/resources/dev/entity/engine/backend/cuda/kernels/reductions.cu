// Every reduction here has a fixed order that depends only on the shapes: a block of exactly
// ROW_THREADS threads sums a row with per-thread strided partials and a fixed shared-memory tree;
// per-column sums go through (chunk, column) partials of COL_CHUNK rows each, then a second kernel
// adds the chunks in order. No atomics, so every op here is bit-reproducible on a given GPU.
// Norm weights are F32 here (the host converts a frozen BF16/F16 weight first).

#define ROW_THREADS 256
#define COL_CHUNK 64

struct SumOp {
  template <typename T>
  __device__ T operator()(T a, T b) const { return a + b; }
};

struct MaxOp {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// op over v of the block's ROW_THREADS threads, returned to every thread, by a fixed tree. buf
// holds ROW_THREADS values; the block must not use buf again before the next __syncthreads.
template <typename T, typename Op>
__device__ T block_reduce(T v, T* buf, Op op) {
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int stride = ROW_THREADS / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) {
      buf[threadIdx.x] = op(buf[threadIdx.x], buf[threadIdx.x + stride]);
    }
    __syncthreads();
  }
  T total = buf[0];
  __syncthreads();
  return total;
}

__device__ float block_sum(float v, float* buf) {
  return block_reduce(v, buf, SumOp());
}

// ---- per-column sums --------------------------------------------------------------------------

// This thread's column and its block's rows [r0, r1) of chunk blockIdx.y; false past the last column.
__device__ __forceinline__ bool column_chunk(
    long long c, long long n, long long* col, long long* r0, long long* r1) {
  *col = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  *r0 = (long long)blockIdx.y * COL_CHUNK;
  *r1 = *r0 + COL_CHUNK < n ? *r0 + COL_CHUNK : n;
  return *col < c;
}

// dst (C) += sum over chunks, in chunk order, of partials (chunks, C). dst may be null (nothing).
extern "C" __global__ void column_reduce(
    float* dst, const float* partials, long long chunks, long long c) {
  long long col = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (dst == 0 || col >= c) {
    return;
  }
  float acc = 0.0f;
  for (long long k = 0; k < chunks; k++) {
    acc += partials[k * c + col];
  }
  dst[col] += acc;
}

// partials (chunks, OC): chunk y's rows of dout (N, OC) summed per column. grid (ceil(OC/256), chunks).
extern "C" __global__ void bias_backward_partials(
    float* partials, const float* dout, long long n, long long oc) {
  long long col, r0, r1;
  if (!column_chunk(oc, n, &col, &r0, &r1)) {
    return;
  }
  float acc = 0.0f;
  for (long long r = r0; r < r1; r++) {
    acc += dout[r * oc + col];
  }
  partials[(long long)blockIdx.y * oc + col] = acc;
}

// ---- RMSNorm ------------------------------------------------------------------------------------

// One block per row: out (N, C) = x rstd weight; rstd (N) = 1 / sqrt(mean(x^2) + eps).
extern "C" __global__ void rmsnorm_forward(
    float* out, float* rstd, const float* x, const float* weight, long long c, float eps) {
  __shared__ float buf[ROW_THREADS];
  const float* xr = x + (long long)blockIdx.x * c;
  float* outr = out + (long long)blockIdx.x * c;
  float ss = 0.0f;
  for (long long i = threadIdx.x; i < c; i += ROW_THREADS) {
    ss += xr[i] * xr[i];
  }
  ss = block_sum(ss, buf);
  float rs = 1.0f / sqrtf(ss / (float)c + eps);
  if (threadIdx.x == 0) {
    rstd[blockIdx.x] = rs;
  }
  for (long long i = threadIdx.x; i < c; i += ROW_THREADS) {
    outr[i] = xr[i] * rs * weight[i];
  }
}

// One block per row: dx += rstd (g w - x rstd^2 mean(g w x)).
extern "C" __global__ void rmsnorm_backward_dx(
    float* dx, const float* dout, const float* x, const float* weight, const float* rstd,
    long long c) {
  __shared__ float buf[ROW_THREADS];
  long long base = (long long)blockIdx.x * c;
  float rs = rstd[blockIdx.x];
  float dot = 0.0f;
  for (long long i = threadIdx.x; i < c; i += ROW_THREADS) {
    dot += dout[base + i] * weight[i] * x[base + i];
  }
  dot = block_sum(dot, buf);
  float k = dot / (float)c * rs * rs;
  for (long long i = threadIdx.x; i < c; i += ROW_THREADS) {
    dx[base + i] += rs * (dout[base + i] * weight[i] - x[base + i] * k);
  }
}

// partials (chunks, C) of g x rstd per column. grid (ceil(C/256), chunks).
extern "C" __global__ void rmsnorm_backward_dweight_partials(
    float* partials, const float* dout, const float* x, const float* rstd, long long n,
    long long c) {
  long long col, r0, r1;
  if (!column_chunk(c, n, &col, &r0, &r1)) {
    return;
  }
  float acc = 0.0f;
  for (long long r = r0; r < r1; r++) {
    acc += dout[r * c + col] * x[r * c + col] * rstd[r];
  }
  partials[(long long)blockIdx.y * c + col] = acc;
}

// ---- LayerNorm ----------------------------------------------------------------------------------

// One block per row: out = (x - mean) rstd weight + bias (bias may be null); saves mean, rstd.
extern "C" __global__ void layernorm_forward(
    float* out, float* mean, float* rstd, const float* x, const float* weight, const float* bias,
    long long c, float eps) {
  __shared__ float buf[ROW_THREADS];
  long long base = (long long)blockIdx.x * c;
  float s = 0.0f;
  for (long long i = threadIdx.x; i < c; i += ROW_THREADS) {
    s += x[base + i];
  }
  float mu = block_sum(s, buf) / (float)c;
  float var = 0.0f;
  for (long long i = threadIdx.x; i < c; i += ROW_THREADS) {
    float d = x[base + i] - mu;
    var += d * d;
  }
  float rs = 1.0f / sqrtf(block_sum(var, buf) / (float)c + eps);
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = mu;
    rstd[blockIdx.x] = rs;
  }
  for (long long i = threadIdx.x; i < c; i += ROW_THREADS) {
    float b = bias == 0 ? 0.0f : bias[i];
    out[base + i] = (x[base + i] - mu) * rs * weight[i] + b;
  }
}

// One block per row: dx += rstd (g w - mean(g w) - norm mean(g w norm)).
extern "C" __global__ void layernorm_backward_dx(
    float* dx, const float* dout, const float* x, const float* weight, const float* mean,
    const float* rstd, long long c) {
  __shared__ float buf[ROW_THREADS];
  long long base = (long long)blockIdx.x * c;
  float mu = mean[blockIdx.x];
  float rs = rstd[blockIdx.x];
  float sumG = 0.0f;
  float sumGn = 0.0f;
  for (long long i = threadIdx.x; i < c; i += ROW_THREADS) {
    float gw = dout[base + i] * weight[i];
    sumG += gw;
    sumGn += gw * ((x[base + i] - mu) * rs);
  }
  float meanG = block_sum(sumG, buf) / (float)c;
  float meanGn = block_sum(sumGn, buf) / (float)c;
  for (long long i = threadIdx.x; i < c; i += ROW_THREADS) {
    float norm = (x[base + i] - mu) * rs;
    dx[base + i] += rs * (dout[base + i] * weight[i] - meanG - norm * meanGn);
  }
}

// partials (2, chunks, C): first g norm (for dweight), then g (for dbias), per column.
extern "C" __global__ void layernorm_backward_params_partials(
    float* partials, const float* dout, const float* x, const float* mean, const float* rstd,
    long long n, long long c) {
  long long col, r0, r1;
  if (!column_chunk(c, n, &col, &r0, &r1)) {
    return;
  }
  float dw = 0.0f;
  float db = 0.0f;
  for (long long r = r0; r < r1; r++) {
    float g = dout[r * c + col];
    dw += g * ((x[r * c + col] - mean[r]) * rstd[r]);
    db += g;
  }
  partials[(long long)blockIdx.y * c + col] = dw;
  partials[((long long)gridDim.y + blockIdx.y) * c + col] = db;
}

// ---- cross-entropy ------------------------------------------------------------------------------

// One block per row of logits (N, V), in place: loss = logsumexp - logit[target]; the row becomes
// (softmax - onehot) * grad_scale. A row whose target is ignore_index gets zero loss and gradient;
// a target outside [0, V) that is not ignore_index gets a NaN loss and a zero gradient, so the
// error shows in the loss without a host sync.
extern "C" __global__ void cross_entropy_forward_backward(
    float* losses, float* logits, const int* targets, long long v, int ignore_index,
    float grad_scale) {
  __shared__ float buf[ROW_THREADS];
  float* row = logits + (long long)blockIdx.x * v;
  int target = targets[blockIdx.x];
  if (target == ignore_index || target < 0 || target >= v) {
    for (long long i = threadIdx.x; i < v; i += ROW_THREADS) {
      row[i] = 0.0f;
    }
    if (threadIdx.x == 0) {
      losses[blockIdx.x] = target == ignore_index ? 0.0f : __int_as_float(0x7fc00000);
    }
    return;
  }
  float targetLogit = row[target]; // read before the barrier: the row is overwritten after it
  float mx = -__int_as_float(0x7f800000);
  for (long long i = threadIdx.x; i < v; i += ROW_THREADS) {
    mx = fmaxf(mx, row[i]);
  }
  mx = block_reduce(mx, buf, MaxOp());
  float sum = 0.0f;
  for (long long i = threadIdx.x; i < v; i += ROW_THREADS) {
    float e = expf(row[i] - mx);
    row[i] = e;
    sum += e;
  }
  sum = block_sum(sum, buf);
  if (threadIdx.x == 0) {
    losses[blockIdx.x] = logf(sum) + mx - targetLogit;
  }
  float factor = grad_scale / sum;
  for (long long i = threadIdx.x; i < v; i += ROW_THREADS) {
    row[i] = row[i] * factor - (i == target ? grad_scale : 0.0f);
  }
}

// ---- sums for the host --------------------------------------------------------------------------

// partials[block] = sum (or sum of squares) of x's SUM_CHUNK-element piece `block`, in double.
#define SUM_CHUNK 8192
extern "C" __global__ void sum_partials(double* partials, const float* x, long long n, int squares) {
  __shared__ double buf[ROW_THREADS];
  long long from = (long long)blockIdx.x * SUM_CHUNK;
  long long to = from + SUM_CHUNK < n ? from + SUM_CHUNK : n;
  double acc = 0.0;
  for (long long i = from + threadIdx.x; i < to; i += ROW_THREADS) {
    double v = x[i];
    acc += squares ? v * v : v;
  }
  acc = block_reduce(acc, buf, SumOp());
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = acc;
  }
}

// One block: result[0] = sum of partials (count), strided per thread then the fixed tree.
extern "C" __global__ void sum_final(double* result, const double* partials, long long count) {
  __shared__ double buf[ROW_THREADS];
  double acc = 0.0;
  for (long long i = threadIdx.x; i < count; i += ROW_THREADS) {
    acc += partials[i];
  }
  acc = block_reduce(acc, buf, SumOp());
  if (threadIdx.x == 0) {
    result[0] = acc;
  }
}
