/*
 * Dataset files: writer and reader (API and layout in cm_dataset.h).
 *
 * The writer works on PATH.partial and renames it to PATH on a successful close, so an
 * interrupted build never leaves a file that looks finished. Each split's arrays are h5tables
 * (buffered appends). Video is chunked one window per chunk, so reading a window touches one
 * chunk; the small per-window arrays are chunked 256 windows per chunk, so a window is still in
 * one chunk and a batch of neighbours shares it. Object time tracking is off, so the same input
 * and seed give the same bytes.
 */
#include "cm_dataset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm_util.h"
#include "h5util.h"
#include "rowtypes.h"

#define MAX_SPLITS 16
enum { A_VIDEO, A_AUDIO, A_IMU, A_LABEL, A_SESSION, A_TSTART, A_UNC, A__N };
static const char *array_names[A__N] = {"video", "audio_features", "imu", "label",
                                        "session", "t_start_ns", "sync_uncertainty_s"};

typedef struct {
  char name[32];
  hid_t group;
  h5table a[A__N];
  int64_t n;
} split_t;

struct cm_dataset {
  char path[4096];
  h5u_partial out; /* the writer's file (PATH.partial until committed) */
  hid_t file;
  int writing;
  cm_dataset_desc desc;
  int n_splits;
  split_t splits[MAX_SPLITS];
};

static hid_t array_ftype(int a) {
  switch (a) {
  case A_VIDEO: return H5T_STD_U8LE;
  case A_AUDIO:
  case A_IMU:
  case A_UNC: return H5T_IEEE_F32LE;
  case A_LABEL:
  case A_SESSION: return H5T_STD_I32LE;
  default: return H5T_STD_I64LE;
  }
}
static hid_t array_mtype(int a) {
  switch (a) {
  case A_VIDEO: return H5T_NATIVE_UINT8;
  case A_AUDIO:
  case A_IMU:
  case A_UNC: return H5T_NATIVE_FLOAT;
  case A_LABEL:
  case A_SESSION: return H5T_NATIVE_INT32;
  default: return H5T_NATIVE_INT64;
  }
}

static int write_desc_attrs(cm_dataset *d) {
  const cm_dataset_desc *x = &d->desc;
  int r = 0;
  r |= h5u_attr_f64(d->file, "window_s", x->window_s);
  r |= h5u_attr_f64(d->file, "hop_s", x->hop_s);
  r |= h5u_attr_i64(d->file, "seed", (int64_t)x->seed);
  r |= h5u_attr_str(d->file, "command_line", x->command_line);
  char names[CM_MAX_CLASSES * (CM_CLASS_NAME_LEN + 1)] = "";
  for (int i = 0; i < x->n_classes; i++) {
    if (i) strcat(names, ",");
    strcat(names, x->class_names[i]);
  }
  r |= h5u_attr_str(d->file, "class_names", names);
  int vs[4] = {x->video_frames, x->video_height, x->video_width, x->video_channels};
  r |= h5u_attr_i32_array(d->file, "video_shape", vs, 4);
  r |= h5u_attr_i64(d->file, "audio_dim", x->audio_dim);
  int is[2] = {x->imu_steps, x->imu_channels};
  r |= h5u_attr_i32_array(d->file, "imu_shape", is, 2);
  return r ? -1 : 0;
}

cm_dataset *cm_dataset_create(const char *path, const cm_dataset_desc *desc, int overwrite) {
  if (desc->n_classes < 1 || desc->n_classes > CM_MAX_CLASSES || desc->video_frames < 0 ||
      desc->audio_dim < 0 || desc->imu_steps < 0 || desc->imu_channels < 0) {
    cm_set_error("%s: bad dataset description", path);
    return NULL;
  }
  cm_dataset *d = cm_xcalloc(1, sizeof *d);
  snprintf(d->path, sizeof d->path, "%s", path);
  d->desc = *desc;
  if (h5u_partial_create(&d->out, path, overwrite, CM_DATASET_SCHEMA, CM_DATASET_SCHEMA_VERSION) < 0) {
    free(d);
    return NULL;
  }
  d->file = d->out.file;
  d->writing = 1;
  if (write_desc_attrs(d) < 0) {
    cm_set_error("%s: cannot write attributes", d->out.partial);
    cm_dataset_abort(d);
    return NULL;
  }
  return d;
}

