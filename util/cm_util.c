/*
 * The shared helpers declared in cm_util.h. The error line lives in thread-local storage so
 * that worker threads never overwrite each other's messages.
 */
#include "cm_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char err_line[1024];

int cm_set_errorv(const char *fmt, va_list ap) {
  vsnprintf(err_line, sizeof err_line, fmt, ap);
  /* Keep the error to one line whatever the message contained. */
  for (char *c = err_line; *c; c++)
    if (*c == '\n' || *c == '\r') *c = ' ';
  return -1;
}

int cm_set_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cm_set_errorv(fmt, ap);
  va_end(ap);
  return -1;
}

int cm_prefix_error(const char *fmt, ...) {
  char prefix[512], old[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  snprintf(old, sizeof old, "%s", err_line);
  /* a layer below often names the same file already: "F: F: disk full" reads like two faults */
  size_t n = strlen(prefix);
  if (n && strncmp(old, prefix, n) == 0) return -1;
  return cm_set_error("%s: %s", prefix, old);
}

const char *cm_error(void) { return err_line[0] ? err_line : "unknown error"; }

int cm_fail(int code, const char *cmd, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  for (char *c = line; *c; c++)
    if (*c == '\n') *c = ' ';
  fprintf(stderr, "cmact %s: %s\n", cmd, line);
  return code;
}

int cm_fail_error(const char *cmd) { return cm_fail(CM_EXIT_FAIL, cmd, "%s", cm_error()); }

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
int64_t cm_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }
int64_t cm_monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
double cm_cpu_seconds(void) { return (double)clock_ns(CLOCK_PROCESS_CPUTIME_ID) * 1e-9; }

long cm_peak_rss_kib(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return ru.ru_maxrss;
}

static void oom(size_t n) {
  fprintf(stderr, "cmact: out of memory (asked for %zu bytes)\n", n);
  abort();
}
void *cm_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) oom(n);
  return p;
}
void *cm_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) oom(n * size);
  return p;
}
void *cm_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) oom(n);
  return q;
}
char *cm_xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = cm_xmalloc(n);
  memcpy(d, s, n);
  return d;
}

int cm_parse_double(const char *s, const char *what, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (!*s || *end || errno) return cm_set_error("%s: '%s' is not a number", what, s);
  *out = v;
  return 0;
}

int cm_parse_long(const char *s, const char *what, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno) return cm_set_error("%s: '%s' is not an integer", what, s);
  *out = v;
  return 0;
}

void cm_progress_begin(cm_progress *p, const char *what, int64_t total) {
  memset(p, 0, sizeof *p);
  p->what = what;
  p->total = total;
  p->t_start_ns = cm_monotonic_ns();
  const char *env = getenv("CMACT_PROGRESS");
  p->enabled = env ? atoi(env) != 0 : isatty(2);
}

static void progress_draw(cm_progress *p, int64_t now) {
  double el = (now - p->t_start_ns) * 1e-9;
  if (p->total > 0) {
    double f = (double)p->done / (double)p->total;
    int bar = (int)(f * 30);
    char b[31];
    for (int i = 0; i < 30; i++) b[i] = i < bar ? '#' : '.';
    b[30] = 0;
    double left = f > 0 ? el / f - el : 0;
    fprintf(stderr, "\r%s [%s] %lld/%lld  %.0fs elapsed, ~%.0fs left  ", p->what, b,
            (long long)p->done, (long long)p->total, el, left);
  } else {
    fprintf(stderr, "\r%s %lld  %.0fs elapsed  ", p->what, (long long)p->done, el);
  }
  fflush(stderr);
}

void cm_progress_step(cm_progress *p, int64_t done) {
  p->done = done;
  if (!p->enabled) return;
  int64_t now = cm_monotonic_ns();
  if (now - p->t_last_ns < 100000000LL && done != p->total) return;
  p->t_last_ns = now;
  progress_draw(p, now);
}

void cm_progress_end(cm_progress *p) {
  if (!p->enabled) return;
  progress_draw(p, cm_monotonic_ns());
  fputc('\n', stderr);
}

int cm_write_file_atomic(const char *path, const void *data, size_t n) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) return cm_set_error("%s: cannot create: %s", tmp, strerror(errno));
  if (fwrite(data, 1, n, f) != n || fflush(f) != 0 || fsync(fileno(f)) != 0) {
    int e = errno;
    fclose(f);
    unlink(tmp);
    return cm_set_error("%s: cannot write: %s", path, strerror(e));
  }
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return cm_set_error("%s: cannot write: %s", path, strerror(e));
  }
  return 0;
}
