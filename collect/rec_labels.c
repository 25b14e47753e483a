/* Label interval arithmetic and time parsing; see rec_labels.h. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "rec_labels.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm_util.h"

static int by_start(const void *a, const void *b) {
  const cm_label_row *x = a, *y = b;
  return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

size_t rec_labels_apply(const cm_label_row *in, size_t n, const cm_label_row *add, int remove,
                        cm_label_row *out) {
  size_t k = 0;
  int64_t s = add->start_ns, e = add->end_ns;
  for (size_t i = 0; i < n; i++) {
    const cm_label_row *l = &in[i];
    if (l->end_ns <= s || l->start_ns >= e) {
      out[k++] = *l;
      continue;
    }
    if (l->start_ns < s) {
      out[k] = *l;
      out[k++].end_ns = s;
    }
    if (l->end_ns > e) {
      out[k] = *l;
      out[k++].start_ns = e;
    }
  }
  if (!remove) out[k++] = *add;
  qsort(out, k, sizeof *out, by_start);
  return k;
}

int rec_labels_parse_time(const char *s, int64_t origin_ns, const char *what, int64_t *out_ns) {
  char *end;
  if (s[0] == '@') {
    double v = strtod(s + 1, &end);
    if (end == s + 1 || *end || !isfinite(v) || v < 0 || v > 9e9)
      return cm_set_error("%s '%s': expected @UNIX-SECONDS", what, s);
    *out_ns = (int64_t)llround(v * 1e9);
    return 0;
  }
  if (strchr(s, 'T')) {
    struct tm tm = {0};
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    double frac = 0;
    if (end && *end == '.') {
      char *fend;
      frac = strtod(end, &fend);
      end = fend;
    }
    if (!end || strcmp(end, "Z") != 0)
      return cm_set_error("%s '%s': expected YYYY-MM-DDTHH:MM:SS[.frac]Z (UTC)", what, s);
    time_t t = timegm(&tm);
    *out_ns = (int64_t)t * 1000000000 + (int64_t)llround(frac * 1e9);
    return 0;
  }
  double v = strtod(s, &end);
  if (end == s || *end || !isfinite(v) || fabs(v) > 1e7)
    return cm_set_error("%s '%s': expected seconds from the start, @UNIX-SECONDS or an ISO time",
                        what, s);
  *out_ns = origin_ns + (int64_t)llround(v * 1e9);
  return 0;
}
