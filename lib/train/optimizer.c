/* optimizer.c - the optimisers' names and state slots. */
#include <strings.h>

#include "lib/train/optimizer.h"

static const struct {
  const char *name, *slot[2];
} kinds[] = {
    [LOOM_RMSPROP] = {"rmsprop", {"rms", NULL}},
    [LOOM_SGD] = {"sgd", {"momentum", NULL}},
    [LOOM_ADAM] = {"adam", {"m", "v"}},
};
_Static_assert(sizeof kinds / sizeof kinds[0] == LOOM_ADAM + 1, "one entry per optimizer kind");

const char *lm_optimizer_name(loom_optimizer_kind k) {
  return (unsigned)k <= LOOM_ADAM ? kinds[k].name : NULL;
}

int lm_optimizer_from_name(const char *name) {
  for (int k = 0; name && k <= LOOM_ADAM; ++k)
    if (!strcasecmp(name, kinds[k].name)) return k;
  return -1;
}

const char *lm_optimizer_slot(loom_optimizer_kind k, int which) {
  return (unsigned)k <= LOOM_ADAM && (unsigned)which < 2 ? kinds[k].slot[which] : NULL;
}