int cm_dataset_add_split(cm_dataset *d, const char *name) {
  if (!d->writing) return cm_set_error("%s: not open for writing", d->path);
  if (d->n_splits >= MAX_SPLITS) return cm_set_error("%s: too many splits", d->path);
  if (!name[0] || strchr(name, '/') || strlen(name) >= 32)
    return cm_set_error("%s: bad split name '%s'", d->path, name);
  for (int i = 0; i < d->n_splits; i++)
    if (strcmp(d->splits[i].name, name) == 0) return i;
  split_t *s = &d->splits[d->n_splits];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  hid_t gcpl = h5u_gcpl();
  s->group = H5Gcreate2(d->file, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  if (s->group < 0) return cm_set_error("%s: cannot create group %s", d->out.partial, name);
  const cm_dataset_desc *x = &d->desc;
  hsize_t vin[4] = {x->video_frames, x->video_height, x->video_width, x->video_channels};
  hsize_t ain[1] = {x->audio_dim};
  hsize_t iin[2] = {x->imu_steps, x->imu_channels};
  int r = 0;
  r |= h5table_create(&s->a[A_VIDEO], s->group, "video", array_ftype(A_VIDEO), array_mtype(A_VIDEO),
                      5, vin, 1, 8, 0);
  r |= h5table_create(&s->a[A_AUDIO], s->group, "audio_features", array_ftype(A_AUDIO),
                      array_mtype(A_AUDIO), 2, ain, 256, 256, 0);
  r |= h5table_create(&s->a[A_IMU], s->group, "imu", array_ftype(A_IMU), array_mtype(A_IMU), 3, iin,
                      256, 256, 0);
  for (int a = A_LABEL; a < A__N; a++)
    r |= h5table_create(&s->a[a], s->group, array_names[a], array_ftype(a), array_mtype(a), 1, NULL,
                        1024, 1024, 0);
  if (r) return cm_prefix_error("%s: split %s", d->out.partial, name);
  return d->n_splits++;
}

int cm_dataset_append(cm_dataset *d, int split, const cm_window *w) {
  if (!d->writing || split < 0 || split >= d->n_splits)
    return cm_set_error("%s: no split %d to append to", d->path, split);
  if (w->label < 0 || w->label >= d->desc.n_classes)
    return cm_set_error("%s: window label %d outside the %d classes", d->path, w->label, d->desc.n_classes);
  split_t *s = &d->splits[split];
  const void *src[A__N] = {w->video, w->audio, w->imu, &w->label, &w->session, &w->t_start_ns,
                           &w->sync_uncertainty_s};
  for (int a = 0; a < A__N; a++) {
    if (!src[a]) return cm_set_error("%s: window without %s", d->path, array_names[a]);
    if (h5table_append(&s->a[a], src[a], 1) < 0) return cm_prefix_error("%s", d->out.partial);
  }
  s->n++;
  return 0;
}

int cm_dataset_set_sessions(cm_dataset *d, const cm_dataset_session_row *rows, size_t n) {
  h5table t;
  if (h5table_create(&t, d->file, "/sessions", rowtype_file(ROW_DS_SESSION), rowtype_mem(ROW_DS_SESSION),
                     1, NULL, 256, n ? n : 1, 0) < 0)
    return cm_prefix_error("%s", d->out.partial);
  int r = h5table_append(&t, rows, n) < 0 || h5table_write_out(&t) < 0 ? -1 : 0;
  h5table_close(&t);
  return r < 0 ? cm_prefix_error("%s", d->out.partial) : 0;
}

int cm_dataset_set_stats(cm_dataset *d, const char *name, const float *v, size_t n) {
  char path[128];
  snprintf(path, sizeof path, "/stats/%s", name);
  hsize_t dims = n;
  hid_t sp = H5Screate_simple(1, &dims, NULL);
  hid_t dcpl = h5u_dcpl_chunked(0, NULL);
  hid_t ds = h5u_make_parents(d->file, path) < 0 ? -1 : H5Dcreate2(d->file, path, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  int r = ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0;
  if (ds >= 0) H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(sp);
  return r ? cm_set_error("%s: cannot write %s", d->out.partial, path) : 0;
}

int cm_dataset_set_attr_str(cm_dataset *d, const char *name, const char *value) {
  return h5u_attr_str(d->file, name, value) < 0 ? cm_prefix_error("%s", d->out.partial) : 0;
}
int cm_dataset_set_attr_f64(cm_dataset *d, const char *name, double value) {
  return h5u_attr_f64(d->file, name, value) < 0 ? cm_prefix_error("%s", d->out.partial) : 0;
}

static void close_splits(cm_dataset *d) {
  for (int i = 0; i < d->n_splits; i++) {
    for (int a = 0; a < A__N; a++) h5table_close(&d->splits[i].a[a]);
    if (d->splits[i].group > 0) H5Gclose(d->splits[i].group);
  }
}

int cm_dataset_close(cm_dataset *d) {
  int r = 0;
  for (int i = 0; i < d->n_splits && r == 0; i++) {
    for (int a = 0; a < A__N; a++)
      if (h5table_write_out(&d->splits[i].a[a]) < 0) {
        r = cm_prefix_error("%s", d->out.partial);
        break;
      }
    if (r == 0) h5u_attr_i64(d->splits[i].group, "n_windows", d->splits[i].n);
  }
  close_splits(d);
  if (r == 0)
    r = h5u_partial_commit(&d->out);
  else
    h5u_partial_abort(&d->out);
  free(d);
  return r;
}

void cm_dataset_abort(cm_dataset *d) {
  if (!d) return;
  if (d->writing) {
    close_splits(d);
    h5u_partial_abort(&d->out);
  }
  free(d);
}

/* ------------------------------------------------------------------------------------------ */

static herr_t collect_split(hid_t g, const char *name, const H5L_info_t *info, void *op) {
  cm_dataset *d = op;
  H5O_info_t oi;
  if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_GROUP) return 0;
  if (strcmp(name, "stats") == 0) return 0;
  if (d->n_splits >= MAX_SPLITS) return 0;
  split_t *s = &d->splits[d->n_splits];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  s->group = H5Gopen2(g, name, H5P_DEFAULT);
  if (s->group < 0) return -1;
  for (int a = 0; a < A__N; a++) {
    s->a[a].dset = H5Dopen2(s->group, array_names[a], H5P_DEFAULT);
    if (s->a[a].dset < 0) {
      cm_set_error("%s: split %s has no %s", d->path, name, array_names[a]);
      d->n_splits++;
      return -1;
    }
    s->a[a].n_file = h5u_nrows(s->a[a].dset);
  }
  s->n = s->a[A_LABEL].n_file;
  for (int a = 0; a < A__N; a++)
    if (s->a[a].n_file != s->n) {
      cm_set_error("%s: split %s: %s has %lld rows but label has %lld", d->path, name, array_names[a],
                   (long long)s->a[a].n_file, (long long)s->n);
      d->n_splits++;
      return -1;
    }
  d->n_splits++;
  return 0;
}

cm_dataset *cm_dataset_open(const char *path) {
  hid_t f = h5u_open_kind(path, CM_DATASET_SCHEMA, "dataset");
  if (f < 0) return NULL;
  cm_dataset *d = cm_xcalloc(1, sizeof *d);
  snprintf(d->path, sizeof d->path, "%s", path);
  d->file = f;
  char names[CM_MAX_CLASSES * (CM_CLASS_NAME_LEN + 1)];
  cm_dataset_desc *x = &d->desc;
  int vs[4], nvs = 0, is[2], nis = 0;
  int64_t v;
  if (h5u_get_attr_i32_array(f, "video_shape", vs, 4, &nvs) < 0 || nvs != 4 ||
      h5u_get_attr_i32_array(f, "imu_shape", is, 2, &nis) < 0 || nis != 2 ||
      h5u_get_attr_i64(f, "audio_dim", &v) < 0 || h5u_get_attr_str(f, "class_names", names, sizeof names) < 0) {
    cm_set_error("%s: missing shape or class attributes", path);
    goto fail;
  }
  x->video_frames = vs[0];
  x->video_height = vs[1];
  x->video_width = vs[2];
  x->video_channels = vs[3];
  x->imu_steps = is[0];
  x->imu_channels = is[1];
  x->audio_dim = (int)v;
  char *save = NULL;
  for (char *t = strtok_r(names, ",", &save); t && x->n_classes < CM_MAX_CLASSES; t = strtok_r(NULL, ",", &save))
    snprintf(x->class_names[x->n_classes++], CM_CLASS_NAME_LEN, "%s", t);
  h5u_get_attr_f64(f, "window_s", &x->window_s);
  h5u_get_attr_f64(f, "hop_s", &x->hop_s);
  if (h5u_get_attr_i64(f, "seed", &v) == 0) x->seed = (uint64_t)v;
  h5u_get_attr_str(f, "command_line", x->command_line, sizeof x->command_line);
  hsize_t idx = 0;
  cm_set_error("%s: cannot list splits", path);
  if (H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_split, d) < 0) goto fail;
  return d;
fail:
  cm_dataset_close_reader(d);
  return NULL;
}

