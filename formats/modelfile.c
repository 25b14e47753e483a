/*
 * Model files (API and layout in cm_model.h). Written to PATH.partial and renamed on close.
 * Tensors live at /weights/<LAYER>/<param>; reading lists them in name order so a model can be
 * rebuilt without knowing its layers in advance.
 */
#include "cm_model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm_util.h"
#include "h5util.h"

#define MAX_TENSORS 256

struct cm_modelfile {
  char path[4096];
  h5u_partial out; /* the writer's file (PATH.partial until committed) */
  hid_t file;
  int writing;
  int n_tensors;
  char tensor_names[MAX_TENSORS][96];
};

cm_modelfile *cm_modelfile_create(const char *path, const char *architecture, int overwrite) {
  cm_modelfile *m = cm_xcalloc(1, sizeof *m);
  snprintf(m->path, sizeof m->path, "%s", path);
  if (h5u_partial_create(&m->out, path, overwrite, CM_MODEL_SCHEMA, CM_MODEL_SCHEMA_VERSION) < 0) {
    free(m);
    return NULL;
  }
  m->file = m->out.file;
  m->writing = 1;
  if (h5u_attr_str(m->file, "architecture", architecture) < 0) {
    cm_set_error("%s: cannot write attributes", m->out.partial);
    cm_modelfile_abort(m);
    return NULL;
  }
  return m;
}

int cm_modelfile_set_input_shape(cm_modelfile *m, const int *dims, int ndims) {
  return h5u_attr_i32_array(m->file, "input_shape", dims, ndims) < 0 ? cm_prefix_error("%s", m->out.partial) : 0;
}

int cm_modelfile_set_classes(cm_modelfile *m, const char *const *names, int n) {
  char buf[4096] = "";
  for (int i = 0; i < n; i++) {
    if (strchr(names[i], ',')) return cm_set_error("%s: class name '%s' contains a comma", m->out.partial, names[i]);
    if (strlen(buf) + strlen(names[i]) + 2 >= sizeof buf) return cm_set_error("%s: too many class names", m->out.partial);
    if (i) strcat(buf, ",");
    strcat(buf, names[i]);
  }
  return h5u_attr_str(m->file, "class_names", buf) < 0 ? cm_prefix_error("%s", m->out.partial) : 0;
}

int cm_modelfile_set_attr(cm_modelfile *m, const char *key, const char *value) {
  static const char *reserved[] = {"schema", "schema_version", "architecture", "input_shape", "class_names"};
  for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
    if (strcmp(key, reserved[i]) == 0) return cm_set_error("%s: attribute '%s' is reserved", m->out.partial, key);
  return h5u_attr_str(m->file, key, value) < 0 ? cm_prefix_error("%s", m->out.partial) : 0;
}

