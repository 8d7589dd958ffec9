// Runs our CUDA kernels (compiled for the host with cuda_shim.h) against plain double-precision
// references written from the CPU backend's contracts: attention forward/backward (GQA, segments,
// HS 32/64/80/128, odd T), decoding, RMSNorm/LayerNorm with per-column sums, cross-entropy with
// ignored and bad labels, fixed-order sums, embedding, RoPE, bias, byte copies, and the F32<->F16
// and F32->BF16 casts against the compiler's own _Float16 over ~10^8 bit patterns. Prints one line
// per check and "N failures"; exits non-zero on any failure.
#include "cuda_shim.h"
#include <cstdio>
#include <random>
#include <string>
using ll = long long;
extern "C" {
void zero_bytes(unsigned char* p, ll n);
void copy_bytes(unsigned char* dst, const unsigned char* src, ll n);
void convert_float(void* dst, int dt, const void* src, int st, ll n);
void add_bias(float* out, const void* bias, int bt, ll rows, ll oc);
void embedding_forward(float* out, const int* ids, const void* table, int tt, ll n, ll c, ll v);
void embedding_backward(float* dtable, const float* dout, const int* ids, ll n, ll c, ll v);
void nf4_dequantize(void* out, int ot, const unsigned char* packed, const float* absmax, ll n);
void rope_f32(float* x, const int* pos, const float* f, ll n, ll heads, ll half, int inverse);
void column_reduce(float* dst, const float* partials, ll chunks, ll c);
void bias_backward_partials(float* partials, const float* dout, ll n, ll oc);
void rmsnorm_forward(float* out, float* rstd, const float* x, const float* w, ll c, float eps);
void rmsnorm_backward_dx(float* dx, const float* dout, const float* x, const float* w, const float* rstd, ll c);
void rmsnorm_backward_dweight_partials(float* p, const float* dout, const float* x, const float* rstd, ll n, ll c);
void layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b, ll c, float eps);
void layernorm_backward_dx(float* dx, const float* dout, const float* x, const float* w, const float* mean, const float* rstd, ll c);
void layernorm_backward_params_partials(float* p, const float* dout, const float* x, const float* mean, const float* rstd, ll n, ll c);
void cross_entropy_forward_backward(float* losses, float* logits, const int* targets, ll v, int ignore, float gs);
void sum_partials(double* partials, const float* x, ll n, int squares);
void sum_final(double* result, const double* partials, ll count);
void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v, const int* seg, int T, int NH, int NKV, int HS, float scale);
void attention_backward_delta(float* delta, const float* dout, const float* out, int B, int T, int NH, int HS);
void attention_backward_dq(float* dq, const float* dout, const float* q, const float* k, const float* v, const float* lse, const float* delta, const int* seg, int T, int NH, int NKV, int HS, float scale);
void attention_backward_dkv(float* dk, float* dv, const float* dout, const float* q, const float* k, const float* v, const float* lse, const float* delta, const int* seg, int T, int NH, int NKV, int HS, float scale);
void attention_decode(float* out, const float* q, const float* keys, const float* values, int N, int NH, int NKV, int HS, ll start, float scale);
}
static std::mt19937 rng(1);
static std::vector<float> rnd(size_t n, float s = 1) { std::normal_distribution<float> d(0, s); std::vector<float> v(n); for (auto& x : v) x = d(rng); return v; }
static int fails = 0;
static void check(const char* what, const std::vector<float>& e, const std::vector<float>& a, double rtol) {
  double ss = 0; for (float x : e) ss += (double)x * x; double rms = std::sqrt(ss / std::max<size_t>(1, e.size()));
  double worst = 0; size_t wi = 0;
  for (size_t i = 0; i < e.size(); i++) { double err = std::fabs((double)a[i] - e[i]) / (std::fabs(e[i]) + rms + 1e-30); if (!(err <= worst)) { worst = err; wi = i; } }
  bool ok = worst <= rtol;
  if (!ok) fails++;
  printf("%-40s %s worst rel %.3g at %zu (gpu %g cpu %g)\n", what, ok ? "ok  " : "FAIL", worst, wi, a.empty()?0.:a[wi], e.empty()?0.:e[wi]);
}
static unsigned blocks(ll n, ll per) { return (unsigned)((n + per - 1) / per); }
// Barrier-free kernels: every thread in turn on this thread (fast, same results).
template <typename F> void run1d(ll n, F f) {
  blockDim = dim3{256, 1, 1}; gridDim = dim3{blocks(n, 256), 1, 1};
  for (ll i = 0; i < (ll)gridDim.x * 256; i++) { threadIdx = dim3{(unsigned)(i % 256), 0, 0}; blockIdx = dim3{(unsigned)(i / 256), 0, 0}; f(); }
}

