/*
 * cm_util: the few things every stage of cmact shares.
 *
 * Errors: every library function in cmact reports failure by its return value (-1 or NULL)
 * and leaves one human-readable line in a thread-local buffer, read back with cm_error().
 * The line names the file or argument at fault; the command that called it prints it and
 * picks the exit code. That is libsndfile's "one error string", made thread-safe so that the
 * sync and experiment thread pools can report independently.
 *
 * Exit codes of every subcommand: CM_EXIT_OK, CM_EXIT_FAIL (a failure at run time),
 * CM_EXIT_USAGE (the command line is wrong).
 */
#ifndef CM_UTIL_H
#define CM_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { CM_EXIT_OK = 0, CM_EXIT_FAIL = 1, CM_EXIT_USAGE = 2 };

/* Set the thread's error line (printf-style). Always returns -1 so callers can
 * `return cm_set_error(...)`. */
int cm_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cm_set_errorv(const char *fmt, va_list ap);
/* Prefix the current error line with "what: " (for adding the file name at a higher level). */
int cm_prefix_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *cm_error(void);

/* Print "cmact CMD: message" to stderr and return the exit code given. */
int cm_fail(int code, const char *cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print "cmact CMD: <cm_error()>" and return CM_EXIT_FAIL. */
int cm_fail_error(const char *cmd);

/* Times. */
int64_t cm_realtime_ns(void);  /* CLOCK_REALTIME */
int64_t cm_monotonic_ns(void); /* CLOCK_MONOTONIC */
double cm_cpu_seconds(void);   /* process CPU time */
long cm_peak_rss_kib(void);    /* VmHWM of this process */

/* Allocation that cannot fail silently: aborts with a message on out-of-memory. */
void *cm_xmalloc(size_t n);
void *cm_xcalloc(size_t n, size_t size);
void *cm_xrealloc(void *p, size_t n);
char *cm_xstrdup(const char *s);

/* Parsing command-line numbers: -1 and an error line naming `what` on garbage. */
int cm_parse_double(const char *s, const char *what, double *out);
int cm_parse_long(const char *s, const char *what, long *out);

/* A progress line on stderr, redrawn at most 10 times a second, only when stderr is a terminal
 * (or CMACT_PROGRESS=1). */
typedef struct cm_progress {
  const char *what;
  int64_t total;
  int64_t done;
  int64_t t_start_ns;
  int64_t t_last_ns;
  int enabled;
} cm_progress;
void cm_progress_begin(cm_progress *p, const char *what, int64_t total);
void cm_progress_step(cm_progress *p, int64_t done);
void cm_progress_end(cm_progress *p);

/* Write a whole file atomically: data goes to PATH.tmp.<pid>, which is renamed over PATH only
 * when complete. Returns 0 or -1 with the error line set. */
int cm_write_file_atomic(const char *path, const void *data, size_t n);

#endif
