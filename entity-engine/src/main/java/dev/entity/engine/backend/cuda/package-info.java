/**
 * The CUDA backend: the engine on NVIDIA GPUs through Java's FFM API — no JNI, no native build.
 *
 * <p>Three libraries are bound at run time: the driver API ({@code libcuda.so.1}: devices, the
 * primary context, one stream, memory, module loading and kernel launches), cuBLASLt (matrix
 * products) and NVRTC (compiling our kernels). {@link dev.entity.engine.backend.cuda.CudaLibraries}
 * finds them; when one is missing, {@code --device cuda} says which and where it looked, and {@code
 * --device auto} runs on the CPU — as it does in a build whose {@code CudaKernelSources} lists no
 * kernels yet.
 *
 * <p>Our kernels ship as CUDA C sources ({@code kernels/*.cu}) and are compiled with NVRTC when a
 * backend first launches them, for the exact architecture of the GPU at hand ({@code sm_XY}), then
 * cached as cubins under {@code $XDG_CACHE_HOME/entity-training/cuda/} (or {@code ~/.cache/...}).
 * We chose this over a fatbin built by {@code nvcc} and shipped in the jar because: building the
 * project needs no CUDA toolkit (the jar is the same on every machine); the code is compiled for
 * the very GPU it runs on — including architectures newer than our build, which a fatbin would
 * reach only through PTX JIT — and the cache (keyed by source, options, NVRTC version and
 * architecture) makes compilation a one-time cost of a few seconds per GPU. Catching a kernel's
 * syntax or type error without a GPU is the job of the kernels' compile check with {@code nvcc}.
 *
 * <p>Memory comes from {@link dev.entity.engine.backend.cuda.CachingAllocator}, so a steady
 * training step makes no driver allocation; out-of-memory surfaces as {@link
 * dev.entity.engine.backend.cuda.CudaOutOfMemoryError}, an {@link OutOfMemoryError}, which the
 * trainer's retry path already handles.
 *
 * <p>Determinism: the driver calls and the copies are exact. cuBLASLt products with F32 compute are
 * reproducible on one GPU model and library version when the same algorithm is chosen (plans are
 * cached per shape); split-K algorithms may sum in a different order than the CPU, so results agree
 * with the CPU within tolerance, not bit for bit. Our kernels state their own guarantees.
 */
package dev.entity.engine.backend.cuda;
