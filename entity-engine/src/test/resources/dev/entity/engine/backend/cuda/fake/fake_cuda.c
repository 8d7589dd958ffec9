/*
 * A fake CUDA driver (libcuda.so.1) for tests on machines without a GPU: "device" memory is host
 * memory, copies are memcpy, modules are the fake NVRTC's "cubins", and the kernels are host
 * functions looked up by name. It checks the argument marshalling of our FFM bindings, not CUDA.
 * Compiled with -DWITH_CUDA_H against the real cuda.h where one is installed, so that every
 * definition here must match the real declaration.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#ifdef WITH_CUDA_H
#include <cuda.h>
#else
typedef int CUresult;
typedef int CUdevice;
typedef int CUdevice_attribute;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUevent_st *CUevent;
typedef struct CUstream_st *CUstream;
#endif

#define OK 0
#define INVALID_VALUE 1
#define OUT_OF_MEMORY 2
#define INVALID_IMAGE 200
#define NOT_FOUND 500

static size_t capacity = (size_t)1 << 30;
static size_t used;
static int primary_refs;
static int stream_syncs;
static int current_set;
static char primary_context;
static char stream_object;
static char event_object;

/* allocation table, so that frees are checked and memory can be counted */
#define MAX_BLOCKS 4096
static void *block_ptr[MAX_BLOCKS];
static size_t block_size[MAX_BLOCKS];

/* test hooks, read by the Java test through FFM */
void fake_cuda_set_capacity(size_t bytes);
size_t fake_cuda_used(void);
int fake_cuda_primary_refs(void);
int fake_cuda_stream_syncs(void);
int fake_cuda_current_set(void);
int fake_cuda_modules_loaded(void);

void fake_cuda_set_capacity(size_t bytes) { capacity = bytes; }
size_t fake_cuda_used(void) { return used; }
int fake_cuda_primary_refs(void) { return primary_refs; }
int fake_cuda_stream_syncs(void) { return stream_syncs; }
int fake_cuda_current_set(void) { return current_set; }

CUresult cuInit(unsigned int flags) { return flags == 0 ? OK : INVALID_VALUE; }
CUresult cuDriverGetVersion(int *version) { *version = 12040; return OK; }
CUresult cuDeviceGetCount(int *count) { *count = 1; return OK; }
CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  if (ordinal != 0) return 101; /* CUDA_ERROR_INVALID_DEVICE */
  *device = 0;
  return OK;
}
CUresult cuDeviceGetName(char *name, int len, CUdevice dev) {
  if (dev != 0 || len < 16) return INVALID_VALUE;
  strcpy(name, "Fake GPU 8.6");
  return OK;
}
CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attribute, CUdevice dev) {
  if (dev != 0) return INVALID_VALUE;
  switch ((int)attribute) {
    case 75: *value = 8; return OK;  /* compute capability major */
    case 76: *value = 6; return OK;  /* minor */
    case 16: *value = 4; return OK;  /* multiprocessors */
    default: return INVALID_VALUE;
  }
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev) { *bytes = capacity; return dev == 0 ? OK : INVALID_VALUE; }
CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice dev) {
  primary_refs++;
  *ctx = (CUcontext)&primary_context;
  return dev == 0 ? OK : INVALID_VALUE;
}
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) { primary_refs--; return dev == 0 ? OK : INVALID_VALUE; }
CUresult cuCtxSetCurrent(CUcontext ctx) {
  if (ctx != (CUcontext)&primary_context) return 201; /* CUDA_ERROR_INVALID_CONTEXT */
  current_set++;
  return OK;
}
CUresult cuStreamCreate(CUstream *stream, unsigned int flags) {
  if (flags != 1) return INVALID_VALUE; /* we always ask for a non-blocking stream */
  *stream = (CUstream)&stream_object;
  return OK;
}
CUresult cuStreamSynchronize(CUstream stream) { stream_syncs++; return stream == (CUstream)&stream_object ? OK : 400; }
CUresult cuStreamDestroy_v2(CUstream stream) { return stream == (CUstream)&stream_object ? OK : 400; }
CUresult cuEventCreate(CUevent *event, unsigned int flags) { *event = (CUevent)&event_object; return flags == 0 ? OK : INVALID_VALUE; }
CUresult cuEventRecord(CUevent event, CUstream stream) { return event && stream == (CUstream)&stream_object ? OK : INVALID_VALUE; }
CUresult cuEventSynchronize(CUevent event) { return event ? OK : INVALID_VALUE; }
CUresult cuEventElapsedTime_v2(float *ms, CUevent start, CUevent end) { *ms = 1.5f; return start && end ? OK : INVALID_VALUE; }
CUresult cuEventDestroy_v2(CUevent event) { return event ? OK : INVALID_VALUE; }

CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytes) {
  if (bytes == 0) return INVALID_VALUE;
  if (used + bytes > capacity) return OUT_OF_MEMORY;
  for (int i = 0; i < MAX_BLOCKS; i++) {
    if (block_ptr[i] == NULL) {
      void *p = aligned_alloc(256, (bytes + 255) / 256 * 256);
      memset(p, 0x5a, bytes); /* like real device memory, not zeroed */
      block_ptr[i] = p;
      block_size[i] = bytes;
      used += bytes;
      *dptr = (CUdeviceptr)(uintptr_t)p;
      return OK;
    }
  }
  return OUT_OF_MEMORY;
}
CUresult cuMemFree_v2(CUdeviceptr dptr) {
  for (int i = 0; i < MAX_BLOCKS; i++) {
    if (block_ptr[i] != NULL && (CUdeviceptr)(uintptr_t)block_ptr[i] == dptr) {
      free(block_ptr[i]);
      block_ptr[i] = NULL;
      used -= block_size[i];
      return OK;
    }
  }
  return INVALID_VALUE;
}
CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total) { *free_bytes = capacity - used; *total = capacity; return OK; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t bytes, CUstream stream) {
  memcpy((void *)(uintptr_t)dst, src, bytes);
  return stream == (CUstream)&stream_object ? OK : 400;
}
CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t bytes, CUstream stream) {
  memcpy(dst, (const void *)(uintptr_t)src, bytes);
  return stream == (CUstream)&stream_object ? OK : 400;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream) {
  memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, bytes);
  return stream == (CUstream)&stream_object ? OK : 400;
}
CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t n, CUstream stream) {
  memset((void *)(uintptr_t)dst, value, n);
  return stream == (CUstream)&stream_object ? OK : 400;
}

/* modules: the fake NVRTC's cubin is "FAKECUBIN sm_XY\n" followed by the source */
struct fake_function {
  const char *name;
  void (*run)(unsigned grid, unsigned block, void **params);
};

static void fake_axpy(unsigned grid, unsigned block, void **params) {
  /* (float* y, const float* x, long long n, float alpha) */
  float *y = (float *)(uintptr_t)*(unsigned long long *)params[0];
  const float *x = (const float *)(uintptr_t)*(unsigned long long *)params[1];
  long long n = *(long long *)params[2];
  float alpha = *(float *)params[3];
  if ((long long)grid * block < n) return; /* too small a launch leaves work undone: visible */
  for (long long i = 0; i < n; i++) y[i] += alpha * x[i];
}

static void fake_iota(unsigned grid, unsigned block, void **params) {
  /* (int* out, int n, int start) */
  int *out = (int *)(uintptr_t)*(unsigned long long *)params[0];
  int n = *(int *)params[1];
  int start = *(int *)params[2];
  (void)grid;
  (void)block;
  for (int i = 0; i < n; i++) out[i] = start + i;
}

static struct fake_function functions[] = {{"fake_axpy", fake_axpy}, {"fake_iota", fake_iota}};
static char module_object;
static int modules_loaded;
int fake_cuda_modules_loaded(void) { return modules_loaded; }

CUresult cuModuleLoadData(CUmodule *module, const void *image) {
  if (strncmp((const char *)image, "FAKECUBIN sm_86\n", 16) != 0) return INVALID_IMAGE;
  modules_loaded++;
  *module = (CUmodule)&module_object;
  return OK;
}
CUresult cuModuleGetFunction(CUfunction *function, CUmodule module, const char *name) {
  if (module != (CUmodule)&module_object) return INVALID_VALUE;
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    if (strcmp(functions[i].name, name) == 0) {
      *function = (CUfunction)&functions[i];
      return OK;
    }
  }
  return NOT_FOUND;
}
CUresult cuModuleUnload(CUmodule module) { modules_loaded--; return module == (CUmodule)&module_object ? OK : INVALID_VALUE; }

CUresult cuLaunchKernel(CUfunction f, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                        unsigned int blockX, unsigned int blockY, unsigned int blockZ,
                        unsigned int sharedBytes, CUstream stream, void **params, void **extra) {
  if (stream != (CUstream)&stream_object || extra != NULL || params == NULL) return INVALID_VALUE;
  if (gridY != 1 || gridZ != 1 || blockY != 1 || blockZ != 1 || sharedBytes > 49152) return INVALID_VALUE;
  ((struct fake_function *)f)->run(gridX, blockX, params);
  return OK;
}

CUresult cuGetErrorName(CUresult error, const char **name) {
  switch ((int)error) {
    case 0: *name = "CUDA_SUCCESS"; return OK;
    case 1: *name = "CUDA_ERROR_INVALID_VALUE"; return OK;
    case 2: *name = "CUDA_ERROR_OUT_OF_MEMORY"; return OK;
    case 200: *name = "CUDA_ERROR_INVALID_IMAGE"; return OK;
    case 500: *name = "CUDA_ERROR_NOT_FOUND"; return OK;
    default: *name = NULL; return INVALID_VALUE;
  }
}
CUresult cuGetErrorString(CUresult error, const char **text) {
  switch ((int)error) {
    case 1: *text = "invalid argument"; return OK;
    case 2: *text = "out of memory"; return OK;
    case 500: *text = "named symbol not found"; return OK;
    default: *text = NULL; return INVALID_VALUE;
  }
}
