/* error.c - thread-local last error and status names. */
#include "simd/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[LM_ERRMSG_CAP];

/* Formatted into a local buffer first: the arguments may be the last error itself
 * (a caller passing loom_last_error() on with more context). */
int lm_verror(int status, const char *where, const char *fmt, va_list ap) {
  char msg[LM_ERRMSG_CAP];
  int len = snprintf(msg, sizeof msg, "%s: ", where ? where : "loom");
  if (len < 0) len = 0;
  if ((size_t)len < sizeof msg) vsnprintf(msg + len, sizeof msg - (size_t)len, fmt, ap);
  memcpy(last_error, msg, sizeof msg);
  return status;
}

int lm_error(int status, const char *where, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lm_verror(status, where, fmt, ap);
  va_end(ap);
  return status;
}

void lm_error_copy(char *dst, size_t cap) {
  if (!dst || cap == 0) return;
  snprintf(dst, cap, "%s", last_error);
}

const char *loom_last_error(void) { return last_error; }

const char *loom_status_name(int status) {
  switch (status) {
    case LOOM_OK: return "LOOM_OK";
    case LOOM_EINVAL: return "LOOM_EINVAL";
    case LOOM_ENOMEM: return "LOOM_ENOMEM";
    case LOOM_ESHAPE: return "LOOM_ESHAPE";
    case LOOM_EDTYPE: return "LOOM_EDTYPE";
    case LOOM_ESTATE: return "LOOM_ESTATE";
    case LOOM_EUNSUPPORTED: return "LOOM_EUNSUPPORTED";
    default: return "LOOM_E?";
  }
}

#define LM_STR_(x) #x
#define LM_STR(x) LM_STR_(x)
const char *loom_version(void) {
  return LM_STR(LOOM_VERSION_MAJOR) "." LM_STR(LOOM_VERSION_MINOR) "." LM_STR(LOOM_VERSION_PATCH);
}
