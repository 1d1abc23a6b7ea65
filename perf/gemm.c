/* gemm.c - SGEMM of loom against OpenBLAS, BLIS and oneDNN, in one process, interleaved.
 *
 *   gemm [--json FILE] [--reps N] [--threads 1,2] [--libs loom,openblas,blis,onednn]
 *        [--trans NN|TN|NT|TT] [--filter TEXT] [--quick]
 *
 * --trans runs every shape as op(A) op(B) with the given transposes (TN: A^T.B, the
 * weight gradient of a Dense layer; NT: A.B^T, its input gradient).
 *
 * The other libraries are loaded with dlopen (RTLD_LOCAL: OpenBLAS and BLIS both define
 * cblas_sgemm), so none of them is linked into libloom or needed to build it; a missing
 * one is skipped. OpenBLAS is loaded with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed
 * from this process's environment (they force its AVX2 kernels); BLIS 0.9 does not know
 * Zen 5 and gets BLIS_ARCH_TYPE=0 (skx) unless the caller set it, on a CPU with AVX-512
 * only (skx's kernels are illegal instructions elsewhere). Each library first runs one
 * small product in a forked child: one that crashes on this CPU is skipped, named, and
 * the run goes on. The FMA peak of the
 * vector width loom runs at is measured in the same run; every row gives GFLOP/s, % of
 * that peak, and loom's ratio to the best of the others. With 2 threads and more, each
 * library's repetition is followed by a 0.1 s pause: idle thread pools spin after a call
 * (OpenBLAS's for ~2^28 cycles, libgomp's briefly) and would slow whoever runs next. */
#define _GNU_SOURCE /* setenv, unsetenv */
#include <dlfcn.h>
#include <omp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loom.h"
#include "perf/bench.h"
#include "perf/peak.h"

typedef struct {
  int64_t m, n, k;
  bool ta, tb;
  const float *a, *b;
  float *c;
} shape_args;

/* Leading dimensions of the stored operands (row-major). */
static int64_t ld_a(const shape_args *s) { return s->ta ? s->m : s->k; }
static int64_t ld_b(const shape_args *s) { return s->tb ? s->k : s->n; }

/* ---- the libraries */
typedef void (*cblas_sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                               const float *, int, float, float *, int);
typedef void (*bli_sgemm_fn)(int, int, int64_t, int64_t, int64_t, const float *, const float *,
                             int64_t, int64_t, const float *, int64_t, int64_t, const float *,
                             float *, int64_t, int64_t);
typedef int (*dnnl_sgemm_fn)(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t,
                             const float *, int64_t, float, float *, int64_t);

static cblas_sgemm_fn openblas_sgemm;
static void (*openblas_threads)(int);
static bli_sgemm_fn blis_sgemm;
static void (*blis_threads)(int64_t);
static dnnl_sgemm_fn dnnl_sgemm;

static void *sym(void *h, const char *name) { return h ? dlsym(h, name) : NULL; }

static void load_libraries(FILE *info) {
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv("OPENBLAS_L2_SIZE");
  void *ob = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  openblas_sgemm = (cblas_sgemm_fn)sym(ob, "cblas_sgemm");
  openblas_threads = (void (*)(int))sym(ob, "openblas_set_num_threads");
  char *(*config)(void) = (char *(*)(void))sym(ob, "openblas_get_config");
  char *(*core)(void) = (char *(*)(void))sym(ob, "openblas_get_corename");
  if (openblas_sgemm)
    fprintf(info, "OpenBLAS: %s, kernel %s\n", config ? config() : "?", core ? core() : "?");
  else
    fprintf(info, "OpenBLAS: not found (apt-get install libopenblas-dev)\n");

#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))
    setenv("BLIS_ARCH_TYPE", "0", 0);
#endif
  void *bl = dlopen("libblis.so.4", RTLD_NOW | RTLD_LOCAL);
  void (*blis_init)(void) = (void (*)(void))sym(bl, "bli_init");
  if (blis_init) blis_init(); /* before any query: BLIS 0.9 aborts on a forced arch otherwise */
  blis_sgemm = (bli_sgemm_fn)sym(bl, "bli_sgemm");
  blis_threads = (void (*)(int64_t))sym(bl, "bli_thread_set_num_threads");
  int (*arch_id)(void) = (int (*)(void))sym(bl, "bli_arch_query_id");
  const char *(*arch_str)(int) = (const char *(*)(int))sym(bl, "bli_arch_string");
  if (blis_sgemm)
    fprintf(info, "BLIS: arch %s (BLIS_ARCH_TYPE=%s)\n",
            arch_id && arch_str ? arch_str(arch_id()) : "?",
            getenv("BLIS_ARCH_TYPE") ? getenv("BLIS_ARCH_TYPE") : "unset");
  else
    fprintf(info, "BLIS: not found (apt-get install libblis-dev)\n");

  void *dn = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
  dnnl_sgemm = (dnnl_sgemm_fn)sym(dn, "dnnl_sgemm");
  fprintf(info, "oneDNN: %s\n", dnnl_sgemm ? "dnnl_sgemm" : "not found (apt-get install libdnnl-dev)");
}