// ---- references (CpuAttention.forwardScalar / backwardScalar, in double) ----
struct Att { int B, T, NH, NKV, HS; };
static bool vis(const int* seg, int b, int T, int t, int s) { return s <= t && (!seg || seg[b * T + s] == seg[b * T + t]); }
static void attRef(Att d, const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v, const int* seg, float scale,
    std::vector<float>& out, std::vector<float>& lse, const std::vector<float>& dout, std::vector<float>& dq, std::vector<float>& dk, std::vector<float>& dv) {
  int g = d.NH / d.NKV;
  auto qi = [&](int b, int t, int h) { return ((ll)(b * d.T + t) * d.NH + h) * d.HS; };
  auto ki = [&](int b, int t, int h) { return ((ll)(b * d.T + t) * d.NKV + h) * d.HS; };
  for (int b = 0; b < d.B; b++) for (int h = 0; h < d.NH; h++) for (int t = 0; t < d.T; t++) {
    int kh = h / g; std::vector<double> sc(d.T, -1e300); double mx = -1e300;
    for (int s = 0; s <= t; s++) if (vis(seg, b, d.T, t, s)) { double a = 0; for (int x = 0; x < d.HS; x++) a += (double)q[qi(b,t,h)+x] * k[ki(b,s,kh)+x]; sc[s] = a * scale; mx = std::max(mx, sc[s]); }
    double sum = 0; for (int s = 0; s <= t; s++) if (vis(seg, b, d.T, t, s)) sum += std::exp(sc[s] - mx);
    double L = mx + std::log(sum); lse[((ll)b * d.NH + h) * d.T + t] = (float)L;
    std::vector<double> o(d.HS, 0);
    for (int s = 0; s <= t; s++) if (vis(seg, b, d.T, t, s)) { double p = std::exp(sc[s] - L); for (int x = 0; x < d.HS; x++) o[x] += p * v[ki(b,s,kh)+x]; }
    for (int x = 0; x < d.HS; x++) out[qi(b,t,h)+x] = (float)o[x];
    double delta = 0; for (int x = 0; x < d.HS; x++) delta += (double)dout[qi(b,t,h)+x] * o[x];
    for (int s = 0; s <= t; s++) if (vis(seg, b, d.T, t, s)) {
      double p = std::exp(sc[s] - L); double dp = 0; for (int x = 0; x < d.HS; x++) dp += (double)dout[qi(b,t,h)+x] * v[ki(b,s,kh)+x];
      double ds = p * (dp - delta) * scale;
      for (int x = 0; x < d.HS; x++) { dv[ki(b,s,kh)+x] += p * dout[qi(b,t,h)+x]; dq[qi(b,t,h)+x] += ds * k[ki(b,s,kh)+x]; dk[ki(b,s,kh)+x] += ds * q[qi(b,t,h)+x]; }
    }
  }
}

