/*
 * A fake cuBLASLt (libcublasLt.so.12) for tests without a GPU: it checks what the bindings pass
 * (compute type, attribute sizes, layouts, the algorithm from the heuristic) and computes the
 * column-major product D = alpha op(A) op(B) + beta C on the host, F32 accumulation, for F32, BF16
 * and F16 operands and F32 C/D — what the real library computes for those descriptors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int cublasStatus_t;
typedef struct { int compute, scale, transa, transb; } desc_t;
typedef struct { int type; uint64_t rows, cols; int64_t ld; } layout_t;
typedef struct { uint64_t workspace; uint32_t align[4]; int set; } pref_t;
typedef struct { uint64_t data[8]; } algo_t;
typedef struct {
  algo_t algo;
  size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
} heuristic_t;

#define INVALID 7
static char handle_object;
static int products;
int fake_cublaslt_products(void);
int fake_cublaslt_products(void) { return products; }
static int heuristics;
int fake_cublaslt_heuristics(void);
int fake_cublaslt_heuristics(void) { return heuristics; }
static uint32_t last_alignment[4];
uint32_t fake_cublaslt_alignment(int i);
uint32_t fake_cublaslt_alignment(int i) { return last_alignment[i]; }

size_t cublasLtGetVersion(void);
size_t cublasLtGetVersion(void) { return 120400; }
const char *cublasLtGetStatusString(cublasStatus_t status);
const char *cublasLtGetStatusString(cublasStatus_t status) {
  return status == INVALID ? "an invalid numeric value was used as an argument" : "fake status";
}

cublasStatus_t cublasLtCreate(void **handle);
cublasStatus_t cublasLtCreate(void **handle) { *handle = &handle_object; return 0; }
cublasStatus_t cublasLtDestroy(void *handle);
cublasStatus_t cublasLtDestroy(void *handle) { return handle == &handle_object ? 0 : INVALID; }

cublasStatus_t cublasLtMatmulDescCreate(desc_t **desc, int computeType, int scaleType);
cublasStatus_t cublasLtMatmulDescCreate(desc_t **desc, int computeType, int scaleType) {
  if (computeType != 68 || scaleType != 0) return INVALID; /* CUBLAS_COMPUTE_32F, CUDA_R_32F */
  *desc = calloc(1, sizeof(desc_t));
  (*desc)->compute = computeType;
  (*desc)->scale = scaleType;
  return 0;
}
cublasStatus_t cublasLtMatmulDescDestroy(desc_t *desc);
cublasStatus_t cublasLtMatmulDescDestroy(desc_t *desc) { free(desc); return 0; }
cublasStatus_t cublasLtMatmulDescSetAttribute(desc_t *desc, int attr, const void *buf, size_t size);
cublasStatus_t cublasLtMatmulDescSetAttribute(desc_t *desc, int attr, const void *buf, size_t size) {
  if (size != 4) return INVALID;
  int v = *(const int32_t *)buf;
  if (v != 0 && v != 1) return INVALID;
  if (attr == 3) desc->transa = v;
  else if (attr == 4) desc->transb = v;
  else return INVALID;
  return 0;
}

