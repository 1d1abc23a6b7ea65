/* error.h - the error record shared by every floor (internal).
 * lm_error formats a message, keeps it as the calling thread's last error and returns
 * the status, so a failing call is `return lm_error(LOOM_EINVAL, "loom_x", "...")`. */
#ifndef LOOM_SIMD_ERROR_H
#define LOOM_SIMD_ERROR_H

#include <stdarg.h>

#include "loom.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LM_ERRMSG_CAP 512

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int lm_error(int status, const char *where, const char *fmt, ...);
int lm_verror(int status, const char *where, const char *fmt, va_list ap);

/* Copy the calling thread's last error into an object's own buffer. */
void lm_error_copy(char *dst, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
