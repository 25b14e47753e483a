/*
 * The validator: a file is checked first against its kind's schema (structure: groups,
 * datasets, attributes, types, shapes, compound fields), then against the invariants that the
 * rest of the suite relies on (timestamps non-decreasing, packet index consistent with the
 * byte stream, audio blocks covering the PCM, committed counts within the datasets, split
 * arrays of equal length, labels within the known classes, a model's network loading from its
 * layer list and tensors: train/nn_check.c). Every violation is reported; the
 * checks go on after the first.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cm_h5probe.h"
#include "cm_util.h"
#include "nn_check.h"
#include "schema.h"

static const char *const known_activities[] = {"downstairs", "upstairs", "run", "jump",
                                               "walk", "handwashing", "exercise", NULL};

typedef struct {
  const char *file;
  FILE *out;
  int n;
  cm_h5file *h;
} vctx;

static void violation(vctx *v, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void violation(vctx *v, const char *path, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(v->out, "%s: %s: %s\n", v->file, path, line);
  v->n++;
}

static const char *jstr(const cJSON *o, const char *key) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(x) ? x->valuestring : NULL;
}
static int jreq(const cJSON *o) { return !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "required")); }

static int class_matches(const char *want, cm_h5_typeclass c) {
  if (!want) return 1;
  if (strcmp(want, "int") == 0) return c == CM_H5T_INT || c == CM_H5T_UINT;
  if (strcmp(want, "uint") == 0) return c == CM_H5T_UINT;
  if (strcmp(want, "float") == 0) return c == CM_H5T_FLOAT;
  if (strcmp(want, "string") == 0) return c == CM_H5T_STRING;
  if (strcmp(want, "compound") == 0) return c == CM_H5T_COMPOUND;
  return 0;
}

static void check_attrs(vctx *v, const char *path, const cJSON *list) {
  const cJSON *a;
  cJSON_ArrayForEach(a, list) {
    const char *name = jstr(a, "name"), *type = jstr(a, "type");
    cm_h5_ainfo ai;
    if (cm_h5_attr(v->h, path, name, &ai) < 0) {
      if (jreq(a)) violation(v, path, "missing attribute '%s'", name);
      continue;
    }
    int ok = strcmp(type, "string") == 0 ? ai.cls == CM_H5T_STRING
             : strcmp(type, "int") == 0  ? (ai.cls == CM_H5T_INT || ai.cls == CM_H5T_UINT)
             : strcmp(type, "float") == 0 ? (ai.cls == CM_H5T_FLOAT || ai.cls == CM_H5T_INT)
                                          : 1;
    if (!ok) {
      violation(v, path, "attribute '%s' should be a %s", name, type);
      continue;
    }
    const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(a, "count");
    if (cJSON_IsNumber(cnt) && ai.npoints != cnt->valueint)
      violation(v, path, "attribute '%s' should have %d values, has %lld", name, cnt->valueint, (long long)ai.npoints);
    const char *val = jstr(a, "value");
    if (val && strcmp(ai.str, val) != 0) violation(v, path, "attribute '%s' is '%s', should be '%s'", name, ai.str, val);
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(a, "enum");
    if (cJSON_IsArray(en)) {
      int found = 0;
      const cJSON *e;
      cJSON_ArrayForEach(e, en) if (strcmp(e->valuestring, ai.str) == 0) found = 1;
      if (!found) violation(v, path, "attribute '%s' has the unknown value '%s'", name, ai.str);
    }
  }
}

static void check_object(vctx *v, const char *path, const cJSON *o) {
  const char *type = jstr(o, "type");
  cm_h5_objkind k = cm_h5_kind(v->h, path);
  if (k == CM_H5_NONE) {
    if (jreq(o)) violation(v, path, "missing %s", type);
    return;
  }
  if (strcmp(type, "group") == 0 && k != CM_H5_GROUP) {
    violation(v, path, "should be a group");
    return;
  }
  if (strcmp(type, "dataset") == 0) {
    if (k != CM_H5_DATASET) {
      violation(v, path, "should be a dataset");
      return;
    }
    cm_h5_dinfo d;
    if (cm_h5_dataset_info(v->h, path, &d) < 0) {
      violation(v, path, "unreadable dataset");
      return;
    }
    const char *dt = jstr(o, "dtype");
    if (!class_matches(dt, d.cls)) violation(v, path, "should hold %s values", dt);
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(o, "size");
    if (cJSON_IsNumber(sz) && (int)d.size != sz->valueint)
      violation(v, path, "elements should be %d bytes, are %zu", sz->valueint, d.size);
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(o, "shape");
    if (cJSON_IsArray(sh)) {
      int rank = cJSON_GetArraySize(sh);
      if (rank != d.rank) {
        violation(v, path, "should have %d dimensions, has %d", rank, d.rank);
      } else {
        for (int i = 0; i < rank; i++) {
          const cJSON *x = cJSON_GetArrayItem(sh, i);
          if (cJSON_IsNumber(x) && d.dims[i] != x->valueint)
            violation(v, path, "dimension %d should be %d, is %lld", i, x->valueint, (long long)d.dims[i]);
        }
      }
    }
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(o, "fields");
    if (cJSON_IsArray(fl) && d.cls == CM_H5T_COMPOUND) {
      const cJSON *f;
      cJSON_ArrayForEach(f, fl) {
        int found = 0;
        for (int i = 0; i < d.n_fields; i++) found |= strcmp(d.fields[i], f->valuestring) == 0;
        if (!found) violation(v, path, "missing field '%s'", f->valuestring);
      }
    }
  }
  const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "attributes");
  if (cJSON_IsArray(at)) check_attrs(v, path, at);
}

/* Expand a pattern with '*' segments over the file's real children. */
static void expand(vctx *v, const cJSON *o, const char *done, const char *rest, int split) {
  if (!*rest) {
    const char *when = jstr(o, "when_kind");
    if (when) {
      /* the stream group is the object itself (group) or its parent (dataset) */
      char grp[512];
      snprintf(grp, sizeof grp, "%s", done);
      if (strcmp(jstr(o, "type"), "dataset") == 0) *strrchr(grp, '/') = 0;
      cm_h5_ainfo ai;
      if (cm_h5_attr(v->h, grp, "kind", &ai) < 0 || strcmp(ai.str, when) != 0) return;
    }
    check_object(v, done, o);
    return;
  }
  const char *slash = strchr(rest + 1, '/');
  size_t seglen = slash ? (size_t)(slash - rest) : strlen(rest);
  char seg[256];
  snprintf(seg, sizeof seg, "%.*s", (int)seglen, rest);
  const char *next = rest + seglen;
  if (strcmp(seg, "/*") == 0) {
    const char *parent = *done ? done : "/";
    if (cm_h5_kind(v->h, parent) != CM_H5_GROUP) return;
    char(*names)[64] = cm_xmalloc(256 * 64);
    int n = cm_h5_children(v->h, parent, names, 256);
    for (int i = 0; i < n; i++) {
      char p[512];
      snprintf(p, sizeof p, "%s/%s", done, names[i]);
      if (split) {
        /* splits are the root's groups other than the named ones */
        if (strcmp(names[i], "stats") == 0 || cm_h5_kind(v->h, p) != CM_H5_GROUP) continue;
      }
      expand(v, o, p, next, split);
    }
    free(names);
    return;
  }
  char p[512];
  snprintf(p, sizeof p, "%s%s", done, seg);
  expand(v, o, p, next, split);
}