static void testAttention(Att d, bool packed) {
  float scale = 1.0f / std::sqrt((float)d.HS);
  ll nq = (ll)d.B * d.T * d.NH * d.HS, nk = (ll)d.B * d.T * d.NKV * d.HS;
  auto q = rnd(nq), k = rnd(nk), v = rnd(nk), dout = rnd(nq);
  std::vector<int> seg(d.B * d.T); for (int i = 0; i < d.B * d.T; i++) seg[i] = (i % d.T) * 3 / d.T;
  const int* sp = packed ? seg.data() : nullptr;
  std::vector<float> out(nq), lse((ll)d.B * d.NH * d.T), dq(nq), dk(nk), dv(nk);
  attRef(d, q, k, v, sp, scale, out, lse, dout, dq, dk, dv);
  std::vector<float> gout(nq), glse(lse.size()), delta(lse.size());
  std::vector<float> gdq = rnd(nq), gdk = rnd(nk), gdv = rnd(nk); // accumulate onto these
  auto dq0 = gdq, dk0 = gdk, dv0 = gdv;
  launch(dim3{blocks(d.T, 16), (unsigned)d.NH, (unsigned)d.B}, 128, [&] { attention_forward(gout.data(), glse.data(), q.data(), k.data(), v.data(), sp, d.T, d.NH, d.NKV, d.HS, scale); });
  launch(dim3{blocks((ll)d.B * d.T * d.NH, 4), 1, 1}, 128, [&] { attention_backward_delta(delta.data(), dout.data(), gout.data(), d.B, d.T, d.NH, d.HS); });
  launch(dim3{blocks(d.T, 8), (unsigned)d.NH, (unsigned)d.B}, 128, [&] { attention_backward_dq(gdq.data(), dout.data(), q.data(), k.data(), v.data(), glse.data(), delta.data(), sp, d.T, d.NH, d.NKV, d.HS, scale); });
  launch(dim3{blocks(d.T, 32), (unsigned)d.NKV, (unsigned)d.B}, 256, [&] { attention_backward_dkv(gdk.data(), gdv.data(), dout.data(), q.data(), k.data(), v.data(), glse.data(), delta.data(), sp, d.T, d.NH, d.NKV, d.HS, scale); });
  for (ll i = 0; i < nq; i++) gdq[i] -= dq0[i];
  for (ll i = 0; i < nk; i++) { gdk[i] -= dk0[i]; gdv[i] -= dv0[i]; }
  std::string tag = "B" + std::to_string(d.B) + " T" + std::to_string(d.T) + " NH" + std::to_string(d.NH) + " NKV" + std::to_string(d.NKV) + " HS" + std::to_string(d.HS) + (packed ? " seg" : "");
  check(("attn out " + tag).c_str(), out, gout, 1e-4);
  check(("attn lse " + tag).c_str(), lse, glse, 1e-4);
  check(("attn dq " + tag).c_str(), dq, gdq, 1e-3);
  check(("attn dk " + tag).c_str(), dk, gdk, 1e-3);
  check(("attn dv " + tag).c_str(), dv, gdv, 1e-3);
}

static void testDecode(int N, ll start, int NH, int NKV, int HS) {
  ll S = start + N + 3; float scale = 0.125f;
  auto q = rnd((ll)N * NH * HS), keys = rnd(S * NKV * HS), values = rnd(S * NKV * HS);
  std::vector<float> ref((ll)N * NH * HS), got(ref.size());
  int g = NH / NKV;
  for (int i = 0; i < N; i++) for (int h = 0; h < NH; h++) {
    ll last = start + i; std::vector<double> sc(last + 1); double mx = -1e300;
    for (ll s = 0; s <= last; s++) { double a = 0; for (int x = 0; x < HS; x++) a += (double)q[((ll)i*NH+h)*HS+x] * keys[(s*NKV+h/g)*HS+x]; sc[s] = a*scale; mx = std::max(mx, sc[s]); }
    double sum = 0; for (auto s : sc) sum += std::exp(s - mx);
    for (int x = 0; x < HS; x++) { double o = 0; for (ll s = 0; s <= last; s++) o += std::exp(sc[s]-mx)/sum * values[(s*NKV+h/g)*HS+x]; ref[((ll)i*NH+h)*HS+x] = (float)o; }
  }
  launch(dim3{blocks((ll)N * NH, 4), 1, 1}, 128, [&] { attention_decode(got.data(), q.data(), keys.data(), values.data(), N, NH, NKV, HS, start, scale); });
  check(("decode N" + std::to_string(N) + " start" + std::to_string(start) + " HS" + std::to_string(HS)).c_str(), ref, got, 1e-4);
}

