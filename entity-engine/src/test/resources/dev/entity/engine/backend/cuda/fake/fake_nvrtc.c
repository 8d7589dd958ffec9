/*
 * A fake NVRTC (libnvrtc.so.12) for tests without CUDA: "compiling" checks the options and turns
 * the source into "FAKECUBIN sm_XY\n" + source, which the fake driver loads. A source containing
 * "#error" fails with a log, as a real compile error does.
 */
#include <stdlib.h>
#include <string.h>

typedef int nvrtcResult;
typedef struct program {
  char *source;
  char *cubin;
  char *log;
} *nvrtcProgram;

static int compiles;
int fake_nvrtc_compiles(void);
int fake_nvrtc_compiles(void) { return compiles; }

nvrtcResult nvrtcVersion(int *major, int *minor);
nvrtcResult nvrtcVersion(int *major, int *minor) {
  *major = 12;
  *minor = 4;
  return 0;
}

const char *nvrtcGetErrorString(nvrtcResult result);
const char *nvrtcGetErrorString(nvrtcResult result) {
  switch (result) {
    case 0: return "NVRTC_SUCCESS";
    case 5: return "NVRTC_ERROR_INVALID_OPTION";
    case 6: return "NVRTC_ERROR_COMPILATION";
    default: return "NVRTC_ERROR_INVALID_INPUT";
  }
}

nvrtcResult nvrtcCreateProgram(nvrtcProgram *prog, const char *src, const char *name, int numHeaders,
                               const char *const *headers, const char *const *includeNames);
nvrtcResult nvrtcCreateProgram(nvrtcProgram *prog, const char *src, const char *name, int numHeaders,
                               const char *const *headers, const char *const *includeNames) {
  if (src == NULL || name == NULL || numHeaders != 0 || headers != NULL || includeNames != NULL) return 3;
  struct program *p = calloc(1, sizeof *p);
  p->source = strdup(src);
  *prog = p;
  return 0;
}

nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char *const *options);
nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char *const *options) {
  compiles++;
  const char *arch = NULL;
  for (int i = 0; i < numOptions; i++) {
    if (strncmp(options[i], "--gpu-architecture=sm_", 22) == 0) arch = options[i] + 19; /* after "--gpu-architecture=" */
  }
  if (arch == NULL) return 5;
  if (strstr(prog->source, "#error") != NULL) {
    prog->log = strdup("kernel.cu(1): error: #error directive: broken on purpose\n1 error detected");
    return 6;
  }
  size_t n = strlen(prog->source) + 64;
  prog->cubin = malloc(n);
  strcpy(prog->cubin, "FAKECUBIN ");
  strcat(prog->cubin, arch);
  strcat(prog->cubin, "\n");
  strcat(prog->cubin, prog->source);
  prog->log = strdup("");
  return 0;
}

nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, size_t *size);
nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, size_t *size) {
  *size = prog->log == NULL ? 1 : strlen(prog->log) + 1;
  return 0;
}

nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, char *log);
nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, char *log) {
  strcpy(log, prog->log == NULL ? "" : prog->log);
  return 0;
}

nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, size_t *size);
nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, size_t *size) {
  if (prog->cubin == NULL) return 3;
  *size = strlen(prog->cubin) + 1;
  return 0;
}

nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, char *cubin);
nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, char *cubin) {
  if (prog->cubin == NULL) return 3;
  strcpy(cubin, prog->cubin);
  return 0;
}

nvrtcResult nvrtcDestroyProgram(nvrtcProgram *prog);
nvrtcResult nvrtcDestroyProgram(nvrtcProgram *prog) {
  struct program *p = *prog;
  free(p->source);
  free(p->cubin);
  free(p->log);
  free(p);
  *prog = NULL;
  return 0;
}