static void check_structure(vctx *v, const cJSON *schema) {
  check_attrs(v, "/", cJSON_GetObjectItemCaseSensitive(schema, "attributes"));
  const cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(schema, "objects")) {
    int split = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "split"));
    expand(v, o, "", jstr(o, "path"), split);
  }
}

/* ---- invariants ---- */

/* Tables past this many rows are not read whole: a corrupted extent must not make the
 * validator allocate without bound. */
#define MAX_ROWS_READ (1LL << 28)

static int64_t *read_col(vctx *v, const char *path, const char *field, int64_t n) {
  if (n > MAX_ROWS_READ) {
    violation(v, path, "claims %lld rows, more than the validator reads (corrupted extent?)", (long long)n);
    return NULL;
  }
  int64_t *x = cm_xmalloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
  if (n > 0 && cm_h5_read_i64(v->h, path, field, 0, n, x) < 0) {
    violation(v, path, "unreadable%s%s: %s", field ? " field " : "", field ? field : "", cm_error());
    free(x);
    return NULL;
  }
  return x;
}

static void non_decreasing(vctx *v, const char *path, const char *field, const int64_t *x, int64_t n) {
  for (int64_t i = 1; i < n; i++)
    if (x[i] < x[i - 1]) {
      violation(v, path, "%s goes backwards at row %lld (%lld after %lld)", field, (long long)i, (long long)x[i],
                (long long)x[i - 1]);
      return;
    }
}