const cm_dataset_desc *cm_dataset_get_desc(cm_dataset *d) { return &d->desc; }
int cm_dataset_n_splits(cm_dataset *d) { return d->n_splits; }
const char *cm_dataset_split_name(cm_dataset *d, int split) {
  return split >= 0 && split < d->n_splits ? d->splits[split].name : NULL;
}
int cm_dataset_find_split(cm_dataset *d, const char *name) {
  for (int i = 0; i < d->n_splits; i++)
    if (strcmp(d->splits[i].name, name) == 0) return i;
  return cm_set_error("%s: no split '%s'", d->path, name);
}
int64_t cm_dataset_split_size(cm_dataset *d, int split) {
  return split >= 0 && split < d->n_splits ? d->splits[split].n : -1;
}

int cm_dataset_read(cm_dataset *d, int split, int64_t first, int64_t n, uint8_t *video, float *audio,
                    float *imu, int32_t *label, int32_t *session, int64_t *t_start_ns,
                    float *sync_uncertainty_s) {
  if (split < 0 || split >= d->n_splits) return cm_set_error("%s: no split %d", d->path, split);
  split_t *s = &d->splits[split];
  void *dst[A__N] = {video, audio, imu, label, session, t_start_ns, sync_uncertainty_s};
  for (int a = 0; a < A__N; a++)
    if (dst[a] && h5u_read_rows(s->a[a].dset, array_mtype(a), first, n, dst[a]) < 0)
      return cm_prefix_error("%s: %s/%s", d->path, s->name, array_names[a]);
  return 0;
}

