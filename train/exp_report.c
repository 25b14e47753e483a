/* Writing the experiments' files: text (markdown, CSV) and JSON (cJSON), atomically. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "exp_report.h"

void sb_printf(strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (b->n + (size_t)need + 1 > b->cap) {
    b->cap = (b->n + (size_t)need + 1) * 2;
    b->s = cm_xrealloc(b->s, b->cap);
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
  va_end(ap);
  b->n += (size_t)need;
}

void sb_free(strbuf *b) {
  free(b->s);
  memset(b, 0, sizeof *b);
}

int exp_write_text(const char *path, const strbuf *b) {
  return cm_write_file_atomic(path, b->s ? b->s : "", b->n);
}

int exp_write_json(const char *path, cJSON *root) {
  char *s = cJSON_Print(root);
  if (!s) return cm_set_error("%s: cannot format JSON", path);
  size_t n = strlen(s);
  int r = cm_write_file_atomic(path, s, n);
  free(s);
  return r;
}

cJSON *exp_json_array(const double *v, int n) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < n; i++)
    cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
  return a;
}

const char *exp_pct(double v, char *buf, size_t n) {
  if (!isfinite(v)) snprintf(buf, n, "–");
  else snprintf(buf, n, "%.2f", 100 * v);
  return buf;
}

const char *exp_p(double p, char *buf, size_t n) {
  if (!isfinite(p)) snprintf(buf, n, "–");
  else if (p < 1e-4) snprintf(buf, n, "%.1e", p);
  else snprintf(buf, n, "%.4f", p);
  return buf;
}