/* Video packets are stored in decode order; with B-frames their capture times (t_host_ns, from
 * pts) go back and forth in that order. What must hold is that capture time never goes back in
 * presentation order: t_host_ns sorted by pts is non-decreasing. */
static const int64_t *sort_key;
static int by_key(const void *a, const void *b) {
  int64_t x = sort_key[*(const int64_t *)a], y = sort_key[*(const int64_t *)b];
  return x < y ? -1 : x > y;
}
static void non_decreasing_in_pts_order(vctx *v, const char *path, const int64_t *pts, const int64_t *th, int64_t n) {
  int64_t *ord = malloc((size_t)(n > 0 ? n : 1) * sizeof *ord);
  for (int64_t i = 0; i < n; i++) ord[i] = i;
  sort_key = pts;
  qsort(ord, (size_t)n, sizeof *ord, by_key);
  for (int64_t k = 1; k < n; k++)
    if (th[ord[k]] < th[ord[k - 1]]) {
      violation(v, path, "t_host_ns goes backwards in pts order at row %lld (%lld after %lld)", (long long)ord[k],
                (long long)th[ord[k]], (long long)th[ord[k - 1]]);
      break;
    }
  free(ord);
}

typedef struct {
  char paths[64][96];
  int64_t counts[64];
  int n;
} committed_t;

static int64_t committed_of(committed_t *c, const char *path, int64_t fallback) {
  for (int i = 0; i < c->n; i++)
    if (strcmp(c->paths[i], path) == 0) return c->counts[i];
  return fallback;
}

static int64_t rows_of(vctx *v, const char *path) {
  cm_h5_dinfo d;
  if (cm_h5_kind(v->h, path) != CM_H5_DATASET || cm_h5_dataset_info(v->h, path, &d) < 0 || d.rank < 1) return -1;
  return d.dims[0];
}

