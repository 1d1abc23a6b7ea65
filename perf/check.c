/* check.c - perf-check: one build against another, benchmark by benchmark, interleaved.
 *
 *   perf-check --base BIN --current BIN [--base-rev R] [--current-rev R] [--pairs N]
 *              [--threshold F] [--min-time SECS] [--threads N] [--cpus LIST|none]
 *              [--only NAME,NAME...] [--slow NAME=FRACTION] [--json FILE] [--html FILE]
 *
 * BIN is a check-bench program (check_bench.c) of each build, run as a server pinned to
 * the same CPUs for either build. For each benchmark the current build calibrates the
 * calls per repetition (>= --min-time, 0.05 s); then N pairs (7) are timed back to back,
 * A B, then B A, alternately, so that drift falls on both sides of a pair; each side of
 * a pair is a fresh process timing one repetition after a warm-up one. For each
 * benchmark: the median of the pairwise ratios current/base, the sign-test interval of
 * that median and a bootstrap interval (perf/stats.h), and a verdict. A benchmark whose
 * interval lies wholly above 1 + threshold (0.05) is a regression: the program names it
 * and exits 1 (0: none; 2: it could not run). --slow passes LOOM_PERF_CHECK_SLOW to the
 * current build only (the smoke test's deliberately slowed build). */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "perf/bench.h"
#include "perf/stats.h"

#define MAX_BENCH 256
#define MAX_PAIRS 1024

typedef struct side {
  const char *bin, *rev, *label;
  pid_t pid;
  FILE *to, *from;
  char info[256];
  int n_names;
  char names[MAX_BENCH][128];
} side;

typedef struct outcome {
  char name[128];
  const char *error; /* NULL when measured */
  char message[256];
  long calls;
  int n;
  double a[MAX_PAIRS], b[MAX_PAIRS];
  bool b_first[MAX_PAIRS];
  stats_result s;
} outcome;

static cpu_set_t pin;
static bool pinned;

static bool start(side *s, const char *threads, const char *slow) {
  int in[2], out[2];
  if (pipe(in) || pipe(out)) return false;
  s->pid = fork();
  if (s->pid < 0) return false;
  if (s->pid == 0) {
    dup2(in[0], 0), dup2(out[1], 1);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    if (pinned && sched_setaffinity(0, sizeof pin, &pin)) perror("perf-check: sched_setaffinity");
    if (slow) setenv("LOOM_PERF_CHECK_SLOW", slow, 1);
    else unsetenv("LOOM_PERF_CHECK_SLOW");
    execl(s->bin, s->bin, "--serve", "--threads", threads, (char *)NULL);
    fprintf(stderr, "perf-check: cannot run %s: %s\n", s->bin, strerror(errno));
    _exit(127);
  }
  close(in[0]), close(out[1]);
  s->to = fdopen(in[1], "w"), s->from = fdopen(out[0], "r");
  return s->to && s->from;
}

/* Send one request, read its one-line answer into ans; false on a dead server. */
static bool ask(side *s, char *ans, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(s->to, fmt, ap);
  va_end(ap);
  fputc('\n', s->to);
  fflush(s->to);
  if (!fgets(ans, (int)cap, s->from)) {
    snprintf(ans, cap, "error the %s build's check-bench stopped answering", s->label);
    return false;
  }
  ans[strcspn(ans, "\n")] = '\0';
  return strncmp(ans, "error", 5) != 0;
}

static void stop(side *s) {
  if (s->to) fputs("quit\n", s->to), fclose(s->to);
  if (s->from) fclose(s->from);
  if (s->pid > 0) waitpid(s->pid, NULL, 0);
  s->to = s->from = NULL, s->pid = 0;
}

static bool list(side *s) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "'%s' --list", s->bin);
  FILE *p = popen(cmd, "r");
  if (!p) return false;
  char line[sizeof s->names[0]];
  while (s->n_names < MAX_BENCH && fgets(line, sizeof line, p)) {
    line[strcspn(line, "\n")] = '\0';
    snprintf(s->names[s->n_names++], sizeof s->names[0], "%s", line);
  }
  return pclose(p) == 0 && s->n_names > 0;
}