static void testNorms(ll n, ll c) {
  auto x = rnd(n * c, 2), w = rnd(c), bias = rnd(c), dout = rnd(n * c);
  std::vector<float> out(n * c), rstd(n), gout(n * c), grstd(n);
  // rms reference
  std::vector<float> rdx(n * c, 0), rdw(c, 0);
  for (ll r = 0; r < n; r++) { double ss = 0; for (ll i = 0; i < c; i++) ss += (double)x[r*c+i]*x[r*c+i]; double rs = 1/std::sqrt(ss/c+1e-5); rstd[r] = (float)rs;
    for (ll i = 0; i < c; i++) out[r*c+i] = (float)(x[r*c+i]*rs*w[i]);
    double dot = 0; for (ll i = 0; i < c; i++) dot += (double)dout[r*c+i]*w[i]*x[r*c+i]; double kk = dot/c*rs*rs;
    for (ll i = 0; i < c; i++) { rdx[r*c+i] = (float)(rs*(dout[r*c+i]*w[i] - x[r*c+i]*kk)); rdw[i] += (float)(dout[r*c+i]*x[r*c+i]*rs); } }
  launch(dim3{(unsigned)n, 1, 1}, 256, [&] { rmsnorm_forward(gout.data(), grstd.data(), x.data(), w.data(), c, 1e-5f); });
  check(("rms out c" + std::to_string(c)).c_str(), out, gout, 1e-5); check("rms rstd", rstd, grstd, 1e-5);
  std::vector<float> gdx(n * c, 0), gdw(c, 0); ll chunks = (n + 63) / 64; std::vector<float> part(chunks * c * 2);
  launch(dim3{(unsigned)n, 1, 1}, 256, [&] { rmsnorm_backward_dx(gdx.data(), dout.data(), x.data(), w.data(), grstd.data(), c); });
  launch(dim3{blocks(c, 256), (unsigned)chunks, 1}, 256, [&] { rmsnorm_backward_dweight_partials(part.data(), dout.data(), x.data(), grstd.data(), n, c); });
  run1d(c, [&] { column_reduce(gdw.data(), part.data(), chunks, c); });
  check("rms dx", rdx, gdx, 1e-5); check("rms dweight", rdw, gdw, 1e-5);
  // layer norm
  std::vector<float> mean(n), lout(n*c), ldx(n*c, 0), ldw(c, 0), ldb(c, 0);
  for (ll r = 0; r < n; r++) { double s = 0; for (ll i = 0; i < c; i++) s += x[r*c+i]; double mu = s/c, var = 0; for (ll i = 0; i < c; i++) var += (x[r*c+i]-mu)*(x[r*c+i]-mu);
    double rs = 1/std::sqrt(var/c+1e-5); mean[r] = (float)mu; rstd[r] = (float)rs;
    for (ll i = 0; i < c; i++) lout[r*c+i] = (float)((x[r*c+i]-mu)*rs*w[i] + bias[i]);
    double sg = 0, sgn = 0; for (ll i = 0; i < c; i++) { double gw = (double)dout[r*c+i]*w[i]; sg += gw; sgn += gw*((x[r*c+i]-mu)*rs); }
    for (ll i = 0; i < c; i++) { double nn = (x[r*c+i]-mu)*rs; ldx[r*c+i] = (float)(rs*(dout[r*c+i]*w[i] - sg/c - nn*sgn/c)); ldw[i] += (float)(dout[r*c+i]*nn); ldb[i] += dout[r*c+i]; } }
  std::vector<float> gmean(n); std::fill(gdx.begin(), gdx.end(), 0); std::vector<float> gdb(c, 0); std::fill(gdw.begin(), gdw.end(), 0);
  launch(dim3{(unsigned)n, 1, 1}, 256, [&] { layernorm_forward(gout.data(), gmean.data(), grstd.data(), x.data(), w.data(), bias.data(), c, 1e-5f); });
  check("ln out", lout, gout, 1e-5); check("ln mean", mean, gmean, 1e-5); check("ln rstd", rstd, grstd, 1e-5);
  launch(dim3{(unsigned)n, 1, 1}, 256, [&] { layernorm_backward_dx(gdx.data(), dout.data(), x.data(), w.data(), gmean.data(), grstd.data(), c); });
  launch(dim3{blocks(c, 256), (unsigned)chunks, 1}, 256, [&] { layernorm_backward_params_partials(part.data(), dout.data(), x.data(), gmean.data(), grstd.data(), n, c); });
  run1d(c, [&] { column_reduce(gdw.data(), part.data(), chunks, c); });
  run1d(c, [&] { column_reduce(gdb.data(), part.data() + chunks * c, chunks, c); });
  check("ln dx", ldx, gdx, 1e-5); check("ln dweight", ldw, gdw, 1e-5); check("ln dbias", ldb, gdb, 1e-5);
  // bias backward
  std::fill(gdb.begin(), gdb.end(), 0);
  launch(dim3{blocks(c, 256), (unsigned)chunks, 1}, 256, [&] { bias_backward_partials(part.data(), dout.data(), n, c); });
  run1d(c, [&] { column_reduce(gdb.data(), part.data(), chunks, c); });
  check("bias backward", ldb, gdb, 1e-5);
}