int cm_dataset_read_rows(cm_dataset *d, int split, const int64_t *rows, size_t n, uint8_t *video,
                         float *audio, float *imu, int32_t *label) {
  const cm_dataset_desc *x = &d->desc;
  size_t vsz = (size_t)x->video_frames * x->video_height * x->video_width * x->video_channels;
  size_t asz = (size_t)x->audio_dim, isz = (size_t)x->imu_steps * x->imu_channels;
  for (size_t i = 0; i < n; i++)
    if (cm_dataset_read(d, split, rows[i], 1, video ? video + i * vsz : NULL, audio ? audio + i * asz : NULL,
                        imu ? imu + i * isz : NULL, label ? label + i : NULL, NULL, NULL, NULL) < 0)
      return -1;
  return 0;
}

int cm_dataset_get_sessions(cm_dataset *d, cm_dataset_session_row **rows, size_t *n) {
  *rows = NULL;
  *n = 0;
  hid_t ds = H5Dopen2(d->file, "/sessions", H5P_DEFAULT);
  if (ds < 0) return cm_set_error("%s: no /sessions table", d->path);
  int64_t k = h5u_nrows(ds);
  *rows = cm_xcalloc((size_t)(k > 0 ? k : 1), sizeof **rows);
  int r = k >= 0 && h5u_read_rows(ds, rowtype_mem(ROW_DS_SESSION), 0, k, *rows) == 0;
  H5Dclose(ds);
  if (!r) {
    free(*rows);
    *rows = NULL;
    return cm_set_error("%s: cannot read /sessions", d->path);
  }
  *n = (size_t)k;
  return 0;
}

int cm_dataset_get_stats(cm_dataset *d, const char *name, float *v, size_t n) {
  char path[128];
  snprintf(path, sizeof path, "/stats/%s", name);
  if (!h5u_exists(d->file, path)) return cm_set_error("%s: no %s", d->path, path);
  hid_t ds = H5Dopen2(d->file, path, H5P_DEFAULT);
  int r = ds >= 0 && h5u_nrows(ds) == (int64_t)n &&
          h5u_dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
  if (ds >= 0) H5Dclose(ds);
  return r ? 0 : cm_set_error("%s: %s missing or of the wrong size", d->path, path);
}

int cm_dataset_get_attr_str(cm_dataset *d, const char *name, char *buf, size_t len) {
  return h5u_get_attr_str(d->file, name, buf, len) < 0 ? cm_set_error("%s: no attribute %s", d->path, name) : 0;
}
int cm_dataset_get_attr_f64(cm_dataset *d, const char *name, double *v) {
  return h5u_get_attr_f64(d->file, name, v) < 0 ? cm_set_error("%s: no attribute %s", d->path, name) : 0;
}

void cm_dataset_close_reader(cm_dataset *d) {
  if (!d) return;
  for (int i = 0; i < d->n_splits; i++) {
    for (int a = 0; a < A__N; a++)
      if (d->splits[i].a[a].dset > 0) H5Dclose(d->splits[i].a[a].dset);
    if (d->splits[i].group > 0) H5Gclose(d->splits[i].group);
  }
  H5Fclose(d->file);
  free(d);
}