static void run_loom(void *p) {
  shape_args *s = p;
  loom_sgemm(s->ta, s->tb, s->m, s->n, s->k, 1.0f, s->a, ld_a(s), s->b, ld_b(s), 0.0f, s->c, s->n);
}
static void run_openblas(void *p) {
  shape_args *s = p; /* CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 */
  openblas_sgemm(101, s->ta ? 112 : 111, s->tb ? 112 : 111, (int)s->m, (int)s->n, (int)s->k, 1.0f,
                 s->a, (int)ld_a(s), s->b, (int)ld_b(s), 0.0f, s->c, (int)s->n);
}
static void run_blis(void *p) {
  shape_args *s = p;
  const float one = 1.0f, zero = 0.0f; /* no transpose flags: a transpose is swapped strides */
  blis_sgemm(0, 0, s->m, s->n, s->k, &one, s->a, s->ta ? 1 : ld_a(s), s->ta ? ld_a(s) : 1, s->b,
             s->tb ? 1 : ld_b(s), s->tb ? ld_b(s) : 1, &zero, s->c, s->n, 1);
}
static void run_dnnl(void *p) {
  shape_args *s = p;
  dnnl_sgemm(s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->m, s->n, s->k, 1.0f, s->a, ld_a(s), s->b,
             ld_b(s), 0.0f, s->c, s->n);
}

/* Runs fn on a 32x32x32 product in a forked child; false (and says why) if it died. */
static bool survives(const char *lib, void (*fn)(void *)) {
  static float a[32 * 32], b[32 * 32], c[32 * 32];
  shape_args s = {32, 32, 32, false, false, a, b, c};
  fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) return true; /* cannot tell: run it */
  if (pid == 0) {
    fn(&s);
    _exit(0);
  }
  int st = 0;
  if (waitpid(pid, &st, 0) < 0) return true;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return true;
  if (WIFSIGNALED(st))
    printf("%s: killed by signal %d (%s) on this CPU; skipped\n", lib, WTERMSIG(st), strsignal(WTERMSIG(st)));
  else
    printf("%s: exited with status %d in a trial product; skipped\n", lib, WEXITSTATUS(st));
  return false;
}

static void set_threads(int t) {
  loom_set_num_threads(t);
  omp_set_num_threads(t); /* oneDNN runs on this process's OpenMP */
  if (openblas_threads) openblas_threads(t);
  if (blis_threads) blis_threads(t);
}

/* Square sizes and the deep-learning shapes of the seed models (M x N x K). */
static const int64_t shapes[][3] = {
    {64, 64, 64},       {128, 128, 128},   {256, 256, 256},    {512, 512, 512},
    {1024, 1024, 1024}, {2048, 2048, 2048}, {128, 128, 64},    {128, 32, 64},
    {128, 500, 48},     {128, 128, 96},     {128, 64, 48},     {128, 128, 32},
    {12800, 128, 64},   {6144, 128, 1280},  {6144, 256, 1280}, {6144, 1280, 128},
    {128, 1280, 6144},
};

