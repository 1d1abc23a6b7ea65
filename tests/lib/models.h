/* models.h - the example programs' models, built by the examples' own code. */
#ifndef LOOM_TESTS_MODELS_H
#define LOOM_TESTS_MODELS_H

#include "loom.h"

loom_model *build_qa_model(loom_graph *g);
loom_model *build_multi_output_model(loom_graph *g, int embedding_width);
int compile_multi_output_model(loom_model *m);
loom_model *build_residual_model(loom_graph *g);
loom_model *build_siamese_model(loom_graph *g);
loom_model *build_mlp_model(loom_graph *g);

typedef struct posts_data {
  loom_tensor *posts, *age, *income, *gender;
} posts_data;
posts_data make_posts(loom_arena *a, int64_t samples, int64_t length, uint64_t seed);
void make_images(loom_arena *a, int64_t n, uint64_t seed, loom_tensor **images, loom_tensor **labels);
void make_pairs(loom_arena *a, int64_t n, int64_t steps, uint64_t seed, loom_tensor **left,
                loom_tensor **right, loom_tensor **targets);
void make_blobs(loom_arena *a, int64_t n, uint64_t seed, loom_tensor **x, loom_tensor **y);

/* m saved to a temporary file and loaded back (its own graph), or NULL with
 * loom_last_error(). */
loom_model *saved_and_loaded(loom_model *m);

/* summary() into a string (caller frees). */
char *summary_text(const loom_model *m);

#endif
