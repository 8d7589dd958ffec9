// Host emulation of the CUDA subset our kernels use, so their logic can be checked on a machine
// without a GPU (CudaKernelEmulationTest): g++ compiles each kernel file with this header forced in
// front. One block runs at a time, one std::thread per CUDA thread; __shared__ becomes static (one
// copy, shared by the running block), __syncthreads a std::barrier, shuffles an exchange between
// per-warp barriers. What it cannot show: races that real warps expose, NVRTC acceptance, speed.
#pragma once
#include <barrier>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <thread>
#include <vector>
#include <functional>
#include <memory>
#include <algorithm>
#include <math.h>
struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
#define __constant__
#define __shared__ static
inline float __uint_as_float(unsigned int u) { float f; memcpy(&f, &u, 4); return f; }
inline float __int_as_float(int u) { float f; memcpy(&f, &u, 4); return f; }
inline unsigned int __float_as_uint(float f) { unsigned int u; memcpy(&u, &f, 4); return u; }
inline float __fmul_rn(float a, float b) { volatile float r = a * b; return r; }
inline float __fadd_rn(float a, float b) { volatile float r = a + b; return r; }
inline float __fsub_rn(float a, float b) { volatile float r = a - b; return r; }
inline float __fdiv_rn(float a, float b) { volatile float r = a / b; return r; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }

inline std::barrier<>* g_block_barrier;
inline std::vector<std::unique_ptr<std::barrier<>>> g_warp_barriers;
inline std::vector<float> g_exchange;
inline void __syncthreads() { g_block_barrier->arrive_and_wait(); }
inline void __syncwarp() { g_warp_barriers[threadIdx.x / 32]->arrive_and_wait(); }
inline float __shfl_sync(unsigned, float v, int src) {
  int w = threadIdx.x / 32;
  g_exchange[threadIdx.x] = v;
  __syncwarp();
  float r = g_exchange[w * 32 + src];
  __syncwarp();
  return r;
}
inline float __shfl_xor_sync(unsigned, float v, int m) {
  int lane = threadIdx.x % 32;
  return __shfl_sync(0, v, lane ^ m);
}

// Runs kernel(args...) over the grid, one block after another.
template <typename F>
void launch(dim3 grid, unsigned threads, F kernel) {
  gridDim = grid;
  blockDim = dim3{threads, 1, 1};
  g_exchange.assign(threads, 0.f);
  for (unsigned z = 0; z < grid.z; z++)
    for (unsigned y = 0; y < grid.y; y++)
      for (unsigned x = 0; x < grid.x; x++) {
        std::barrier<> block(threads);
        g_block_barrier = &block;
        g_warp_barriers.clear();
        for (unsigned w = 0; w < (threads + 31) / 32; w++)
          g_warp_barriers.push_back(std::make_unique<std::barrier<>>(std::min(32u, threads - w * 32)));
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < threads; t++)
          ts.emplace_back([&, t, x, y, z] {
            threadIdx = dim3{t, 0, 0};
            blockIdx = dim3{x, y, z};
            kernel();
          });
        for (auto& th : ts) th.join();
      }
}

// Runs a kernel without barriers or shuffles: every thread in turn on the calling thread.
template <typename F>
void run_serial(dim3 grid, unsigned threads, F kernel) {
  gridDim = grid;
  blockDim = dim3{threads, 1, 1};
  for (unsigned z = 0; z < grid.z; z++)
    for (unsigned y = 0; y < grid.y; y++)
      for (unsigned x = 0; x < grid.x; x++) {
        blockIdx = dim3{x, y, z};
        for (unsigned t = 0; t < threads; t++) {
          threadIdx = dim3{t, 0, 0};
          kernel();
        }
      }
}
