/*
 * The start time of an imported video: the UTC instant of the file's presentation time 0,
 * chosen from the best evidence available, in this order (docs/design.md "Import"):
 *
 *  1. the container's creation time. QuickTime/MP4 `mvhd` holds whole seconds since 1904 and
 *     is UTC by the specification; FFmpeg shows it as the `creation_time` tag. iPhones also
 *     write `com.apple.quicktime.creationdate`, local time WITH its UTC offset, which is
 *     preferred when present because its zone is explicit. Some cameras write local time into
 *     mvhd; `--creation-tz +HH:MM` tells the importer so (the offset is subtracted). Some
 *     devices stamp mvhd when the recording stops; `--creation-marks end` subtracts the
 *     duration. Stated uncertainty: 1 s (whole-second field, stamped by software at an
 *     unspecified moment near the start). Values before 2000 or more than a day in the future
 *     are refused as unset clocks (a zero mvhd reads as 1904 or 1970).
 *  2. a sidecar the user gives: `--sidecar FILE`, or VIDEO.start / VIDEO-without-extension.start
 *     beside the video. A text file of `key = value` lines (`#` comments):
 *        start_utc = 2026-11-25T10:00:00.250Z      (ISO 8601, Z or +hh:mm; or)
 *        start_utc_ns = 1795600800250000000       (integer ns since the Unix epoch)
 *        uncertainty_s = 0.05                     (optional; 1.0 when absent)
 *  3. the study's heuristic: the file's modification time minus its duration (the phone
 *     finishes writing when recording stops). Stated uncertainty 2 s by default: the write-out
 *     takes a moment and nothing says when; any copy that does not keep mtimes makes it
 *     meaningless, which no file can tell us.
 *
 * A creation time that differs from mtime-minus-duration by a whole number of hours (within
 * 2 minutes) is flagged as a possible time-zone mistake; it is recorded as an event, not
 * acted on, since the mtime may be the one that is wrong.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cm_util.h"
#include "import.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if ((*p)[i] < '0' || (*p)[i] > '9') return -1;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return 0;
}

int imp_parse_iso8601_ns(const char *s, int64_t *out, int *has_zone) {
  const char *p = s;
  int Y, M, D, h, mi, sec;
  while (*p == ' ') p++;
  if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' || digits(&p, 2, &D))
    return cm_set_error("'%s' is not an ISO 8601 date-time", s);
  if (*p != 'T' && *p != 't' && *p != ' ') return cm_set_error("'%s' is not an ISO 8601 date-time", s);
  p++;
  if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &sec))
    return cm_set_error("'%s' is not an ISO 8601 date-time", s);
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
    return cm_set_error("'%s': a field is out of range", s);
  int64_t frac = 0;
  if (*p == '.' || *p == ',') {
    p++;
    int64_t scale = 100000000;
    if (*p < '0' || *p > '9') return cm_set_error("'%s': empty fraction of a second", s);
    while (*p >= '0' && *p <= '9') {
      frac += (*p - '0') * scale;
      scale /= 10;
      p++;
    }
  }
  int64_t offset_s = 0;
  int zone = 0;
  if (*p == 'Z' || *p == 'z') {
    zone = 1;
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
    if (digits(&p, 2, &oh)) return cm_set_error("'%s': bad UTC offset", s);
    if (*p == ':') p++;
    if (*p >= '0' && *p <= '9' && digits(&p, 2, &om)) return cm_set_error("'%s': bad UTC offset", s);
    if (oh > 14 || om > 59) return cm_set_error("'%s': UTC offset out of range", s);
    offset_s = sign * (oh * 3600 + om * 60);
    zone = 1;
  }
  while (*p == ' ' || *p == '\n' || *p == '\r') p++;
  if (*p) return cm_set_error("'%s': unexpected text after the time", s);
  int64_t secs = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  *out = secs * 1000000000LL + frac;
  if (has_zone) *has_zone = zone;
  return 0;
}

static int plausible(int64_t t_ns) {
  int64_t y2000 = 946684800LL * 1000000000LL;
  return t_ns >= y2000 && t_ns <= cm_realtime_ns() + 86400LL * 1000000000LL;
}

/* Reads a sidecar. 1 = found and parsed, 0 = absent (only when not explicit), -1 = error. */
static int read_sidecar(const char *path, int explicit, int64_t *t_ns, double *unc) {
  FILE *f = fopen(path, "r");
  if (!f) {
    if (!explicit && errno == ENOENT) return 0;
    return cm_set_error("sidecar %s: cannot open: %s", path, strerror(errno));
  }
  char line[512];
  int have = 0, lineno = 0;
  *unc = 1.0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *h = strchr(line, '#');
    if (h) *h = 0;
    char *k = line;
    while (*k == ' ' || *k == '\t') k++;
    size_t len = strlen(k);
    while (len && (k[len - 1] == '\n' || k[len - 1] == '\r' || k[len - 1] == ' ')) k[--len] = 0;
    if (!len) continue;
    char *v = k + strcspn(k, "= \t");
    if (*v) *v++ = 0;
    while (*v == ' ' || *v == '\t' || *v == '=') v++;
    int r = 0;
    if (strcmp(k, "start_utc") == 0) {
      int zone;
      r = imp_parse_iso8601_ns(v, t_ns, &zone);
      if (r == 0 && !zone) r = cm_set_error("'%s' has no zone (end it with Z or +hh:mm)", v);
      have = r == 0;
    } else if (strcmp(k, "start_utc_ns") == 0) {
      r = imp_parse_time_ns(v, v + strlen(v), 1, t_ns);
      if (r < 0) cm_set_error("start_utc_ns '%s' is not an integer", v);
      have = r == 0;
    } else if (strcmp(k, "uncertainty_s") == 0) {
      r = cm_parse_double(v, "uncertainty_s", unc);
      if (r == 0 && !(*unc >= 0)) r = cm_set_error("uncertainty_s must be >= 0");
    } else {
      r = cm_set_error("unknown key '%s' (start_utc, start_utc_ns, uncertainty_s)", k);
    }
    if (r < 0) {
      fclose(f);
      return cm_prefix_error("sidecar %s:%d", path, lineno);
    }
  }
  fclose(f);
  if (!have) return cm_set_error("sidecar %s: no start_utc or start_utc_ns line", path);
  return 1;
}

