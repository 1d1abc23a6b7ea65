/* optimizer.h - the optimisers by Keras' name, with the names of their state slots
 * (internal). */
#ifndef LOOM_LIB_TRAIN_OPTIMIZER_H
#define LOOM_LIB_TRAIN_OPTIMIZER_H

#include "loom.h"

/* "rmsprop", "sgd", "adam"; NULL for a kind loom lacks. */
const char *lm_optimizer_name(loom_optimizer_kind k);
/* The kind of a Keras name (case-insensitive, as keras.optimizers.get takes it), or -1. */
int lm_optimizer_from_name(const char *name);
/* The name of state slot `which` (0, 1) as saved (optimizer/<weight>/<slot>): RMSprop
 * "rms", SGD "momentum", Adam "m" and "v"; NULL when the kind has no such slot. */
const char *lm_optimizer_slot(loom_optimizer_kind k, int which);

#endif