static bool has(const side *s, const char *name) {
  for (int i = 0; i < s->n_names; ++i)
    if (!strcmp(s->names[i], name)) return true;
  return false;
}

static bool wanted(const char *only, const char *name) {
  if (!only || !*only) return true;
  const size_t n = strlen(name);
  for (const char *p = only; *p;) {
    const size_t len = strcspn(p, ",");
    if (len == n && !strncmp(p, name, n)) return true;
    p += len + (p[len] == ',');
  }
  return false;
}

static bool parse_cpus(const char *spec, int threads) {
  CPU_ZERO(&pin);
  if (spec && !strcmp(spec, "none")) return pinned = false, true;
  if (!spec) { /* the first `threads` CPUs this process may use */
    cpu_set_t mine;
    if (sched_getaffinity(0, sizeof mine, &mine)) return false;
    for (int c = 0, got = 0; c < CPU_SETSIZE && got < threads; ++c)
      if (CPU_ISSET(c, &mine)) CPU_SET(c, &pin), ++got;
    return pinned = true, true;
  }
  for (const char *p = spec; *p;) {
    char *end;
    const long lo = strtol(p, &end, 10), hi = *end == '-' ? strtol(end + 1, &end, 10) : lo;
    if (end == p || lo < 0 || hi < lo || hi >= CPU_SETSIZE || (*end && *end != ',')) return false;
    for (long c = lo; c <= hi; ++c) CPU_SET((int)c, &pin);
    p = end + (*end == ',');
  }
  return pinned = true, true;
}

/* One timed repetition of o->calls calls in a fresh server of side s (after a warm-up
 * repetition): a fresh process per measurement, so that what differs between two
 * processes of one build (where the heap and stack fall, hence cache-set conflicts) is
 * noise spread over the pairs rather than a bias of one side. */
static bool once(side *s, outcome *o, const char *threads, const char *slow, double *t) {
  char ans[256];
  bool ok = start(s, threads, slow) && ask(s, ans, sizeof ans, "run %s %ld", o->name, o->calls) &&
            ask(s, ans, sizeof ans, "run %s %ld", o->name, o->calls);
  if (ok) *t = atof(ans);
  else snprintf(o->message, sizeof o->message, "%s", strncmp(ans, "error ", 6) ? ans : ans + 6), o->error = s->label;
  stop(s);
  return ok;
}

static void measure(side *base, side *cur, outcome *o, int pairs, double min_time, double threshold,
                    const char *threads, const char *slow) {
  char ans[256];
  const bool ok = start(cur, threads, slow) && ask(cur, ans, sizeof ans, "calibrate %s %g", o->name, min_time);
  stop(cur);
  if (!ok) {
    snprintf(o->message, sizeof o->message, "%s", strncmp(ans, "error ", 6) ? ans : ans + 6), o->error = "current";
    return;
  }
  o->calls = atol(ans);
  for (int i = 0; i < pairs; ++i) {
    o->b_first[i] = i % 2 == 1;
    if (o->b_first[i] ? !once(cur, o, threads, slow, &o->b[i]) || !once(base, o, threads, NULL, &o->a[i])
                      : !once(base, o, threads, NULL, &o->a[i]) || !once(cur, o, threads, slow, &o->b[i]))
      return;
  }
  o->n = pairs;
  o->s = stats_compare(o->a, o->b, pairs, threshold, 0.95, 12345);
}

static const char *colour(stats_verdict v) {
  return v == STATS_REGRESSION ? "#c62828" : v == STATS_SLOWER ? "#ef6c00" : v == STATS_FASTER ? "#2e7d32" : "#555";
}

/* One row per benchmark: the ratio axis (log scale) with 1 and 1 + threshold marked,
 * the interval as a bar and the median as a dot, coloured by verdict. */