static void testLossAndSums() {
  ll n = 13, v = 1003; auto logits = rnd(n * v, 3); std::vector<int> tg(n); for (ll i = 0; i < n; i++) tg[i] = (int)(rng() % v); tg[3] = -100; tg[5] = (int)v + 4;
  std::vector<float> ref = logits, rl(n), gl(n); auto g = logits;
  for (ll r = 0; r < n; r++) { float* row = &ref[r*v]; if (tg[r] == -100) { std::fill(row, row+v, 0.f); rl[r] = 0; continue; } if (tg[r] >= v) { std::fill(row, row+v, 0.f); rl[r] = NAN; continue; }
    double mx = -1e300; for (ll i = 0; i < v; i++) mx = std::max(mx, (double)row[i]); double s = 0; for (ll i = 0; i < v; i++) s += std::exp(row[i]-mx);
    rl[r] = (float)(std::log(s) + mx - row[tg[r]]); for (ll i = 0; i < v; i++) row[i] = (float)((std::exp(row[i]-mx)/s - (i == tg[r])) * 0.5); }
  launch(dim3{(unsigned)n, 1, 1}, 256, [&] { cross_entropy_forward_backward(gl.data(), g.data(), tg.data(), v, -100, 0.5f); });
  check("ce grad", ref, g, 1e-5);
  bool nanOk = std::isnan(gl[5]); gl[5] = rl[5] = 0; check("ce loss", rl, gl, 1e-5); if (!nanOk) { fails++; printf("ce bad label: no NaN\n"); }
  for (ll n2 : {1LL, 8192LL, 20001LL}) {
    auto x = rnd(n2); double s = 0, sq = 0; for (float f : x) { s += f; sq += (double)f*f; }
    ll pieces = (n2 + 8191) / 8192; std::vector<double> part(pieces); double res[1];
    for (int squares = 0; squares < 2; squares++) {
      launch(dim3{(unsigned)pieces, 1, 1}, 256, [&] { sum_partials(part.data(), x.data(), n2, squares); });
      launch(dim3{1, 1, 1}, 256, [&] { sum_final(res, part.data(), pieces); });
      double e = squares ? sq : s; bool ok = std::fabs(res[0] - e) <= 1e-9 * (std::fabs(e) + 1);
      if (!ok) fails++; printf("sum n=%lld sq=%d %s %g vs %g\n", n2, squares, ok ? "ok" : "FAIL", res[0], e);
    }
  }
}

