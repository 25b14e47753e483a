/*
 * libFuzzer target: mutated bytes as the text inputs of `cmact import` that a user points at
 * files they did not write: an IMU CSV log (plain; zlib reads it through the same gz path as
 * a gzip log), read with the CMActivity column layout and with named columns; and the same
 * bytes as an ISO 8601 time (sidecar, creation_time tags) and a column spec. A clean error
 * line is the expected outcome for garbage; any crash or sanitizer report is a finding.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("csv", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  imp_columns c;
  imp_columns_cmactivity(&c);
  imp_table t = {0}, g = {0};
  if (imp_table_load(&t, path, &c, 1000000LL) == 0) {
    imp_table_sort(&t);
    if (t.n) {
      float *x;
      int64_t *tt;
      imp_merge_stats st;
      if (imp_merge_span(&t, &t, t.t_ns[0], t.t_ns[t.n - 1] + 1, &x, &tt, &st) == 0) {
        free(x);
        free(tt);
      }
    }
  }
  if (imp_columns_parse(&c, "t=time,x=ax,y=ay,z=az") == 0) imp_table_load(&g, path, &c, 1000LL);
  imp_table_free(&t);
  imp_table_free(&g);
  close(fd);
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = 0;
  int64_t v;
  int zone;
  imp_parse_iso8601_ns(s, &v, &zone);
  imp_parse_time_ns(s, s + strlen(s), 1000000LL, &v);
  imp_columns_parse(&c, s);
  free(s);
  return 0;
}