int imp_decide_start(const char *video, const imp_time_tags *tags, const imp_start_options *opt,
                     imp_start *out) {
  memset(out, 0, sizeof *out);
  /* 1. creation time */
  int have_ct = 0;
  int64_t ct_ns = 0;
  char ct_detail[96] = "";
  if (tags->apple_creationdate[0]) {
    int zone;
    if (imp_parse_iso8601_ns(tags->apple_creationdate, &ct_ns, &zone) == 0 && zone && plausible(ct_ns)) {
      have_ct = 1;
      snprintf(ct_detail, sizeof ct_detail, "com.apple.quicktime.creationdate %.40s", tags->apple_creationdate);
    }
  }
  if (!have_ct && tags->creation_time[0]) {
    if (imp_parse_iso8601_ns(tags->creation_time, &ct_ns, NULL) == 0) {
      if (opt->creation_tz_set) ct_ns -= opt->creation_tz_offset_s * 1000000000LL;
      if (plausible(ct_ns)) {
        have_ct = 1;
        snprintf(ct_detail, sizeof ct_detail, "creation_time %.32s%s", tags->creation_time,
                 opt->creation_tz_set ? " (local, offset given)" : " (UTC)");
      }
    }
  }
  if (have_ct && opt->creation_marks_end) {
    ct_ns -= tags->duration_ns;
    strncat(ct_detail, " marks end", sizeof ct_detail - strlen(ct_detail) - 1);
  }
  /* 3. mtime - duration (computed always: it also checks the creation time's zone) */
  int have_mt = 0;
  int64_t mt_ns = 0;
  struct stat st;
  if (stat(video, &st) == 0) {
    mt_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec - tags->duration_ns;
    have_mt = 1;
  }
  /* 2. sidecar */
  int have_sc = 0;
  int64_t sc_ns = 0;
  double sc_unc = 1.0;
  char sc_path[4096] = "";
  if (opt->sidecar) {
    snprintf(sc_path, sizeof sc_path, "%s", opt->sidecar);
    if (read_sidecar(sc_path, 1, &sc_ns, &sc_unc) < 0) return -1;
    have_sc = 1;
  } else if (opt->force == IMP_START_AUTO ? !have_ct : opt->force == IMP_START_SIDECAR) {
    snprintf(sc_path, sizeof sc_path, "%s.start", video);
    int r = read_sidecar(sc_path, 0, &sc_ns, &sc_unc);
    if (r == 0) {
      snprintf(sc_path, sizeof sc_path, "%s", video);
      char *dot = strrchr(sc_path, '.'), *slash = strrchr(sc_path, '/');
      if (dot && (!slash || dot > slash)) {
        snprintf(dot, sizeof sc_path - (size_t)(dot - sc_path), ".start");
        r = read_sidecar(sc_path, 0, &sc_ns, &sc_unc);
      }
    }
    if (r < 0) return -1;
    have_sc = r == 1;
  }
  imp_start_source use = opt->force;
  if (use == IMP_START_AUTO)
    use = have_ct ? IMP_START_CREATION_TIME : have_sc ? IMP_START_SIDECAR : IMP_START_MTIME;
  switch (use) {
    case IMP_START_CREATION_TIME:
      if (!have_ct) return cm_set_error("no usable creation time in the container");
      out->start_ns = ct_ns;
      out->source = "creation_time";
      out->uncertainty_s = 1.0;
      snprintf(out->detail, sizeof out->detail, "%s", ct_detail);
      break;
    case IMP_START_SIDECAR:
      if (!have_sc) return cm_set_error("no sidecar (VIDEO.start) found");
      out->start_ns = sc_ns;
      out->source = "sidecar";
      out->uncertainty_s = sc_unc;
      const char *b = strrchr(sc_path, '/');
      snprintf(out->detail, sizeof out->detail, "%.90s", b ? b + 1 : sc_path);
      break;
    default:
      if (!have_mt) return cm_set_error("cannot stat the file for its modification time");
      out->start_ns = mt_ns;
      out->source = "mtime";
      out->uncertainty_s = opt->mtime_uncertainty_s > 0 ? opt->mtime_uncertainty_s : 2.0;
      snprintf(out->detail, sizeof out->detail, "file modification time minus duration %.3f s",
               tags->duration_ns * 1e-9);
      break;
  }
  if (use == IMP_START_CREATION_TIME && have_mt) {
    double diff = (double)(ct_ns - mt_ns) * 1e-9;
    double hours = round(diff / 3600.0);
    if (fabs(hours) >= 1 && fabs(diff - hours * 3600.0) <= 120.0) {
      out->tz_suspect = 1;
      out->tz_suspect_diff_s = diff;
    }
  }
  return 0;
}