static void testConvertAndMore() {
  // f16 and bf16 conversions, exhaustive over all f32 bit patterns in strides
  ll bad16 = 0, badb = 0;
  const ll N = 1 << 20; std::vector<float> src(N); std::vector<unsigned short> h(N), bb(N); std::vector<float> back(N);
  // every pattern whose magnitude lies in the half range (stride 7), the rest with stride 251
  unsigned long long cursor = 0;
  auto nextPattern = [&]() { unsigned long long m = cursor & 0x7fffffffull; cursor += (m >= 0x32f00000ull && m <= 0x47900000ull) ? 7 : 251; return cursor; };
  for (unsigned long long base = 0; cursor < (1ull << 32); base += N) {
    for (ll i = 0; i < N; i++) { unsigned u = (unsigned)nextPattern(); memcpy(&src[i], &u, 4); }
    run1d(N, [&] { convert_float(h.data(), 2, src.data(), 0, N); });
    run1d(N, [&] { convert_float(bb.data(), 1, src.data(), 0, N); });
    for (ll i = 0; i < N; i++) {
      _Float16 e = (_Float16)src[i]; unsigned short eb; memcpy(&eb, &e, 2);
      if (std::isnan(src[i])) { if ((h[i] & 0x7c00) != 0x7c00 || !(h[i] & 0x3ff)) bad16++; } else if (eb != h[i]) { unsigned uu; memcpy(&uu, &src[i], 4); if (bad16++ < 5) printf("f16 %08x: %04x vs %04x\n", uu, h[i], eb); }
      unsigned u; memcpy(&u, &src[i], 4); unsigned short ebf = (u & 0x7fffffff) > 0x7f800000 ? (unsigned short)((u >> 16) | 0x40) : (unsigned short)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
      if (ebf != bb[i]) badb++;
    }
  }
  // f16 -> f32 for all 65536
  std::vector<unsigned short> all(65536); for (int i = 0; i < 65536; i++) all[i] = (unsigned short)i; std::vector<float> wide(65536);
  run1d(65536, [&] { convert_float(wide.data(), 0, all.data(), 2, 65536); });
  ll badw = 0; for (int i = 0; i < 65536; i++) { _Float16 e; memcpy(&e, &all[i], 2); float f = (float)e; if (!(std::isnan(f) && std::isnan(wide[i])) && memcmp(&f, &wide[i], 4)) badw++; }
  printf("f32->f16 mismatches %lld, f32->bf16 %lld, f16->f32 %lld\n", bad16, badb, badw);
  if (bad16 || badb || badw) fails++;
}