static void session_invariants(vctx *v, int unfinished) {
  committed_t c = {.n = 0};
  cm_h5_ainfo ai;
  if (cm_h5_attr(v->h, "/committed", "tables", &ai) == 0 && rows_of(v, "/committed") == 64 &&
      cm_h5_read_i64(v->h, "/committed", NULL, 0, 64, c.counts) == 0) {
    char *save = NULL;
    for (char *t = strtok_r(ai.str, ",", &save); t && c.n < 64; t = strtok_r(NULL, ",", &save)) {
      snprintf(c.paths[c.n], 96, "%s", t);
      int64_t have = rows_of(v, t);
      if (have < 0) {
        /* a missing table is reported by the structural check */
      } else if (c.counts[c.n] > have)
        violation(v, t, "/committed says %lld rows but the dataset holds %lld", (long long)c.counts[c.n], (long long)have);
      else if (c.counts[c.n] < have && !unfinished)
        violation(v, t, "holds %lld rows past the committed %lld in a closed file", (long long)(have - c.counts[c.n]),
                  (long long)c.counts[c.n]);
      c.n++;
    }
  } else {
    return; /* already reported structurally */
  }
  char summary[2048] = "";
  char(*names)[64] = cm_xmalloc(64 * 64);
  int ns = cm_h5_kind(v->h, "/streams") == CM_H5_GROUP ? cm_h5_children(v->h, "/streams", names, 64) : 0;
  for (int i = 0; i < ns; i++) {
    char g[160], p[200], p2[200], p3[200];
    snprintf(g, sizeof g, "/streams/%s", names[i]);
    if (cm_h5_attr(v->h, g, "kind", &ai) < 0) continue;
    char part[160] = "";
    if (strcmp(ai.str, "video") == 0) {
      snprintf(p, sizeof p, "%s/index", g);
      snprintf(p2, sizeof p2, "%s/packets", g);
      int64_t n = committed_of(&c, p, rows_of(v, p)), bytes = committed_of(&c, p2, rows_of(v, p2));
      if (n < 0 || bytes < 0) continue;
      int64_t *off = read_col(v, p, "offset", n), *size = read_col(v, p, "size", n), *dts = read_col(v, p, "dts", n),
              *th = read_col(v, p, "t_host_ns", n), *pts = read_col(v, p, "pts", n);
      if (off && size) {
        int64_t expect = 0;
        for (int64_t k = 0; k < n; k++) {
          if (off[k] != expect) {
            violation(v, p, "packet %lld starts at byte %lld, expected %lld (index inconsistent with the byte stream)",
                      (long long)k, (long long)off[k], (long long)expect);
            break;
          }
          if (size[k] <= 0) {
            violation(v, p, "packet %lld is empty", (long long)k);
            break;
          }
          expect += size[k];
        }
        if (expect != bytes && (!unfinished || expect > bytes))
          violation(v, p, "packets cover %lld bytes but the stream holds %lld", (long long)expect, (long long)bytes);
      }
      if (dts) non_decreasing(v, p, "dts", dts, n);
      if (th && pts) non_decreasing_in_pts_order(v, p, pts, th, n);
      else if (th) non_decreasing(v, p, "t_host_ns", th, n);
      if (th && n > 1) snprintf(part, sizeof part, "%s %lld frames (%.1f s)", names[i], (long long)n, (th[n - 1] - th[0]) * 1e-9);
      else snprintf(part, sizeof part, "%s %lld frames", names[i], (long long)n);
      free(off), free(size), free(dts), free(th), free(pts);
    } else if (strcmp(ai.str, "audio") == 0) {
      snprintf(p, sizeof p, "%s/blocks", g);
      snprintf(p2, sizeof p2, "%s/pcm", g);
      int64_t n = committed_of(&c, p, rows_of(v, p)), frames = committed_of(&c, p2, rows_of(v, p2));
      if (n < 0 || frames < 0) continue;
      int64_t *ff = read_col(v, p, "first_frame", n), *nf = read_col(v, p, "n_frames", n), *th = read_col(v, p, "t_host_ns", n);
      if (ff && nf) {
        int64_t expect = 0;
        for (int64_t k = 0; k < n; k++) {
          if (ff[k] != expect || nf[k] <= 0) {
            violation(v, p, "block %lld does not continue the PCM (first frame %lld, expected %lld)", (long long)k,
                      (long long)ff[k], (long long)expect);
            break;
          }
          expect += nf[k];
        }
        if (expect != frames && (!unfinished || expect > frames))
          violation(v, p, "blocks cover %lld PCM frames but the stream holds %lld", (long long)expect, (long long)frames);
      }
      if (th) non_decreasing(v, p, "t_host_ns", th, n);
      cm_h5_ainfo sr;
      double rate = cm_h5_attr(v->h, g, "sample_rate", &sr) == 0 && sr.num > 0 ? sr.num : 0;
      snprintf(part, sizeof part, "%s %lld samples (%.1f s)", names[i], (long long)frames, rate ? frames / rate : 0.0);
      free(ff), free(nf), free(th);
    } else if (strcmp(ai.str, "imu") == 0) {
      snprintf(p, sizeof p, "%s/data", g);
      snprintf(p2, sizeof p2, "%s/t_device_ns", g);
      snprintf(p3, sizeof p3, "%s/t_host_ns", g);
      int64_t n1 = committed_of(&c, p, rows_of(v, p)), n2 = committed_of(&c, p2, rows_of(v, p2)),
              n3 = committed_of(&c, p3, rows_of(v, p3));
      if (n1 < 0 || n2 < 0 || n3 < 0) continue;
      if (n1 != n2 || n1 != n3)
        violation(v, g, "data, t_device_ns and t_host_ns hold %lld, %lld, %lld samples", (long long)n1, (long long)n2, (long long)n3);
      int64_t n = n1 < n2 ? (n1 < n3 ? n1 : n3) : (n2 < n3 ? n2 : n3);
      int64_t *th = read_col(v, p3, NULL, n);
      if (th) non_decreasing(v, p3, "t_host_ns", th, n);
      double *x = cm_xmalloc(sizeof(double) * 6 * (size_t)(n > 0 && n <= MAX_ROWS_READ ? n : 1));
      if (n > 0 && n <= MAX_ROWS_READ && cm_h5_read_f64(v->h, p, NULL, 0, n, x) == 0) {
        /* A live recorder stores ACC and GYRO halves that were not measured at the same
         * instant as rows with NaN in the other half (docs/design.md, wrist IMU capture): one
         * whole half may be NaN; a partly NaN half, both halves NaN or an infinity may not. */
        for (int64_t r = 0; r < n; r++) {
          int nan_half[2] = {0, 0}, bad = 0;
          for (int h = 0; h < 2; h++) {
            int nans = 0;
            for (int c3 = 0; c3 < 3; c3++) {
              double val = x[6 * r + 3 * h + c3];
              if (isnan(val)) nans++;
              else if (!isfinite(val)) bad = 1;
            }
            if (nans == 3) nan_half[h] = 1;
            else if (nans) bad = 1;
          }
          if (bad || (nan_half[0] && nan_half[1])) {
            violation(v, p, "sample %lld is not a number", (long long)r);
            break;
          }
        }
      }
      free(x);
      snprintf(part, sizeof part, "%s %lld samples (%.1f s)", names[i], (long long)n,
               th && n > 1 ? (th[n - 1] - th[0]) * 1e-9 : 0.0);
      free(th);
    }
    if (part[0] && strlen(summary) + strlen(part) + 3 < sizeof summary) {
      if (summary[0]) strcat(summary, ", ");
      strcat(summary, part);
    }
  }
  free(names);
  int64_t nc = rows_of(v, "/clock/chrony") < 0 ? 0 : committed_of(&c, "/clock/chrony", rows_of(v, "/clock/chrony"));
  if (nc > MAX_ROWS_READ) nc = 0;
  if (nc > 0) {
    int64_t *th = read_col(v, "/clock/chrony", "t_host_ns", nc);
    if (th) non_decreasing(v, "/clock/chrony", "t_host_ns", th, nc);
    free(th);
    double *rd = cm_xmalloc(sizeof(double) * (size_t)nc), *disp = cm_xmalloc(sizeof(double) * (size_t)nc);
    if (cm_h5_read_f64(v->h, "/clock/chrony", "root_delay", 0, nc, rd) == 0 &&
        cm_h5_read_f64(v->h, "/clock/chrony", "root_dispersion", 0, nc, disp) == 0)
      for (int64_t k = 0; k < nc; k++)
        if (!(rd[k] >= 0) || !(disp[k] >= 0)) {
          violation(v, "/clock/chrony", "row %lld has a negative or missing root delay/dispersion", (long long)k);
          break;
        }
    free(rd);
    free(disp);
  }
  int64_t nl = rows_of(v, "/labels") < 0 ? 0 : committed_of(&c, "/labels", rows_of(v, "/labels"));
  if (nl > MAX_ROWS_READ) nl = 0;
  if (nl > 0) {
    int64_t *s = read_col(v, "/labels", "start_ns", nl), *e = read_col(v, "/labels", "end_ns", nl);
    char *act = cm_xmalloc(32 * (size_t)nl);
    if (s && e)
      for (int64_t k = 0; k < nl; k++)
        if (e[k] <= s[k]) violation(v, "/labels", "interval %lld ends before it starts", (long long)k);
    if (cm_h5_read_str(v->h, "/labels", "activity", 0, nl, act, 32) == 0)
      for (int64_t k = 0; k < nl; k++) {
        int ok = 0;
        for (int j = 0; known_activities[j]; j++) ok |= strcmp(act + 32 * k, known_activities[j]) == 0;
        if (!ok) violation(v, "/labels", "interval %lld has the unknown activity '%s'", (long long)k, act + 32 * k);
      }
    free(s), free(e), free(act);
  }
  if (unfinished)
    fprintf(v->out, "%s: unfinished recording (its writer never closed it): holds %s; 'cmact repair %s' closes it\n",
            v->file, summary[0] ? summary : "no samples", v->file);
}