int cm_modelfile_put_tensor(cm_modelfile *m, const char *name, const int64_t *dims, int ndims,
                            const float *data) {
  if (ndims < 1 || ndims > 8) return cm_set_error("%s: tensor %s: rank %d", m->out.partial, name, ndims);
  char path[160];
  snprintf(path, sizeof path, "/weights/%s", name);
  hsize_t d[8];
  for (int i = 0; i < ndims; i++) d[i] = (hsize_t)dims[i];
  hid_t sp = H5Screate_simple(ndims, d, NULL);
  hid_t dcpl = h5u_dcpl_chunked(0, NULL);
  hid_t ds = h5u_make_parents(m->file, path) < 0 ? -1 : H5Dcreate2(m->file, path, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  int r = ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0;
  if (ds >= 0) H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(sp);
  return r ? cm_set_error("%s: cannot write tensor %s", m->out.partial, name) : 0;
}

int cm_modelfile_put_history(cm_modelfile *m, const char *columns_csv, const double *rows, int n_rows,
                             int n_cols) {
  hsize_t d[2] = {(hsize_t)n_rows, (hsize_t)n_cols};
  hid_t sp = H5Screate_simple(2, d, NULL);
  hid_t dcpl = h5u_dcpl_chunked(0, NULL);
  if (H5Lexists(m->file, "history", H5P_DEFAULT) > 0) H5Ldelete(m->file, "history", H5P_DEFAULT);
  hid_t ds = H5Dcreate2(m->file, "history", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  int r = ds < 0 || (n_rows > 0 && H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) ||
          h5u_attr_str(ds, "columns", columns_csv) < 0;
  if (ds >= 0) H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(sp);
  return r ? cm_set_error("%s: cannot write history", m->out.partial) : 0;
}

int cm_modelfile_close(cm_modelfile *m) {
  int r = h5u_partial_commit(&m->out);
  free(m);
  return r;
}

void cm_modelfile_abort(cm_modelfile *m) {
  if (!m) return;
  h5u_partial_abort(&m->out);
  free(m);
}

/* ------------------------------------------------------------------------------------------ */

static herr_t visit_tensor(hid_t obj, const char *name, const H5O_info_t *info, void *op) {
  cm_modelfile *m = op;
  if (info->type == H5O_TYPE_DATASET && m->n_tensors < MAX_TENSORS)
    snprintf(m->tensor_names[m->n_tensors++], sizeof m->tensor_names[0], "%s", name);
  return 0;
}

cm_modelfile *cm_modelfile_open(const char *path) {
  hid_t f = h5u_open_kind(path, CM_MODEL_SCHEMA, "model");
  if (f < 0) return NULL;
  cm_modelfile *m = cm_xcalloc(1, sizeof *m);
  snprintf(m->path, sizeof m->path, "%s", path);
  m->file = f;
  if (h5u_exists(f, "/weights")) {
    hid_t g = H5Gopen2(f, "/weights", H5P_DEFAULT);
    H5Ovisit(g, H5_INDEX_NAME, H5_ITER_INC, visit_tensor, m);
    H5Gclose(g);
  }
  return m;
}

int cm_modelfile_architecture(cm_modelfile *m, char *buf, size_t len) {
  return h5u_get_attr_str(m->file, "architecture", buf, len) < 0 ? cm_set_error("%s: no architecture", m->path) : 0;
}

int cm_modelfile_input_shape(cm_modelfile *m, int *dims, int max, int *ndims) {
  return h5u_get_attr_i32_array(m->file, "input_shape", dims, max, ndims) < 0
             ? cm_set_error("%s: no input_shape", m->path)
             : 0;
}

int cm_modelfile_classes(cm_modelfile *m, char names[][24], int max, int *n) {
  char buf[4096];
  *n = 0;
  if (h5u_get_attr_str(m->file, "class_names", buf, sizeof buf) < 0)
    return cm_set_error("%s: no class_names", m->path);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t && *n < max; t = strtok_r(NULL, ",", &save))
    snprintf(names[(*n)++], 24, "%s", t);
  return 0;
}

int cm_modelfile_get_attr(cm_modelfile *m, const char *key, char *buf, size_t len) {
  return h5u_get_attr_str(m->file, key, buf, len) < 0 ? cm_set_error("%s: no attribute %s", m->path, key) : 0;
}

int cm_modelfile_n_tensors(cm_modelfile *m) { return m->n_tensors; }

int cm_modelfile_tensor_name(cm_modelfile *m, int i, char *buf, size_t len) {
  if (i < 0 || i >= m->n_tensors) return cm_set_error("%s: no tensor %d", m->path, i);
  snprintf(buf, len, "%s", m->tensor_names[i]);
  return 0;
}

static hid_t open_tensor(cm_modelfile *m, const char *name) {
  char path[160];
  snprintf(path, sizeof path, "/weights/%s", name);
  if (!h5u_exists(m->file, path)) return cm_set_error("%s: no tensor %s", m->path, name);
  hid_t d = H5Dopen2(m->file, path, H5P_DEFAULT);
  return d < 0 ? cm_set_error("%s: cannot open tensor %s", m->path, name) : d;
}

int cm_modelfile_tensor_shape(cm_modelfile *m, const char *name, int64_t *dims, int max, int *ndims) {
  hid_t d = open_tensor(m, name);
  if (d < 0) return -1;
  hid_t sp = H5Dget_space(d);
  int r = H5Sget_simple_extent_ndims(sp);
  hsize_t hd[16];
  if (r >= 0 && r <= max && r <= 16) {
    H5Sget_simple_extent_dims(sp, hd, NULL);
    for (int i = 0; i < r; i++) dims[i] = (int64_t)hd[i];
    *ndims = r;
  }
  H5Sclose(sp);
  H5Dclose(d);
  return r < 0 || r > max ? cm_set_error("%s: tensor %s has rank %d", m->path, name, r) : 0;
}

int cm_modelfile_get_tensor(cm_modelfile *m, const char *name, float *out, size_t n_expected) {
  hid_t d = open_tensor(m, name);
  if (d < 0) return -1;
  hid_t sp = H5Dget_space(d);
  hssize_t np = H5Sget_simple_extent_npoints(sp);
  H5Sclose(sp);
  int r = -1;
  if (np != (hssize_t)n_expected)
    cm_set_error("%s: tensor %s has %lld values, expected %zu", m->path, name, (long long)np, n_expected);
  else if (h5u_dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    cm_set_error("%s: cannot read tensor %s", m->path, name);
  else
    r = 0;
  /* a run that diverged saves NaN weights; every prediction from them is garbage, so no
   * reader takes them */
  for (size_t i = 0; r == 0 && i < n_expected; i++)
    if (!isfinite(out[i])) r = cm_set_error("%s: tensor %s holds a value that is not a finite number", m->path, name);
  H5Dclose(d);
  return r;
}

int cm_modelfile_get_history(cm_modelfile *m, char *columns_csv, size_t len, double **rows, int *n_rows,
                             int *n_cols) {
  *rows = NULL;
  *n_rows = *n_cols = 0;
  if (!h5u_exists(m->file, "/history")) return cm_set_error("%s: no history", m->path);
  hid_t d = H5Dopen2(m->file, "/history", H5P_DEFAULT);
  hid_t sp = H5Dget_space(d);
  hsize_t dims[2] = {0, 0};
  int ok = H5Sget_simple_extent_ndims(sp) == 2;
  if (ok) H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  if (ok) {
    *rows = cm_xmalloc((dims[0] * dims[1] + 1) * sizeof(double));
    ok = dims[0] == 0 || h5u_dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) >= 0;
    h5u_get_attr_str(d, "columns", columns_csv, len);
  }
  H5Dclose(d);
  if (!ok) {
    free(*rows);
    *rows = NULL;
    return cm_set_error("%s: history is damaged", m->path);
  }
  *n_rows = (int)dims[0];
  *n_cols = (int)dims[1];
  return 0;
}

void cm_modelfile_close_reader(cm_modelfile *m) {
  if (!m) return;
  H5Fclose(m->file);
  free(m);
}