static void testSmall() {
  // zero / copy with unaligned tails
  std::vector<unsigned char> buf(103, 7), src(103); for (int i = 0; i < 103; i++) src[i] = (unsigned char)i;
  run1d(103, [&] { copy_bytes(buf.data() + 1, src.data() + 1, 101); });
  bool ok = buf[0] == 7 && buf[102] == 7; for (int i = 1; i < 102; i++) ok &= buf[i] == i;
  run1d(26, [&] { zero_bytes(buf.data(), 103); }); for (int i = 0; i < 103; i++) ok &= buf[i] == 0;
  printf("copy/zero %s\n", ok ? "ok" : "FAIL"); if (!ok) fails++;
  // embedding backward with repeated ids, in order
  ll n = 300, c = 40, v = 50; auto dout = rnd(n * c); std::vector<int> ids(n); for (auto& i : ids) i = (int)(rng() % v);
  std::vector<float> ref(v * c, 0), got(v * c, 0);
  for (ll r = 0; r < n; r++) for (ll i = 0; i < c; i++) ref[ids[r]*c+i] += dout[r*c+i];
  launch(dim3{blocks(c, 256), 50, 1}, 256, [&] { embedding_backward(got.data(), dout.data(), ids.data(), n, c, v); });
  bool same = memcmp(ref.data(), got.data(), 4 * ref.size()) == 0; printf("embedding backward bits %s\n", same ? "ok" : "FAIL"); if (!same) fails++;
  std::vector<float> eo(n * c); auto table = rnd(v * c);
  run1d(n * c, [&] { embedding_forward(eo.data(), ids.data(), table.data(), 0, n, c, v); });
  same = true; for (ll r = 0; r < n; r++) for (ll i = 0; i < c; i++) same &= eo[r*c+i] == table[ids[r]*c+i]; printf("embedding forward %s\n", same ? "ok" : "FAIL"); if (!same) fails++;
  // rope against the CPU formula
  ll rn = 7, heads = 3, half = 32; auto x = rnd(rn * heads * 2 * half); auto x0 = x; std::vector<int> pos(rn); for (auto& p : pos) p = (int)(rng() % 5000);
  std::vector<float> f(half); for (int i = 0; i < half; i++) f[i] = (float)std::pow(10000.0, -2.0 * i / (2 * half));
  run1d(rn * heads * half, [&] { rope_f32(x.data(), pos.data(), f.data(), rn, heads, half, 0); });
  same = true; for (ll r = 0; r < rn; r++) for (ll h = 0; h < heads; h++) for (ll i = 0; i < half; i++) {
    float ang = (float)pos[r] * f[i]; float cs = (float)std::cos((double)ang), sn = (float)std::sin((double)ang); ll b = (r*heads+h)*2*half;
    float e1 = x0[b+i]*cs - x0[b+half+i]*sn, e2 = x0[b+half+i]*cs + x0[b+i]*sn; same &= e1 == x[b+i] && e2 == x[b+half+i]; }
  printf("rope bits %s\n", same ? "ok" : "FAIL"); if (!same) fails++;
  run1d(rn * heads * half, [&] { rope_f32(x.data(), pos.data(), f.data(), rn, heads, half, 1); });
  std::vector<float> back(x.begin(), x.end()); check("rope inverse", x0, back, 1e-5);
  // bias add with a bf16 bias
  std::vector<float> out(6 * 5, 1.f); std::vector<unsigned short> bias(5); for (int i = 0; i < 5; i++) { float fv = 0.5f * i; unsigned u; memcpy(&u, &fv, 4); bias[i] = (unsigned short)(u >> 16); }
  run1d(30, [&] { add_bias(out.data(), bias.data(), 1, 6, 5); }); same = true; for (int i = 0; i < 30; i++) same &= out[i] == 1.f + 0.5f * (i % 5);
  printf("add_bias bf16 %s\n", same ? "ok" : "FAIL"); if (!same) fails++;
}

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  testConvertAndMore();
  testSmall();
  testNorms(150, 64); testNorms(130, 1000); testNorms(3, 4096);
  testLossAndSums();
  testAttention({2, 70, 4, 2, 64}, false); testAttention({2, 70, 4, 2, 64}, true); testAttention({1, 40, 2, 1, 128}, true);
  testAttention({1, 33, 6, 6, 128}, false); testAttention({3, 17, 4, 1, 32}, true); testAttention({1, 9, 2, 2, 80}, false);
  testDecode(1, 0, 4, 2, 64); testDecode(5, 60, 4, 1, 128); testDecode(3, 37, 2, 2, 32);
  printf("%d failures\n", fails);
  return fails ? 1 : 0;
}
