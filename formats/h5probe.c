/* Generic read-only HDF5 introspection; see cm_h5probe.h. */
#include "cm_h5probe.h"

#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "h5util.h"

struct cm_h5file {
  char path[4096];
  hid_t file;
};

cm_h5file *cm_h5_open(const char *path, int *unfinished) {
  hid_t f = h5u_open_read(path, unfinished);
  if (f < 0) return NULL;
  cm_h5file *h = cm_xcalloc(1, sizeof *h);
  snprintf(h->path, sizeof h->path, "%s", path);
  h->file = f;
  return h;
}

void cm_h5_close(cm_h5file *f) {
  if (!f) return;
  H5Fclose(f->file);
  free(f);
}

cm_h5_objkind cm_h5_kind(cm_h5file *f, const char *path) {
  if (strcmp(path, "/") != 0 && !h5u_exists(f->file, path)) return CM_H5_NONE;
  H5O_info_t oi;
  if (H5Oget_info_by_name(f->file, path, &oi, H5P_DEFAULT) < 0) return CM_H5_OTHER;
  if (oi.type == H5O_TYPE_GROUP) return CM_H5_GROUP;
  if (oi.type == H5O_TYPE_DATASET) return CM_H5_DATASET;
  return CM_H5_OTHER;
}

typedef struct {
  char (*names)[64];
  int n, max;
} child_acc;

static herr_t add_child(hid_t g, const char *name, const H5L_info_t *info, void *op) {
  child_acc *a = op;
  if (a->n < a->max) snprintf(a->names[a->n++], 64, "%s", name);
  return 0;
}

int cm_h5_children(cm_h5file *f, const char *path, char (*names)[64], int max) {
  hid_t g = H5Gopen2(f->file, path, H5P_DEFAULT);
  if (g < 0) return cm_set_error("%s: %s is not a group", f->path, path);
  child_acc a = {names, 0, max};
  hsize_t idx = 0;
  herr_t r = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, add_child, &a);
  H5Gclose(g);
  return r < 0 ? cm_set_error("%s: cannot list %s", f->path, path) : a.n;
}

static cm_h5_typeclass classify(hid_t t) {
  /* a damaged datatype is of no class the schemas know, so validate reports it as the wrong type */
  if (!h5u_type_sane(t)) return CM_H5T_OTHER;
  switch (H5Tget_class(t)) {
  case H5T_INTEGER: return H5Tget_sign(t) == H5T_SGN_NONE ? CM_H5T_UINT : CM_H5T_INT;
  case H5T_FLOAT: return CM_H5T_FLOAT;
  case H5T_STRING: return CM_H5T_STRING;
  case H5T_COMPOUND: return CM_H5T_COMPOUND;
  default: return CM_H5T_OTHER;
  }
}

int cm_h5_dataset_info(cm_h5file *f, const char *path, cm_h5_dinfo *out) {
  memset(out, 0, sizeof *out);
  hid_t d = H5Dopen2(f->file, path, H5P_DEFAULT);
  if (d < 0) return cm_set_error("%s: %s is not a dataset", f->path, path);
  hid_t t = H5Dget_type(d), sp = H5Dget_space(d), pl = H5Dget_create_plist(d);
  out->cls = classify(t);
  out->size = H5Tget_size(t);
  if (out->cls == CM_H5T_COMPOUND) {
    int nm = H5Tget_nmembers(t);
    for (int i = 0; i < nm && i < CM_H5_MAX_FIELDS; i++) {
      char *nmz = H5Tget_member_name(t, (unsigned)i);
      snprintf(out->fields[i], 32, "%s", nmz ? nmz : "");
      H5free_memory(nmz);
      hid_t mt = H5Tget_member_type(t, (unsigned)i);
      out->field_cls[i] = classify(mt);
      H5Tclose(mt);
      out->n_fields++;
    }
  }
  int rank = H5Sget_simple_extent_ndims(sp);
  hsize_t dims[8], maxd[8];
  if (rank >= 0 && rank <= 8) {
    H5Sget_simple_extent_dims(sp, dims, maxd);
    out->rank = rank;
    for (int i = 0; i < rank; i++) {
      out->dims[i] = (int64_t)dims[i];
      out->maxdims[i] = maxd[i] == H5S_UNLIMITED ? -1 : (int64_t)maxd[i];
    }
  }
  if (H5Pget_layout(pl) == H5D_CHUNKED) {
    hsize_t ch[8];
    int cr = H5Pget_chunk(pl, 8, ch);
    out->chunked = 1;
    for (int i = 0; i < cr && i < 8; i++) out->chunk[i] = (int64_t)ch[i];
  }
  H5Pclose(pl);
  H5Sclose(sp);
  H5Tclose(t);
  H5Dclose(d);
  return rank < 0 || rank > 8 ? cm_set_error("%s: %s has an unreadable shape", f->path, path) : 0;
}

