/*
 * Model files: a trained network's weights by layer name, its architecture, input shape,
 * class names, training history and the procedure and seed that made it (DESIGN.md section 4).
 *
 * Layout: root attrs schema="cmact.model", schema_version, architecture, input_shape (int32[]),
 * class_names, procedure, seed, software_version, plus free key/value string attrs;
 * /weights/<layer>/<param> float32 arrays (e.g. /weights/DENSE_1/kernel, .../bias);
 * /history: float64 [epochs x columns] with attr columns (e.g. "epoch,loss,acc,val_loss,val_acc").
 * Written to PATH.partial and renamed on close. Errors as in cm_session.h.
 */
#ifndef CM_MODEL_H
#define CM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define CM_MODEL_SCHEMA "cmact.model"
#define CM_MODEL_SCHEMA_VERSION 1

typedef struct cm_modelfile cm_modelfile;

/* ---- writing ---- */
cm_modelfile *cm_modelfile_create(const char *path, const char *architecture, int overwrite);
int cm_modelfile_set_input_shape(cm_modelfile *m, const int *dims, int ndims);
int cm_modelfile_set_classes(cm_modelfile *m, const char *const *names, int n);
int cm_modelfile_set_attr(cm_modelfile *m, const char *key, const char *value); /* procedure, seed, ... */
/* name is "LAYER/param"; dims as in C order. */
int cm_modelfile_put_tensor(cm_modelfile *m, const char *name, const int64_t *dims, int ndims,
                            const float *data);
int cm_modelfile_put_history(cm_modelfile *m, const char *columns_csv, const double *rows,
                             int n_rows, int n_cols);
int cm_modelfile_close(cm_modelfile *m);   /* rename PATH.partial -> PATH */
void cm_modelfile_abort(cm_modelfile *m);

/* ---- reading ---- */
cm_modelfile *cm_modelfile_open(const char *path);
int cm_modelfile_architecture(cm_modelfile *m, char *buf, size_t len);
int cm_modelfile_input_shape(cm_modelfile *m, int *dims, int max, int *ndims);
int cm_modelfile_classes(cm_modelfile *m, char names[][24], int max, int *n);
int cm_modelfile_get_attr(cm_modelfile *m, const char *key, char *buf, size_t len);
int cm_modelfile_n_tensors(cm_modelfile *m);
int cm_modelfile_tensor_name(cm_modelfile *m, int i, char *buf, size_t len);
/* Shape of a tensor; -1 with error if absent. */
int cm_modelfile_tensor_shape(cm_modelfile *m, const char *name, int64_t *dims, int max, int *ndims);
int cm_modelfile_get_tensor(cm_modelfile *m, const char *name, float *out, size_t n_expected);
int cm_modelfile_get_history(cm_modelfile *m, char *columns_csv, size_t len, double **rows,
                             int *n_rows, int *n_cols); /* rows malloc'd */
void cm_modelfile_close_reader(cm_modelfile *m);

#endif