cublasStatus_t cublasLtMatrixLayoutCreate(layout_t **layout, int type, uint64_t rows, uint64_t cols, int64_t ld);
cublasStatus_t cublasLtMatrixLayoutCreate(layout_t **layout, int type, uint64_t rows, uint64_t cols, int64_t ld) {
  if (type != 0 && type != 2 && type != 14) return INVALID;
  if (ld < (int64_t)rows || rows == 0 || cols == 0) return INVALID;
  *layout = calloc(1, sizeof(layout_t));
  (*layout)->type = type;
  (*layout)->rows = rows;
  (*layout)->cols = cols;
  (*layout)->ld = ld;
  return 0;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(layout_t *layout);
cublasStatus_t cublasLtMatrixLayoutDestroy(layout_t *layout) { free(layout); return 0; }

cublasStatus_t cublasLtMatmulPreferenceCreate(pref_t **pref);
cublasStatus_t cublasLtMatmulPreferenceCreate(pref_t **pref) { *pref = calloc(1, sizeof(pref_t)); return 0; }
cublasStatus_t cublasLtMatmulPreferenceDestroy(pref_t *pref);
cublasStatus_t cublasLtMatmulPreferenceDestroy(pref_t *pref) { free(pref); return 0; }
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(pref_t *pref, int attr, const void *buf, size_t size);
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(pref_t *pref, int attr, const void *buf, size_t size) {
  if (attr == 1) { /* MAX_WORKSPACE_BYTES, uint64_t */
    if (size != 8) return INVALID;
    pref->workspace = *(const uint64_t *)buf;
    pref->set |= 1;
    return 0;
  }
  if (attr >= 5 && attr <= 8) { /* MIN_ALIGNMENT_{A,B,C,D}_BYTES, uint32_t */
    if (size != 4) return INVALID;
    pref->align[attr - 5] = *(const uint32_t *)buf;
    pref->set |= 1 << (attr - 4);
    return 0;
  }
  return INVALID;
}

static int fits(const layout_t *l, int trans, uint64_t rows, uint64_t cols) {
  return trans ? (l->rows == cols && l->cols == rows) : (l->rows == rows && l->cols == cols);
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(void *handle, desc_t *desc, layout_t *a, layout_t *b,
                                              layout_t *c, layout_t *d, pref_t *pref, int requested,
                                              heuristic_t *results, int *count);
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(void *handle, desc_t *desc, layout_t *a, layout_t *b,
                                              layout_t *c, layout_t *d, pref_t *pref, int requested,
                                              heuristic_t *results, int *count) {
  heuristics++;
  if (handle != &handle_object || requested < 1 || pref->set != 0x1f) return INVALID;
  uint64_t m = d->rows, n = d->cols, k = desc->transa ? a->rows : a->cols;
  if (a->type != b->type || c->type != 0 || d->type != 0 || c != d) return 15; /* NOT_SUPPORTED */
  if (!fits(a, desc->transa, m, k) || !fits(b, desc->transb, k, n)) return INVALID;
  memcpy(last_alignment, pref->align, sizeof last_alignment);
  memset(results, 0, sizeof *results);
  results->algo.data[0] = 0xa160;
  results->algo.data[7] = m * 1000003 + n * 1009 + k;
  results->workspaceSize = pref->workspace < 4096 ? pref->workspace : 4096;
  results->wavesCount = 1.0f;
  *count = 1;
  return 0;
}

static float element(const void *base, int type, uint64_t index) {
  if (type == 0) return ((const float *)base)[index];
  uint16_t bits = ((const uint16_t *)base)[index];
  if (type == 14) { /* bf16: the high half of a float */
    uint32_t f = (uint32_t)bits << 16;
    float out;
    memcpy(&out, &f, 4);
    return out;
  }
  _Float16 h;
  memcpy(&h, &bits, 2);
  return (float)h;
}

/* element (r, c) of op(X), X column-major */
static float op(const void *x, const layout_t *l, int trans, uint64_t r, uint64_t c) {
  return trans ? element(x, l->type, c + r * l->ld) : element(x, l->type, r + c * l->ld);
}

cublasStatus_t cublasLtMatmul(void *handle, desc_t *desc, const float *alpha, const void *A,
                              layout_t *a, const void *B, layout_t *b, const float *beta, const void *C,
                              layout_t *c, void *D, layout_t *d, const algo_t *algo, void *workspace,
                              size_t workspaceBytes, void *stream);
cublasStatus_t cublasLtMatmul(void *handle, desc_t *desc, const float *alpha, const void *A,
                              layout_t *a, const void *B, layout_t *b, const float *beta, const void *C,
                              layout_t *c, void *D, layout_t *d, const algo_t *algo, void *workspace,
                              size_t workspaceBytes, void *stream) {
  if (handle != &handle_object || algo == NULL || algo->data[0] != 0xa160) return INVALID;
  if (workspaceBytes > 0 && workspace == NULL) return INVALID;
  if (stream == NULL || C != D || c != d) return INVALID;
  uint64_t m = d->rows, n = d->cols, k = desc->transa ? a->rows : a->cols;
  if (algo->data[7] != m * 1000003 + n * 1009 + k) return INVALID; /* algo of another shape */
  float *out = (float *)D;
  for (uint64_t col = 0; col < n; col++) {
    for (uint64_t row = 0; row < m; row++) {
      float acc = 0;
      for (uint64_t p = 0; p < k; p++) {
        acc += op(A, a, desc->transa, row, p) * op(B, b, desc->transb, p, col);
      }
      float *o = &out[row + col * d->ld];
      *o = *alpha * acc + (*beta == 0 ? 0 : *beta * *o);
    }
  }
  products++;
  return 0;
}