int main(int argc, char **argv) {
  const char *json = NULL, *filter = NULL, *thread_list = "1,2", *lib_list = "loom,openblas,blis,onednn";
  const char *trans = "NN";
  bench_opts opts = {.reps = 7};
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) opts.reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) thread_list = argv[++i];
    else if (!strcmp(argv[i], "--libs") && i + 1 < argc) lib_list = argv[++i];
    else if (!strcmp(argv[i], "--trans") && i + 1 < argc) trans = argv[++i];
    else if (!strcmp(argv[i], "--quick")) opts = (bench_opts){.warmup = 1, .reps = 3, .min_rep_s = 0.005};
    else {
      fprintf(stderr, "usage: %s [--json FILE] [--reps N] [--threads 1,2] [--libs LIST] [--trans NN|TN|NT|TT] [--filter TEXT] [--quick]\n",
              argv[0]);
      return 2;
    }
  }
  if (opts.reps < 1) opts.reps = 7;
  load_libraries(stdout);
  /* --libs: which of them run (a spinning idle OpenBLAS thread pool, say, takes a core
   * from whoever runs next, so scaling is best measured alone) */
  if (!strstr(lib_list, "openblas")) openblas_sgemm = NULL;
  if (!strstr(lib_list, "blis")) blis_sgemm = NULL;
  if (!strstr(lib_list, "onednn")) dnnl_sgemm = NULL;
  if (openblas_sgemm && !survives("OpenBLAS", run_openblas)) openblas_sgemm = NULL;
  if (blis_sgemm && !survives("BLIS", run_blis)) blis_sgemm = NULL;
  if (dnnl_sgemm && !survives("oneDNN", run_dnnl)) dnnl_sgemm = NULL;
  const char *target = loom_simd_target();
  const int bits = peak_bits_of(target);
  printf("loom %s: SIMD %s; peak is measured with %d-bit FMA chains\n", loom_version(), target, bits);

  bench_report report = {.suite = "sgemm"};
  int threads[8], nthreads = 0;
  for (const char *p = thread_list; *p && nthreads < 8; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
    threads[nthreads++] = atoi(p);

  const size_t maxf = 6144 * 1280 + 16; /* the largest operand of any shape */
  float *a = malloc(maxf * sizeof *a), *b = malloc(maxf * sizeof *b), *c = malloc(4 * maxf * sizeof *c);
  for (size_t i = 0; i < maxf; ++i) {
    a[i] = (float)((i * 2654435761u) % 2000) / 1000.0f - 1.0f;
    b[i] = (float)((i * 40503u) % 1000) / 1000.0f - 0.5f;
  }
  memset(c, 0, 4 * maxf * sizeof *c);

  for (int ti = 0; ti < nthreads; ++ti) {
    const int t = threads[ti];
    if (t < 1) continue;
    set_threads(t);
    /* With threads, every library's idle pool spins for a while after a call (OpenBLAS
     * for ~2^28 cycles) and would take a core from the next one: let it fall asleep. */
    bench_opts topts = opts;
    topts.settle_s = t > 1 ? 0.1 : 0.0;
    const double peak = peak_fma_gflops(bits, t);
    /* The others run their widest kernels: their share is of the widest peak. When loom
     * is held to a narrower target (LOOM_SIMD=avx2), the fair figure is share vs share. */
    const int wide_bits = peak_supported(512) ? 512 : bits;
    const double wide_peak = wide_bits == bits ? peak : peak_fma_gflops(wide_bits, t);
    printf("\n%d thread%s: measured FMA peak %.1f GFLOP/s (%d-bit)", t, t > 1 ? "s" : "", peak, bits);
    if (wide_bits != bits) printf(", %.1f GFLOP/s (%d-bit, the others' kernels)", wide_peak, wide_bits);
    printf("\n%-16s %9s %9s %9s %9s   %-8s %6s %6s %s\n", "M x N x K", "loom", "OpenBLAS", "BLIS",
           "oneDNN", "best", "loom%", "best%", "loom/best (time; share)");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
      shape_args sa = {shapes[s][0], shapes[s][1], shapes[s][2], trans[0] == 'T', trans[1] == 'T', a, b, c};
      char tag[64];
      snprintf(tag, sizeof tag, "%lldx%lldx%lld%s%s", (long long)sa.m, (long long)sa.n, (long long)sa.k,
               strcmp(trans, "NN") ? "/" : "", strcmp(trans, "NN") ? trans : "");
      if (filter && !strstr(tag, filter)) continue;
      const char *libs[4] = {"loom", "openblas", "blis", "onednn"};
      bench_fn fns[4] = {run_loom, run_openblas, run_blis, run_dnnl};
      const int have[4] = {1, openblas_sgemm != NULL, blis_sgemm != NULL, dnnl_sgemm != NULL};
      char names[4][96];
      const char *use_names[4];
      bench_fn use_fns[4];
      void *use_args[4];
      int idx[4], count = 0;
      for (int l = 0; l < 4; ++l) {
        if (!have[l]) continue;
        snprintf(names[l], sizeof names[l], "sgemm/%s/t%d/%s", tag, t, libs[l]);
        use_names[count] = names[l];
        use_fns[count] = fns[l];
        use_args[count] = &sa;
        idx[count++] = l;
      }
      bench_result r[4], by_lib[4] = {0};
      bench_run_interleaved(count, use_names, use_fns, use_args, 2.0 * sa.m * sa.n * sa.k,
                            "GFLOP/s", &topts, r);
      for (int i = 0; i < count; ++i) by_lib[idx[i]] = r[i];
      int best = -1;
      for (int l = 1; l < 4; ++l)
        if (have[l] && (best < 0 || by_lib[l].median_s < by_lib[best].median_s)) best = l;
      if (best >= 0) snprintf(by_lib[0].baseline, sizeof by_lib[0].baseline, "%s", by_lib[best].name);
      printf("%-16s", tag);
      for (int l = 0; l < 4; ++l) {
        if (have[l]) printf(" %9.1f", bench_rate(&by_lib[l]));
        else printf(" %9s", "-");
      }
      const double share = bench_rate(&by_lib[0]) / peak;
      if (best >= 0) {
        const double best_share = bench_rate(&by_lib[best]) / wide_peak;
        printf("   %-8s %5.1f%% %5.1f%% %.3f; %.3f\n", libs[best], 100.0 * share, 100.0 * best_share,
               by_lib[best].median_s / by_lib[0].median_s, share / best_share);
      } else {
        printf("   %-8s %5.1f%%\n", "-", 100.0 * share);
      }
      for (int l = 0; l < 4; ++l)
        if (have[l]) bench_add(&report, by_lib[l]);
    }
    bench_result pr = {.median_s = 1.0, .min_s = 1.0, .max_s = 1.0, .reps = 3, .calls_per_rep = 1,
                       .work = peak * 1e9, .unit = "GFLOP/s"};
    snprintf(pr.name, sizeof pr.name, "peak/fma%d/t%d", bits, t);
    bench_add(&report, pr);
  }
  free(a);
  free(b);
  free(c);
  return bench_finish(&report, json);
}