static void dataset_invariants(vctx *v) {
  cm_h5_ainfo cls, vs, ad, is;
  int n_classes = 0;
  if (cm_h5_attr(v->h, "/", "class_names", &cls) == 0) {
    n_classes = cls.str[0] ? 1 : 0;
    for (char *p = cls.str; *p; p++) n_classes += *p == ',';
  }
  if (n_classes < 1) violation(v, "/", "no class names");
  int64_t n_sessions = rows_of(v, "/sessions");
  int have_vs = cm_h5_attr(v->h, "/", "video_shape", &vs) == 0 && vs.npoints == 4;
  int have_ad = cm_h5_attr(v->h, "/", "audio_dim", &ad) == 0;
  int have_is = cm_h5_attr(v->h, "/", "imu_shape", &is) == 0 && is.npoints == 2;
  char(*names)[64] = cm_xmalloc(64 * 64);
  int ns = cm_h5_children(v->h, "/", names, 64);
  static const char *arrays[] = {"video", "audio_features", "imu", "label", "session", "t_start_ns", "sync_uncertainty_s"};
  int n_splits = 0;
  for (int i = 0; i < ns; i++) {
    char g[128], p[200];
    snprintf(g, sizeof g, "/%s", names[i]);
    if (strcmp(names[i], "stats") == 0 || cm_h5_kind(v->h, g) != CM_H5_GROUP) continue;
    n_splits++;
    snprintf(p, sizeof p, "%s/label", g);
    int64_t n = rows_of(v, p);
    if (n < 0) continue; /* reported structurally */
    for (size_t a = 0; a < sizeof arrays / sizeof *arrays; a++) {
      snprintf(p, sizeof p, "%s/%s", g, arrays[a]);
      int64_t k = rows_of(v, p);
      if (k >= 0 && k != n)
        violation(v, p, "holds %lld windows but label holds %lld (split sizes do not match)", (long long)k, (long long)n);
    }
    cm_h5_ainfo nw;
    if (cm_h5_attr(v->h, g, "n_windows", &nw) == 0 && (int64_t)nw.num != n)
      violation(v, g, "n_windows says %lld but the split holds %lld", (long long)nw.num, (long long)n);
    cm_h5_dinfo d;
    snprintf(p, sizeof p, "%s/video", g);
    if (have_vs && cm_h5_kind(v->h, p) == CM_H5_DATASET && cm_h5_dataset_info(v->h, p, &d) == 0 && d.rank == 5)
      for (int k = 0; k < 4; k++)
        if (d.dims[k + 1] != (int64_t)vs.nums[k]) {
          violation(v, p, "window shape does not match the video_shape attribute");
          break;
        }
    snprintf(p, sizeof p, "%s/audio_features", g);
    if (have_ad && cm_h5_kind(v->h, p) == CM_H5_DATASET && cm_h5_dataset_info(v->h, p, &d) == 0 && d.rank == 2 &&
        d.dims[1] != (int64_t)ad.num)
      violation(v, p, "has %lld features, audio_dim says %lld", (long long)d.dims[1], (long long)ad.num);
    snprintf(p, sizeof p, "%s/imu", g);
    if (have_is && cm_h5_kind(v->h, p) == CM_H5_DATASET && cm_h5_dataset_info(v->h, p, &d) == 0 && d.rank == 3 &&
        (d.dims[1] != (int64_t)is.nums[0] || d.dims[2] != (int64_t)is.nums[1]))
      violation(v, p, "window shape does not match the imu_shape attribute");
    snprintf(p, sizeof p, "%s/label", g);
    int64_t *lab = read_col(v, p, NULL, n);
    if (lab)
      for (int64_t k = 0; k < n; k++)
        if (lab[k] < 0 || lab[k] >= n_classes) {
          violation(v, p, "window %lld has label %lld outside the %d classes", (long long)k, (long long)lab[k], n_classes);
          break;
        }
    free(lab);
    snprintf(p, sizeof p, "%s/session", g);
    int64_t *ses = cm_h5_kind(v->h, p) == CM_H5_DATASET ? read_col(v, p, NULL, n) : NULL;
    if (ses && n_sessions >= 0)
      for (int64_t k = 0; k < n; k++)
        if (ses[k] < 0 || ses[k] >= n_sessions) {
          violation(v, p, "window %lld refers to session %lld, but /sessions has %lld rows", (long long)k,
                    (long long)ses[k], (long long)n_sessions);
          break;
        }
    free(ses);
    snprintf(p, sizeof p, "%s/sync_uncertainty_s", g);
    if (cm_h5_kind(v->h, p) == CM_H5_DATASET && n > 0 && n <= MAX_ROWS_READ) {
      double *u = cm_xmalloc(sizeof(double) * (size_t)n);
      if (cm_h5_read_f64(v->h, p, NULL, 0, n, u) == 0)
        for (int64_t k = 0; k < n; k++)
          if (!(u[k] >= 0) || !isfinite(u[k])) {
            violation(v, p, "window %lld has an invalid uncertainty", (long long)k);
            break;
          }
      free(u);
    }
  }
  if (n_splits == 0) violation(v, "/", "no splits");
  free(names);
}

