/*
 * cm_h5probe: generic, read-only introspection of any HDF5 file, for the schema validator and
 * `cmact inspect`, which must look at files that may be broken in any way and so cannot go
 * through the typed session/dataset/model readers alone. Keeps HDF5 inside formats/.
 */
#ifndef CM_H5PROBE_H
#define CM_H5PROBE_H

#include <stddef.h>
#include <stdint.h>

typedef struct cm_h5file cm_h5file;

typedef enum { CM_H5_NONE = 0, CM_H5_GROUP = 1, CM_H5_DATASET = 2, CM_H5_OTHER = 3 } cm_h5_objkind;
typedef enum {
  CM_H5T_OTHER = 0,
  CM_H5T_INT,
  CM_H5T_UINT,
  CM_H5T_FLOAT,
  CM_H5T_STRING,
  CM_H5T_COMPOUND
} cm_h5_typeclass;

#define CM_H5_MAX_FIELDS 32
typedef struct {
  cm_h5_typeclass cls;
  size_t size; /* bytes of one element */
  int rank;
  int64_t dims[8];
  int64_t maxdims[8]; /* -1 = unlimited */
  int chunked;
  int64_t chunk[8];
  int n_fields;
  char fields[CM_H5_MAX_FIELDS][32];
  cm_h5_typeclass field_cls[CM_H5_MAX_FIELDS];
} cm_h5_dinfo;

typedef struct {
  cm_h5_typeclass cls;
  size_t size;
  int64_t npoints;
  char str[1024];   /* string value (strings) */
  double num;       /* first numeric value (numbers) */
  double nums[8];   /* the first 8 numeric values */
} cm_h5_ainfo;

cm_h5file *cm_h5_open(const char *path, int *unfinished);
void cm_h5_close(cm_h5file *f);
cm_h5_objkind cm_h5_kind(cm_h5file *f, const char *path);
/* Child link names of a group, sorted; returns count (<= max) or -1. */
int cm_h5_children(cm_h5file *f, const char *path, char (*names)[64], int max);
int cm_h5_dataset_info(cm_h5file *f, const char *path, cm_h5_dinfo *out);
/* Attribute of object `path` ("/" for the root); -1 when absent. */
int cm_h5_attr(cm_h5file *f, const char *path, const char *name, cm_h5_ainfo *out);
/* Rows [first, first+n) of a numeric dataset, or of one numeric field of a compound dataset
 * (field != NULL), converted to int64 / double. The dataset must be 1-D, or field NULL and
 * the values flattened. */
int cm_h5_read_i64(cm_h5file *f, const char *path, const char *field, int64_t first, int64_t n, int64_t *out);
int cm_h5_read_f64(cm_h5file *f, const char *path, const char *field, int64_t first, int64_t n, double *out);
/* One string field of a compound dataset, each into a `width`-byte slot. */
int cm_h5_read_str(cm_h5file *f, const char *path, const char *field, int64_t first, int64_t n, char *out,
                   size_t width);

#endif
