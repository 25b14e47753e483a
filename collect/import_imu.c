/*
 * IMU logs for import: CSV files (gzip or plain; zlib's gzopen reads both) into time-sorted
 * tables, and the merge of an accelerometer table with a gyroscope table into the N x 6 rows
 * of a session's IMU stream.
 *
 * Parsing is strict: a file with one row that does not parse is refused as a whole, naming
 * FILE:LINE, because a log that is half garbage usually has shifted columns everywhere, and a
 * silently dropped row would look like a radio gap to the sync stage. The only tolerated
 * oddities are a header line (named columns need one; otherwise a first line whose time field
 * is not a number is taken as one), blank lines and CRLF endings. A gzip file cut short is an
 * error too (zlib reports the missing end), not a short log.
 *
 * Times are parsed as decimal text straight into integer nanoseconds, never through a double,
 * so a millisecond log with fractional stamps round-trips exactly.
 *
 * Merge (docs/design.md "Import"): acc and gyro are logged by separate sensors with their own
 * stamps. A row is made per accelerometer sample, keeping that sample's time as t_device_ns;
 * its gyro columns are the gyro signal linearly interpolated at that time. When both sensors
 * share stamps (the usual case for one IMU chip, and the simulator's export), every row's gyro
 * values are a gyro sample taken unchanged (no arithmetic at all), so nothing is altered; runs
 * of equal stamps (all samples of one radio frame stamped at its arrival) pair in file order.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cm_util.h"
#include "import.h"

void imp_columns_cmactivity(imp_columns *c) {
  memset(c, 0, sizeof *c);
  c->index[0] = 0;
  c->index[1] = 2;
  c->index[2] = 3;
  c->index[3] = 4;
}

int imp_columns_parse(imp_columns *c, const char *spec) {
  static const char *roles[4] = {"t", "x", "y", "z"};
  memset(c, 0, sizeof *c);
  int seen[4] = {0};
  char buf[512];
  snprintf(buf, sizeof buf, "%s", spec);
  char *save = NULL;
  for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || !eq[1])
      return cm_set_error("columns '%s': '%s' is not ROLE=NAME or ROLE=#INDEX", spec, tok);
    *eq = 0;
    int r = -1;
    for (int k = 0; k < 4; k++)
      if (strcmp(tok, roles[k]) == 0) r = k;
    if (r < 0) return cm_set_error("columns '%s': unknown role '%s' (t, x, y, z)", spec, tok);
    const char *v = eq + 1;
    if (v[0] == '#') {
      long idx;
      if (cm_parse_long(v + 1, "column index", &idx) < 0 || idx < 0 || idx > 1000)
        return cm_set_error("columns '%s': bad column index '%s'", spec, v);
      c->index[r] = (int)idx;
      c->name[r][0] = 0;
    } else {
      if (strlen(v) >= sizeof c->name[r]) return cm_set_error("columns '%s': name too long", spec);
      snprintf(c->name[r], sizeof c->name[r], "%s", v);
      c->index[r] = -1;
    }
    seen[r] = 1;
  }
  for (int k = 0; k < 4; k++)
    if (!seen[k]) return cm_set_error("columns '%s': role '%s' missing (need t, x, y, z)", spec, roles[k]);
  return 0;
}

int imp_parse_time_ns(const char *s, const char *end, int64_t ns_per_unit, int64_t *out) {
  while (s < end && (*s == ' ' || *s == '\t')) s++;
  while (end > s && (end[-1] == ' ' || end[-1] == '\t')) end--;
  int neg = 0;
  if (s < end && (*s == '-' || *s == '+')) neg = *s++ == '-';
  if (s >= end) return -1;
  int64_t ip = 0;
  int digits = 0;
  while (s < end && *s >= '0' && *s <= '9') {
    if (ip > (INT64_MAX / 10 - 10)) return -1;
    ip = ip * 10 + (*s++ - '0');
    digits++;
  }
  int64_t frac_ns = 0; /* fraction of a unit, in ns, truncated below 1 ns */
  if (s < end && *s == '.') {
    s++;
    int64_t scale = ns_per_unit;
    int64_t num = 0, den = 1;
    while (s < end && *s >= '0' && *s <= '9') {
      if (den < 1000000000000LL) {
        num = num * 10 + (*s - '0');
        den *= 10;
      }
      s++;
      digits++;
    }
    frac_ns = (int64_t)((__int128)num * scale / den);
  }
  if (!digits || s != end) return -1;
  if (ip > INT64_MAX / ns_per_unit) return -1;
  int64_t v = ip * ns_per_unit + frac_ns;
  *out = neg ? -v : v;
  return 0;
}