int cm_h5_attr(cm_h5file *f, const char *path, const char *name, cm_h5_ainfo *out) {
  memset(out, 0, sizeof *out);
  hid_t o = H5Oopen(f->file, path, H5P_DEFAULT);
  if (o < 0) return -1;
  int r = -1;
  if (H5Aexists(o, name) > 0) {
    hid_t a = H5Aopen(o, name, H5P_DEFAULT);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    out->cls = classify(t);
    out->size = H5Tget_size(t);
    out->npoints = H5Sget_simple_extent_npoints(sp);
    r = 0;
    if (out->cls == CM_H5T_STRING) {
      h5u_get_attr_str(o, name, out->str, sizeof out->str);
    } else if ((out->cls == CM_H5T_INT || out->cls == CM_H5T_UINT || out->cls == CM_H5T_FLOAT) &&
               out->npoints >= 1 && out->npoints < 1000000) {
      double *v = cm_xmalloc((size_t)out->npoints * sizeof(double));
      if (h5u_aread(a, H5T_NATIVE_DOUBLE, v) >= 0) {
        out->num = v[0];
        for (int64_t i = 0; i < out->npoints && i < 8; i++) out->nums[i] = v[i];
      }
      free(v);
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
  }
  H5Oclose(o);
  return r;
}

static int read_conv(cm_h5file *f, const char *path, const char *field, int64_t first, int64_t n, hid_t native,
                     size_t esz, void *out) {
  hid_t d = H5Dopen2(f->file, path, H5P_DEFAULT);
  if (d < 0) return cm_set_error("%s: no dataset %s", f->path, path);
  hid_t mt = native;
  int made = 0;
  if (field) {
    mt = H5Tcreate(H5T_COMPOUND, esz);
    if (native == H5T_NATIVE_CHAR) {
      hid_t s = h5u_str_type(esz);
      H5Tinsert(mt, field, 0, s);
      H5Tclose(s);
    } else {
      H5Tinsert(mt, field, 0, native);
    }
    made = 1;
  }
  int r = h5u_read_rows(d, mt, first, n, out);
  if (made) H5Tclose(mt);
  H5Dclose(d);
  return r < 0 ? cm_prefix_error("%s: %s%s%s", f->path, path, field ? "." : "", field ? field : "") : 0;
}

int cm_h5_read_i64(cm_h5file *f, const char *path, const char *field, int64_t first, int64_t n, int64_t *out) {
  return read_conv(f, path, field, first, n, H5T_NATIVE_INT64, sizeof(int64_t), out);
}
int cm_h5_read_f64(cm_h5file *f, const char *path, const char *field, int64_t first, int64_t n, double *out) {
  return read_conv(f, path, field, first, n, H5T_NATIVE_DOUBLE, sizeof(double), out);
}
int cm_h5_read_str(cm_h5file *f, const char *path, const char *field, int64_t first, int64_t n, char *out,
                   size_t width) {
  return read_conv(f, path, field, first, n, H5T_NATIVE_CHAR, width, out);
}
