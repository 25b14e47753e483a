/*
 * h5util: the HDF5 plumbing shared by the session, dataset and model file code. Internal to
 * formats/ (no other folder includes HDF5).
 *
 * - h5u_quiet(): HDF5 prints an error stack on every failure by default; cmact turns that off
 *   per thread (the library is built thread-safe, so error stacks are per thread) and reports
 *   its own one-line errors instead.
 * - h5table: an extendible, chunked dataset whose first dimension grows, with an in-memory
 *   buffer in front of it. Appends copy into the buffer; h5table_write_out() extends the
 *   dataset and writes the buffered rows with one H5Dwrite. That is what makes appends cheap
 *   enough for a recorder: one HDF5 call per buffer, never per sample.
 * - Object creation properties always switch off object time tracking, so the same content
 *   gives byte-identical files (the simulator and the dataset builder promise that).
 */
#ifndef H5UTIL_H
#define H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

void h5u_quiet(void);

/* Property lists with time tracking off. Caller closes. */
hid_t h5u_gcpl(void);
hid_t h5u_dcpl_chunked(int rank, const hsize_t *chunk);

/* Create every missing group on the way to `path` (its last component excluded) with time
 * tracking off. HDF5's own "create intermediate groups" uses default properties, which stamp
 * the creation time into the group and so break byte-identical output. */
int h5u_make_parents(hid_t loc, const char *path);

/* Attributes. */
int h5u_attr_str(hid_t obj, const char *name, const char *value);
int h5u_attr_f64(hid_t obj, const char *name, double v);
int h5u_attr_i64(hid_t obj, const char *name, int64_t v);
int h5u_attr_i32_array(hid_t obj, const char *name, const int *v, int n);
int h5u_attr_u8_array(hid_t obj, const char *name, const uint8_t *v, size_t n);
/* Reads: -1 (no error line set) when absent or of another kind. */
int h5u_get_attr_str(hid_t obj, const char *name, char *buf, size_t len);
int h5u_get_attr_f64(hid_t obj, const char *name, double *v);
int h5u_get_attr_i64(hid_t obj, const char *name, int64_t *v);
int h5u_get_attr_i32_array(hid_t obj, const char *name, int *v, int max, int *n);
int h5u_has_attr(hid_t obj, const char *name);
int h5u_exists(hid_t loc, const char *path); /* 1 if a link path exists (all parts) */

/* A fixed-length string type of `len` bytes, NUL padded. Caller closes. */
hid_t h5u_str_type(size_t len);

typedef struct {
  hid_t dset;         /* the dataset (open) */
  hid_t mtype;        /* memory type of one element */
  int rank;           /* 1 or more; dims[1..] are fixed */
  hsize_t inner[4];   /* dims after the first */
  size_t row_bytes;   /* bytes of one row (element size * product of inner) */
  int64_t n_file;     /* rows written to the file */
  char *buf;          /* buffered rows not yet written */
  size_t n_buf, cap;  /* rows in buffer, buffer capacity in rows */
  char name[128];     /* path in the file, for error lines */
} h5table;

/* Create an extendible dataset at `path` under `loc`: rows of `inner` (rank-1 dims), chunked
 * by `chunk_rows` rows, with file type ftype and memory type mtype (borrowed, copied). */
int h5table_create(h5table *t, hid_t loc, const char *path, hid_t ftype, hid_t mtype, int rank,
                   const hsize_t *inner, hsize_t chunk_rows, size_t buf_rows, int deflate);
/* Open an existing one for appending (or reading). */
int h5table_open(h5table *t, hid_t loc, const char *path, hid_t mtype, size_t buf_rows);
int h5table_append(h5table *t, const void *rows, size_t n);
int h5table_write_out(h5table *t);
int64_t h5table_rows(const h5table *t); /* file + buffered */
void h5table_close(h5table *t);

/* Read rows [first, first+n) of a dataset with rows as first dimension into out (mtype). */
int h5u_read_rows(hid_t dset, hid_t mtype, int64_t first, int64_t n, void *out);

/* Whether a file datatype is intact enough for HDF5 to convert from it: HDF5 1.10 converts
 * numbers bit by bit as the file's datatype describes them (precision, offset, float fields),
 * and a damaged description (precision 0, an offset past the value's end) makes it read
 * outside its buffers: SIGBUS in H5T__bit_copy on a fuzzed file (session 4). Strings need a
 * size; compounds and arrays are checked member by member. */
int h5u_type_sane(hid_t type);
/* H5Aread and H5Dread, refusing (-1) a value whose file datatype is not sane. Every read in
 * formats/ goes through these. */
herr_t h5u_aread(hid_t attr, hid_t mtype, void *buf);
herr_t h5u_dread(hid_t dset, hid_t mtype, hid_t mspace, hid_t fspace, hid_t plist, void *buf);
/* Current number of rows (first dimension) of a dataset; -1 on error. */
int64_t h5u_nrows(hid_t dset);

/* Open a file for reading; *unfinished = 1 when it is a SWMR file whose writer never closed
 * it (or is still writing). Sets a one-line error naming the file on failure. */
hid_t h5u_open_read(const char *path, int *unfinished);
/* The file's schema attribute ("cmact.session", ...) or "" */
int h5u_file_schema(hid_t file, char *buf, size_t len);
/* Open for reading a file that must carry schema `schema`; otherwise a one-line error
 * "PATH: not a cmact WHAT file" and -1. */
hid_t h5u_open_kind(const char *path, const char *schema, const char *what);

/* A whole-file writer's lifecycle (dataset and model files): the file is created as
 * PATH.partial with its schema attributes and renamed to PATH only by a successful commit, so
 * a crash or an error never leaves a half-written file under the final name. */
typedef struct {
  char path[4096], partial[4200];
  hid_t file;
} h5u_partial;
/* Refuses an existing PATH unless overwrite. Writes schema, schema_version, software_version. */
int h5u_partial_create(h5u_partial *p, const char *path, int overwrite, const char *schema,
                       int64_t schema_version);
/* Close and rename into place; on any failure the partial file is removed and -1 returned. */
int h5u_partial_commit(h5u_partial *p);
/* Close (if open) and remove the partial file. */
void h5u_partial_abort(h5u_partial *p);

#endif