void imp_table_free(imp_table *t) {
  free(t->t_ns);
  free(t->xyz);
  memset(t, 0, sizeof *t);
}

static void table_push(imp_table *t, int64_t ts, const float v[3]) {
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 4096;
    t->t_ns = cm_xrealloc(t->t_ns, t->cap * sizeof *t->t_ns);
    t->xyz = cm_xrealloc(t->xyz, t->cap * 3 * sizeof *t->xyz);
  }
  if (t->n && ts < t->t_ns[t->n - 1]) t->sorted = 0;
  if (!t->n) t->sorted = 1;
  t->t_ns[t->n] = ts;
  memcpy(t->xyz + 3 * t->n, v, 3 * sizeof *v);
  t->n++;
}

/* Split a line on commas in place; fields[] point into it. Returns the field count. */
static int split_fields(char *line, char **fields, char **ends, int max) {
  int n = 0;
  char *p = line;
  for (;;) {
    if (n == max) return n + 1; /* more than we look at: fine, counted as "many" */
    fields[n] = p;
    char *c = strchr(p, ',');
    if (!c) {
      ends[n] = p + strlen(p);
      n++;
      return n;
    }
    ends[n] = c;
    n++;
    p = c + 1;
  }
}

static int parse_float_field(const char *s, const char *e, float *out) {
  char buf[64];
  while (s < e && (*s == ' ' || *s == '\t')) s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
  size_t n = (size_t)(e - s);
  if (!n || n >= sizeof buf) return -1;
  memcpy(buf, s, n);
  buf[n] = 0;
  char *end;
  errno = 0;
  float v = strtof(buf, &end);
  if (*end || errno == ERANGE || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

int imp_table_load(imp_table *t, const char *path, const imp_columns *c, int64_t ns_per_unit) {
  gzFile f = gzopen(path, "rb");
  if (!f) return cm_set_error("%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
  gzbuffer(f, 1 << 16);
  imp_table tmp = {0};
  int idx[4];
  memcpy(idx, c->index, sizeof idx);
  int named = 0;
  for (int k = 0; k < 4; k++) named |= c->name[k][0] != 0;
  int maxidx = 0, header_done = 0;
  char line[4096];
  long lineno = 0;
  int rc = 0;
  while (gzgets(f, line, sizeof line)) {
    lineno++;
    size_t len = strlen(line);
    if (len == sizeof line - 1 && line[len - 1] != '\n') {
      rc = cm_set_error("%s:%ld: line longer than %zu bytes", path, lineno, sizeof line - 2);
      break;
    }
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    if (!len) continue;
    char *fields[1024], *ends[1024];
    int nf = split_fields(line, fields, ends, 1000);
    if (!header_done) {
      header_done = 1;
      if (named) {
        for (int k = 0; k < 4 && !rc; k++) {
          if (!c->name[k][0]) continue;
          idx[k] = -1;
          for (int j = 0; j < nf && j < 1000; j++) {
            const char *s = fields[j];
            size_t l = (size_t)(ends[j] - s);
            while (l && (*s == ' ' || *s == '"')) s++, l--;
            while (l && (s[l - 1] == ' ' || s[l - 1] == '"')) l--;
            if (l == strlen(c->name[k]) && strncmp(s, c->name[k], l) == 0) idx[k] = j;
          }
          if (idx[k] < 0) rc = cm_set_error("%s:%ld: no column named '%s' in the header", path, lineno, c->name[k]);
        }
        if (rc) break;
        for (int k = 0; k < 4; k++) maxidx = idx[k] > maxidx ? idx[k] : maxidx;
        continue;
      }
      for (int k = 0; k < 4; k++) maxidx = idx[k] > maxidx ? idx[k] : maxidx;
      int64_t ts;
      if (nf > idx[0] && imp_parse_time_ns(fields[idx[0]], ends[idx[0]], ns_per_unit, &ts) < 0)
        continue; /* a header line */
    }
    if (nf <= maxidx) {
      rc = cm_set_error("%s:%ld: %d fields, expected at least %d", path, lineno, nf, maxidx + 1);
      break;
    }
    int64_t ts;
    if (imp_parse_time_ns(fields[idx[0]], ends[idx[0]], ns_per_unit, &ts) < 0) {
      rc = cm_set_error("%s:%ld: time '%.*s' is not a number", path, lineno,
                        (int)(ends[idx[0]] - fields[idx[0]] > 40 ? 40 : ends[idx[0]] - fields[idx[0]]),
                        fields[idx[0]]);
      break;
    }
    float v[3];
    int bad = -1;
    for (int k = 0; k < 3; k++)
      if (parse_float_field(fields[idx[k + 1]], ends[idx[k + 1]], &v[k]) < 0) bad = k;
    if (bad >= 0) {
      int j = idx[bad + 1];
      rc = cm_set_error("%s:%ld: %c value '%.*s' is not a finite number", path, lineno, "xyz"[bad],
                        (int)(ends[j] - fields[j] > 40 ? 40 : ends[j] - fields[j]), fields[j]);
      break;
    }
    table_push(&tmp, ts, v);
  }
  /* A gzip stream cut short returns its partial last line before reporting the missing end;
   * the cut is the real fault, so it wins over the parse error of that line. */
  int zerr;
  const char *msg = gzerror(f, &zerr);
  if (zerr != Z_OK && zerr != Z_STREAM_END)
    rc = cm_set_error("%s:%ld: %s (file cut short or not gzip?)", path, lineno, msg && *msg ? msg : "read error");
  gzclose(f);
  if (rc) {
    imp_table_free(&tmp);
    return -1;
  }
  for (size_t i = 0; i < tmp.n; i++) table_push(t, tmp.t_ns[i], tmp.xyz + 3 * i);
  imp_table_free(&tmp);
  return 0;
}

/* Stable merge sort of rows by time (logs are nearly sorted; stability keeps file order of
 * equal stamps). */
void imp_table_sort(imp_table *t) {
  if (t->n < 2) {
    t->sorted = 1;
    return;
  }
  int sorted = 1;
  for (size_t i = 1; i < t->n && sorted; i++) sorted = t->t_ns[i] >= t->t_ns[i - 1];
  if (sorted) {
    t->sorted = 1;
    return;
  }
  size_t n = t->n;
  size_t *perm = cm_xmalloc(n * sizeof *perm), *tmp = cm_xmalloc(n * sizeof *tmp);
  for (size_t i = 0; i < n; i++) perm[i] = i;
  for (size_t w = 1; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t a = lo, b = mid, k = lo;
      while (a < mid && b < hi) tmp[k++] = t->t_ns[perm[b]] < t->t_ns[perm[a]] ? perm[b++] : perm[a++];
      while (a < mid) tmp[k++] = perm[a++];
      while (b < hi) tmp[k++] = perm[b++];
    }
    size_t *s = perm;
    perm = tmp;
    tmp = s;
  }
  int64_t *nt = cm_xmalloc(n * sizeof *nt);
  float *nx = cm_xmalloc(n * 3 * sizeof *nx);
  for (size_t i = 0; i < n; i++) {
    nt[i] = t->t_ns[perm[i]];
    memcpy(nx + 3 * i, t->xyz + 3 * perm[i], 3 * sizeof *nx);
  }
  free(t->t_ns);
  free(t->xyz);
  free(perm);
  free(tmp);
  t->t_ns = nt;
  t->xyz = nx;
  t->cap = n;
  t->sorted = 1;
}

static size_t lower_bound(const imp_table *t, int64_t v) {
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t m = lo + (hi - lo) / 2;
    if (t->t_ns[m] < v)
      lo = m + 1;
    else
      hi = m;
  }
  return lo;
}

void imp_table_span(const imp_table *t, int64_t t0, int64_t t1, size_t *lo, size_t *hi) {
  *lo = lower_bound(t, t0);
  *hi = lower_bound(t, t1);
  if (*hi < *lo) *hi = *lo;
}

int imp_merge_span(const imp_table *acc, const imp_table *gyro, int64_t t0, int64_t t1,
                   float **xyz6, int64_t **t_ns, imp_merge_stats *st) {
  memset(st, 0, sizeof *st);
  size_t alo, ahi, glo, ghi;
  imp_table_span(acc, t0, t1, &alo, &ahi);
  if (ahi == alo) return cm_set_error("no accelerometer rows in the video's time span");
  imp_table_span(gyro, t0 - 1000000000LL, t1 + 1000000000LL, &glo, &ghi);
  if (ghi == glo) return cm_set_error("no gyroscope rows within 1 s of the video's time span");
  size_t gs0, gs1;
  imp_table_span(gyro, t0, t1, &gs0, &gs1);
  st->n_gyro_in_span = gs1 - gs0;
  size_t n = ahi - alo;
  float *out = cm_xmalloc(n * 6 * sizeof *out);
  int64_t *tt = cm_xmalloc(n * sizeof *tt);
  size_t g = lower_bound(gyro, acc->t_ns[alo]); /* first gyro sample at or after the row */
  for (size_t i = 0; i < n; i++) {
    int64_t t = acc->t_ns[alo + i];
    tt[i] = t;
    memcpy(out + 6 * i, acc->xyz + 3 * (alo + i), 3 * sizeof *out);
    while (g < gyro->n && gyro->t_ns[g] < t) g++;
    float *gv = out + 6 * i + 3;
    double dist;
    if (g < gyro->n && gyro->t_ns[g] == t) {
      /* Loggers stamp every sample of a radio frame with the frame's arrival, so runs of
       * equal stamps are common; the k-th acc row of a run pairs with the k-th gyro row of
       * the run with that stamp (the last one when the gyro run is shorter). */
      size_t k = 0;
      while (alo + i - k > 0 && acc->t_ns[alo + i - k - 1] == t) k++;
      size_t gk = g;
      while (k > 0 && gk + 1 < gyro->n && gyro->t_ns[gk + 1] == t) gk++, k--;
      memcpy(gv, gyro->xyz + 3 * gk, 3 * sizeof *gv);
      st->n_exact++;
      dist = 0;
    } else if (g == 0) {
      memcpy(gv, gyro->xyz, 3 * sizeof *gv);
      dist = (double)(gyro->t_ns[0] - t) * 1e-9;
    } else if (g == gyro->n) {
      memcpy(gv, gyro->xyz + 3 * (gyro->n - 1), 3 * sizeof *gv);
      dist = (double)(t - gyro->t_ns[gyro->n - 1]) * 1e-9;
    } else {
      int64_t ta = gyro->t_ns[g - 1], tb = gyro->t_ns[g];
      double w = (double)(t - ta) / (double)(tb - ta);
      for (int k = 0; k < 3; k++) {
        double a = gyro->xyz[3 * (g - 1) + k], b = gyro->xyz[3 * g + k];
        gv[k] = (float)(a + (b - a) * w);
      }
      int64_t d = t - ta < tb - t ? t - ta : tb - t;
      dist = (double)d * 1e-9;
    }
    if (dist > st->max_gyro_dist_s) st->max_gyro_dist_s = dist;
  }
  st->n = n;
  *xyz6 = out;
  *t_ns = tt;
  return 0;
}
