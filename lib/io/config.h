/* config.h - a model's architecture as JSON and back (internal): the layers with their
 * options, the calls that join them (nested models included), inputs, outputs, and the
 * compile settings. Reading trusts nothing: every field is checked for type and range,
 * and every error names the field. */
#ifndef LOOM_LIB_CONFIG_H
#define LOOM_LIB_CONFIG_H

#include <cjson/cJSON.h>

#include "lib/graph/model.h"

/* The model's config as a JSON string (cJSON_free it), or NULL (graph error set). */
char *lm_config_write(loom_model *m);
/* A new graph holding the model described by config (a parsed JSON object); NULL with
 * the thread's error naming `where` and the field. param_limit caps the bytes the new
 * graph's weights may take (what the file can fill), so that a hostile config cannot
 * make it allocate more. */
loom_model *lm_config_read(const cJSON *config, const char *where, size_t param_limit);

#endif
