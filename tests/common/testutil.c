/* Test helpers; see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int tu_run(char *out, size_t cap, const char *fmt, ...) {
  char cmd[8192], full[9000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  snprintf(full, sizeof full, "CMACT='%s'; export CMACT; (%s) 2>&1", CMACT_BIN, cmd);
  FILE *p = popen(full, "r");
  if (!p) return -1;
  size_t n = 0;
  char buf[4096];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, p)) > 0) {
    if (out && n + 1 < cap) {
      size_t take = k < cap - 1 - n ? k : cap - 1 - n;
      memcpy(out + n, buf, take);
      n += take;
    }
  }
  if (out && cap) out[n] = 0;
  int st = pclose(p);
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

char *tu_mkdtemp(const char *tag) {
  const char *base = getenv("TMPDIR");
  if (!base) base = "/tmp";
  char *p = malloc(strlen(base) + strlen(tag) + 32);
  sprintf(p, "%s/cmact-%s-XXXXXX", base, tag);
  if (!mkdtemp(p)) {
    free(p);
    return NULL;
  }
  return p;
}

void tu_rmtree(const char *dir) {
  if (!dir || !*dir || strcmp(dir, "/") == 0) return;
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

const char *tu_path(const char *dir, const char *name) {
  static char bufs[8][4096];
  static int k;
  char *b = bufs[k++ % 8];
  snprintf(b, 4096, "%s/%s", dir, name);
  return b;
}

const char *tu_shared_dir(void) {
  struct stat st;
  if (stat(CMACT_SHARED, &st) == 0 && S_ISDIR(st.st_mode)) return CMACT_SHARED;
  return NULL;
}

int tu_file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

char *tu_read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)len + 1);
  if (fread(b, 1, (size_t)len, f) != (size_t)len) {
    fclose(f);
    free(b);
    return NULL;
  }
  fclose(f);
  b[len] = 0;
  if (n) *n = (size_t)len;
  return b;
}

int tu_files_equal(const char *a, const char *b) {
  size_t na, nb;
  char *x = tu_read_file(a, &na), *y = tu_read_file(b, &nb);
  int eq = x && y && na == nb && memcmp(x, y, na) == 0;
  free(x);
  free(y);
  return eq;
}
