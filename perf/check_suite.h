/* check_suite.h - the benchmarks `make perf-check` compares between two revisions, on
 * three floors: kernel/ (SGEMM shapes, elementwise, softmax), op/ (LSTM, Conv1D, Conv2D
 * forward and forward+backward), model/ (train and predict of the notebook's models).
 *
 * Adding one is one entry in check_suite[] (check_suite.c): a name "floor/what", a
 * setup that makes its data from `arg` (NULL on failure, with a message on stderr), the
 * function to time, and a teardown. */
#ifndef LOOM_PERF_CHECK_SUITE_H
#define LOOM_PERF_CHECK_SUITE_H

typedef struct check_bench {
  const char *name;
  void *(*setup)(const void *arg);
  void (*run)(void *state);
  void (*teardown)(void *state);
  const void *arg;
} check_bench;

extern const check_bench check_suite[];
extern const int check_suite_count;

#endif