static int write_html(const char *path, const outcome *o, int n, const side *base, const side *cur,
                      double threshold) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  double lo = 1.0 / (1.0 + 3 * threshold), hi = 1.0 + 3 * threshold;
  for (int i = 0; i < n; ++i)
    if (!o[i].error && o[i].n) lo = fmin(lo, o[i].s.lo), hi = fmax(hi, o[i].s.hi);
  lo /= 1.02, hi *= 1.02;
  const int row = 22, left = 300, width = 560, top = 40, h = top + row * n + 40;
#define X(r) (left + width * (log(r) - log(lo)) / (log(hi) - log(lo)))
  fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>loom perf-check</title></head>\n"
             "<body style=\"font-family: sans-serif\">\n<h3>loom perf-check: %s (current) / %s (base)</h3>\n"
             "<p>Median of the pairwise time ratios current/base per benchmark, with its sign-test interval; "
             "right of 1 is slower. Threshold %.0f%%. Current: %s. Base: %s.</p>\n",
          cur->rev, base->rev, 100 * threshold, cur->info, base->info);
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-size=\"12\">\n",
          left + width + 170, h);
  const double marks[] = {1.0, 1.0 + threshold, 1.0 / (1.0 + threshold)};
  for (int k = 0; k < 3; ++k)
    fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-dasharray=\"%s\"/>\n"
               "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.2f</text>\n",
            X(marks[k]), top - 10, X(marks[k]), top + row * n, k ? "#c62828" : "#000", k ? "4 3" : "none",
            X(marks[k]), top - 14, marks[k]);
  for (int i = 0; i < n; ++i) {
    const int y = top + row * i + row / 2;
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 10, y + 4, o[i].name);
    if (o[i].error || !o[i].n) {
      fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#c62828\">%s</text>\n", left, y + 4,
              o[i].error ? o[i].message : "not in the base build");
      continue;
    }
    const char *c = colour(o[i].s.verdict);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"4\"/>\n"
               "<circle cx=\"%.1f\" cy=\"%d\" r=\"5\" fill=\"%s\"/>\n"
               "<text x=\"%d\" y=\"%d\" fill=\"%s\">%.3f [%.3f, %.3f] %s</text>\n",
            X(o[i].s.lo), y, X(o[i].s.hi), y, c, X(o[i].s.median), y, c, left + width + 10, y + 4, c,
            o[i].s.median, o[i].s.lo, o[i].s.hi, stats_verdict_name(o[i].s.verdict));
  }
#undef X
  fprintf(f, "</svg>\n</body></html>\n");
  return fclose(f) == 0 ? 0 : -1;
}

static void json_doubles(FILE *f, const char *key, const double *v, int n) {
  fprintf(f, ", \"%s\": [", key);
  for (int i = 0; i < n; ++i) fprintf(f, "%s%.9g", i ? ", " : "", v[i]);
  fputc(']', f);
}

static const char *field(const char *info, const char *key, char *buf, size_t cap) {
  const char *p = strstr(info, key);
  snprintf(buf, cap, "%s", p ? p + strlen(key) : "unknown");
  buf[strcspn(buf, " ")] = '\0';
  return buf;
}

