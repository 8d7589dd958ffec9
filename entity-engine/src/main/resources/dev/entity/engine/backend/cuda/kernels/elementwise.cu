// F32 elementwise kernels, one thread per element (rope: per rotated pair). Where the CPU's result
// is exactly specified (dropout's mask, AdamW's update) the arithmetic uses the _rn intrinsics,
// which the compiler never fuses into an FMA, so the GPU computes the CPU's bits.

__device__ __forceinline__ long long global_index() {
  return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}

extern "C" __global__ void add_f32(float* out, const float* a, const float* b, long long n) {
  long long i = global_index();
  if (i < n) {
    out[i] = a[i] + b[i];
  }
}

extern "C" __global__ void scale_f32(float* x, float s, long long n) {
  long long i = global_index();
  if (i < n) {
    x[i] = x[i] * s;
  }
}

// out += alpha * x
extern "C" __global__ void axpy_f32(float* out, const float* x, float alpha, long long n) {
  long long i = global_index();
  if (i < n) {
    out[i] = __fadd_rn(out[i], __fmul_rn(alpha, x[i]));
  }
}

// ---- activations ------------------------------------------------------------------------------

__device__ __forceinline__ float sigmoid(float x) {
  return 1.0f / (1.0f + expf(-x));
}

// out = silu(gate) * up
extern "C" __global__ void swiglu_forward(
    float* out, const float* gate, const float* up, long long n) {
  long long i = global_index();
  if (i < n) {
    float g = gate[i];
    out[i] = g * sigmoid(g) * up[i];
  }
}

// dgate += dout up sig (1 + g (1 - sig)); dup += dout silu(g)
extern "C" __global__ void swiglu_backward(
    float* dgate, float* dup, const float* dout, const float* gate, const float* up,
    long long n) {
  long long i = global_index();
  if (i < n) {
    float g = gate[i];
    float d = dout[i];
    float sig = sigmoid(g);
    dgate[i] += d * up[i] * sig * (1.0f + g * (1.0f - sig));
    dup[i] += d * g * sig;
  }
}

#define GELU_SCALE 0.7978845608028654f // sqrt(2 / pi)

// GPT-2's gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
extern "C" __global__ void gelu_forward(float* out, const float* x, long long n) {
  long long i = global_index();
  if (i < n) {
    float v = x[i];
    float cube = 0.044715f * v * v * v;
    out[i] = 0.5f * v * (1.0f + tanhf(GELU_SCALE * (v + cube)));
  }
}

extern "C" __global__ void gelu_backward(
    float* dx, const float* dout, const float* x, long long n) {
  long long i = global_index();
  if (i < n) {
    float v = x[i];
    float cube = 0.044715f * v * v * v;
    float th = tanhf(GELU_SCALE * (v + cube));
    float sech2 = 1.0f - th * th;
    float local = 0.5f * (1.0f + th) + v * 0.5f * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * v * v);
    dx[i] += local * dout[i];
  }
}

// ---- dropout: the CPU's counter-based hash (CpuElementwise.dropoutUniform), bit for bit ------

__device__ __forceinline__ unsigned int fmix32(unsigned int h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// Kept iff u(seed, i) >= p, u the top 24 bits of the mixed key times 2^-24; keep_scale is
// 1 / (1 - p) as the host computed it in F32.
extern "C" __global__ void dropout_f32(
    float* out, const float* x, float p, float keep_scale, long long seed, long long n) {
  long long i = global_index();
  if (i < n) {
    unsigned long long s = (unsigned long long)seed;
    unsigned long long u = (unsigned long long)i;
    unsigned int key = (unsigned int)u * 0x9E3779B9u + (unsigned int)s
        + fmix32((unsigned int)(s >> 32) ^ (unsigned int)(u >> 32));
    float uniform = (float)(fmix32(key) >> 8) * 5.9604644775390625e-8f; // 2^-24
    out[i] = uniform >= p ? __fmul_rn(x[i], keep_scale) : 0.0f;
  }
}

// ---- AdamW: CpuAdamW's per-element update, operation for operation --------------------------

// step_size = lr / bc1 and inv_sqrt_bc2 = 1 / sqrt(bc2) and decay = 1 - lr wd come from the host.
extern "C" __global__ void adamw_f32(
    float* param, const float* grad, float* m, float* v, float beta1, float beta2, float eps,
    float grad_scale, float decay, float step_size, float inv_sqrt_bc2, long long n) {
  long long i = global_index();
  if (i < n) {
    float g = __fmul_rn(grad[i], grad_scale);
    float mi = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(1.0f - beta1, g));
    float vi = __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(1.0f - beta2, g), g));
    m[i] = mi;
    v[i] = vi;
    float denom = __fadd_rn(__fmul_rn(__fsqrt_rn(vi), inv_sqrt_bc2), eps);
    param[i] = __fsub_rn(__fmul_rn(param[i], decay), __fdiv_rn(__fmul_rn(step_size, mi), denom));
  }
}

// ---- rotary embedding (Hugging Face rotate-half) ---------------------------------------------

// x (N, H, HS) in place; thread per (row, head, i < HS/2): element i pairs with i + HS/2, both
// rotated by the F32 angle position * inv_freq[i], whose cosine and sine are taken in double as
// on the CPU. inverse negates the sine.
extern "C" __global__ void rope_f32(
    float* x, const int* positions, const float* inv_freq, long long n, long long heads,
    long long half, int inverse) {
  long long i = global_index();
  if (i >= n * heads * half) {
    return;
  }
  long long k = i % half;
  long long rowHead = i / half;
  long long row = rowHead / heads;
  float angle = (float)positions[row] * inv_freq[k];
  float c = (float)cos((double)angle);
  float s = (float)sin((double)angle);
  if (inverse) {
    s = -s;
  }
  float* base = x + rowHead * 2 * half;
  float x1 = base[k];
  float x2 = base[k + half];
  base[k] = __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s));
  base[k + half] = __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s));
}