static void model_invariants(vctx *v) {
  if (cm_h5_kind(v->h, "/weights") == CM_H5_GROUP) {
    char(*names)[64] = cm_xmalloc(256 * 64);
    if (cm_h5_children(v->h, "/weights", names, 256) == 0) violation(v, "/weights", "holds no layers");
    free(names);
  }
  cm_h5_dinfo d;
  cm_h5_ainfo cols;
  if (cm_h5_kind(v->h, "/history") == CM_H5_DATASET && cm_h5_dataset_info(v->h, "/history", &d) == 0 && d.rank == 2 &&
      cm_h5_attr(v->h, "/history", "columns", &cols) == 0) {
    int nc = cols.str[0] ? 1 : 0;
    for (char *p = cols.str; *p; p++) nc += *p == ',';
    if (nc != d.dims[1]) violation(v, "/history", "has %lld columns but names %d", (long long)d.dims[1], nc);
  }
  /* the layer list, the tensors' shapes and values: only loading the network checks these */
  if (cm_h5_kind(v->h, "/weights") == CM_H5_GROUP && nn_model_file_check(v->file) < 0) {
    const char *e = cm_error();
    size_t n = strlen(v->file);
    if (strncmp(e, v->file, n) == 0 && e[n] == ':') e += n + 1 + (e[n + 1] == ' ');
    violation(v, "/weights", "%s", e);
  }
}