static int write_json(const char *path, const outcome *o, int n, const side *base, const side *cur,
                      int pairs, double threshold, double min_time) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  char simd[64], threads[16];
  bench_json_begin(f, "perf-check", field(cur->info, "simd=", simd, sizeof simd),
                   atoi(field(cur->info, "threads=", threads, sizeof threads)), cur->rev);
  int last = -1;
  for (int i = 0; i < n; ++i)
    if (!o[i].error && o[i].n) last = i;
  for (int i = 0; i <= last; ++i) {
    if (o[i].error || !o[i].n) continue;
    double t[MAX_PAIRS];
    bench_result ra, rb;
    char nb[sizeof ra.name];
    snprintf(nb, sizeof nb, "%.80s@base", o[i].name);
    memcpy(t, o[i].a, sizeof(double) * (size_t)o[i].n);
    bench_summarise(&ra, nb, t, o[i].n, o[i].calls, 1.0, "call/s");
    memcpy(t, o[i].b, sizeof(double) * (size_t)o[i].n);
    bench_summarise(&rb, o[i].name, t, o[i].n, o[i].calls, 1.0, "call/s");
    snprintf(rb.baseline, sizeof rb.baseline, "%s", nb);
    bench_json_result(f, &ra, false);
    bench_json_result(f, &rb, i == last);
  }
  fprintf(f, "  ],\n  \"check\": {\"base\": ");
  bench_json_str(f, base->rev);
  fprintf(f, ", \"base_build\": ");
  bench_json_str(f, base->info);
  fprintf(f, ", \"current\": ");
  bench_json_str(f, cur->rev);
  fprintf(f, ", \"current_build\": ");
  bench_json_str(f, cur->info);
  fprintf(f, ", \"pairs\": %d, \"threshold\": %g, \"min_rep_s\": %g, \"confidence\": 0.95},\n"
             "  \"comparisons\": [\n", pairs, threshold, min_time);
  for (int i = 0; i < n; ++i) {
    fprintf(f, "    {\"name\": ");
    bench_json_str(f, o[i].name);
    if (o[i].error) {
      fprintf(f, ", \"error\": ");
      bench_json_str(f, o[i].message);
    } else if (!o[i].n) {
      fprintf(f, ", \"verdict\": \"new\"");
    } else {
      fprintf(f, ", \"calls_per_rep\": %ld", o[i].calls);
      json_doubles(f, "base_s", o[i].a, o[i].n);
      json_doubles(f, "current_s", o[i].b, o[i].n);
      fprintf(f, ", \"current_first\": [");
      for (int k = 0; k < o[i].n; ++k) fprintf(f, "%s%s", k ? ", " : "", o[i].b_first[k] ? "true" : "false");
      fprintf(f, "], \"median_ratio\": %.6g, \"interval\": [%.6g, %.6g], \"coverage\": %.6g, "
                 "\"bootstrap\": [%.6g, %.6g], \"verdict\": \"%s\"",
              o[i].s.median, o[i].s.lo, o[i].s.hi, o[i].s.coverage, o[i].s.boot_lo, o[i].s.boot_hi,
              o[i].s.verdict == STATS_REGRESSION ? "regression" : o[i].s.verdict == STATS_SLOWER ? "slower"
              : o[i].s.verdict == STATS_FASTER ? "faster" : "same");
    }
    fprintf(f, "}%s\n", i + 1 < n ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
  return fclose(f) == 0 ? 0 : -1;
}

static int usage(const char *argv0) {
  fprintf(stderr, "usage: %s --base BIN --current BIN [--base-rev R] [--current-rev R] [--pairs N] "
          "[--threshold F] [--min-time SECS] [--threads N] [--cpus LIST|none] [--only NAME,...] "
          "[--slow NAME=FRACTION] [--json FILE] [--html FILE]\n", argv0);
  return 2;
}

int main(int argc, char **argv) {
  side base = {.rev = "base", .label = "base"}, cur = {.rev = "current", .label = "current"};
  const char *json = NULL, *html = NULL, *only = NULL, *slow = NULL, *cpus = NULL, *threads = "1";
  int pairs = 7;
  double threshold = 0.05, min_time = 0.05;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return usage(argv[0]);
    ++i;
    if (!strcmp(a, "--base")) base.bin = v;
    else if (!strcmp(a, "--current")) cur.bin = v;
    else if (!strcmp(a, "--base-rev")) base.rev = v;
    else if (!strcmp(a, "--current-rev")) cur.rev = v;
    else if (!strcmp(a, "--pairs")) pairs = atoi(v);
    else if (!strcmp(a, "--threshold")) threshold = atof(v);
    else if (!strcmp(a, "--min-time")) min_time = atof(v);
    else if (!strcmp(a, "--threads")) threads = v;
    else if (!strcmp(a, "--cpus")) cpus = v;
    else if (!strcmp(a, "--only")) only = v;
    else if (!strcmp(a, "--slow")) slow = v;
    else if (!strcmp(a, "--json")) json = v;
    else if (!strcmp(a, "--html")) html = v;
    else return usage(argv[0]);
  }
  if (!base.bin || !cur.bin || pairs < 1 || pairs > MAX_PAIRS || !(threshold > 0) || !(min_time > 0) ||
      atoi(threads) < 1)
    return usage(argv[0]);
  if (pairs < 7) fprintf(stderr, "perf-check: %d pairs: the sign-test interval is then wider than 95%%\n", pairs);
  if (!parse_cpus(cpus, atoi(threads))) {
    fprintf(stderr, "perf-check: bad --cpus \"%s\" (e.g. 0, 0-3, 0,2 or none)\n", cpus);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (!list(&base) || !list(&cur)) {
    fprintf(stderr, "perf-check: cannot list the benchmarks of %s\n", base.n_names ? cur.bin : base.bin);
    return 2;
  }
  const bool up = start(&base, threads, NULL) && ask(&base, base.info, sizeof base.info, "info") &&
                  start(&cur, threads, slow) && ask(&cur, cur.info, sizeof cur.info, "info");
  stop(&base), stop(&cur);
  if (!up) {
    fprintf(stderr, "perf-check: cannot start the check-bench servers\n");
    return 2;
  }
  outcome *o = calloc(MAX_BENCH, sizeof *o);
  int n = 0;
  printf("perf-check: current %s [%s]\n            base    %s [%s]\n", cur.rev, cur.info, base.rev, base.info);
  printf("%d pairs per benchmark, interleaved (A B, B A, ...), each run a fresh process timing one repetition "
         "(>= %g s) after a warm-up one, threads %s, %s; "
         "fails on a ratio interval wholly above %.3f\n\n", pairs, min_time, threads,
         pinned ? "pinned" : "not pinned", 1.0 + threshold);
  printf("%-40s %12s %12s %8s  %-19s %s\n", "benchmark", "base", "current", "ratio", "95% interval", "verdict");
  int regressions = 0, errors = 0;
  for (int i = 0; i < cur.n_names; ++i) {
    if (!wanted(only, cur.names[i])) continue;
    outcome *r = &o[n++];
    memcpy(r->name, cur.names[i], sizeof r->name);
    if (!has(&base, r->name)) {
      printf("%-40s %12s %12s %8s  %-19s %s\n", r->name, "-", "-", "-", "-", "new (not in the base build)");
      continue;
    }
    measure(&base, &cur, r, pairs, min_time, threshold, threads, slow);
    if (r->error) {
      ++errors;
      printf("%-40s error in the %s build: %s\n", r->name, r->error, r->message);
      continue;
    }
    char iv[40];
    snprintf(iv, sizeof iv, "[%.3f, %.3f]", r->s.lo, r->s.hi);
    printf("%-40s %10.2fus %10.2fus %8.3f  %-19s %s\n", r->name, 1e6 * stats_median(r->a, r->n),
           1e6 * stats_median(r->b, r->n), r->s.median, iv, stats_verdict_name(r->s.verdict));
    fflush(stdout);
    regressions += r->s.verdict == STATS_REGRESSION;
  }
  if (!n) fprintf(stderr, "perf-check: no benchmark matches --only \"%s\"\n", only ? only : "");
  if (json && write_json(json, o, n, &base, &cur, pairs, threshold, min_time)) fprintf(stderr, "perf-check: cannot write %s\n", json);
  else if (json) printf("\nwrote %s\n", json);
  if (html && write_html(html, o, n, &base, &cur, threshold)) fprintf(stderr, "perf-check: cannot write %s\n", html);
  else if (html) printf("wrote %s\n", html);
  if (regressions) {
    printf("\nperf-check: FAILED: %d benchmark%s slower than base by more than %.0f%%:", regressions,
           regressions > 1 ? "s" : "", 100 * threshold);
    for (int i = 0; i < n; ++i)
      if (!o[i].error && o[i].n && o[i].s.verdict == STATS_REGRESSION)
        printf(" %s (%.3fx)", o[i].name, o[i].s.median);
    printf("\n");
  } else if (!errors && n) {
    printf("\nperf-check: passed: no benchmark slower than base by more than %.0f%%\n", 100 * threshold);
  }
  free(o);
  return regressions ? 1 : errors || !n ? 2 : 0;
}