int cm_validate_file(const char *path, FILE *out, int *unfinished) {
  vctx v = {path, out, 0, NULL};
  *unfinished = 0;
  v.h = cm_h5_open(path, unfinished);
  if (!v.h) {
    fprintf(out, "%s\n", cm_error());
    return 1;
  }
  cm_h5_ainfo ai;
  const cJSON *schema = NULL;
  if (cm_h5_attr(v.h, "/", "schema", &ai) < 0 || ai.cls != CM_H5T_STRING) {
    violation(&v, "/", "no 'schema' attribute: not a cmact file");
  } else if (!(schema = cm_schema_get(ai.str))) {
    violation(&v, "/", "unknown schema '%s' (session, dataset and model files are known)", ai.str);
  } else {
    cm_h5_ainfo ver;
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(schema, "version");
    if (cm_h5_attr(v.h, "/", "schema_version", &ver) == 0 && ver.num > sv->valueint)
      violation(&v, "/", "schema version %g is newer than this cmact knows (%d)", ver.num, sv->valueint);
    check_structure(&v, schema);
    if (strcmp(ai.str, "cmact.session") == 0) session_invariants(&v, *unfinished);
    else if (strcmp(ai.str, "cmact.dataset") == 0) dataset_invariants(&v);
    else model_invariants(&v);
  }
  cm_h5_close(v.h);
  return v.n;
}
