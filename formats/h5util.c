/* HDF5 plumbing shared by formats/; see h5util.h for the design. */
#include "h5util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm_util.h"

/* HDF5 installs an atexit handler that closes every file still open. A file whose H5Fclose
 * failed (a full disk) stays open with a half-flushed cache, and closing it again at exit
 * crashes inside H5F__close_cb: the one-line error was followed by a segfault. cmact closes
 * every file it means to keep and removes the ones it gave up on, so the handler has nothing
 * to save; it is switched off before the library's first call. */
__attribute__((constructor)) static void h5u_no_atexit(void) { H5dont_atexit(); }

void h5u_quiet(void) {
  static _Thread_local int done;
  if (!done) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    done = 1;
  }
}

hid_t h5u_gcpl(void) {
  hid_t p = H5Pcreate(H5P_GROUP_CREATE);
  H5Pset_obj_track_times(p, 0);
  return p;
}

hid_t h5u_dcpl_chunked(int rank, const hsize_t *chunk) {
  hid_t p = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(p, 0);
  if (rank > 0) H5Pset_chunk(p, rank, chunk);
  return p;
}

int h5u_make_parents(hid_t loc, const char *path) {
  char part[512];
  size_t n = strlen(path);
  if (n >= sizeof part) return -1;
  for (size_t i = 1; i < n; i++) {
    if (path[i] != '/') continue;
    memcpy(part, path, i);
    part[i] = 0;
    if (H5Lexists(loc, part, H5P_DEFAULT) > 0) continue;
    hid_t gcpl = h5u_gcpl();
    hid_t g = H5Gcreate2(loc, part, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (g < 0) return -1;
    H5Gclose(g);
  }
  return 0;
}

hid_t h5u_str_type(size_t len) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, len);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  return t;
}

static int attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype, hid_t space,
                      const void *v) {
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return cm_set_error("cannot create attribute '%s'", name);
  herr_t r = H5Awrite(a, mtype, v);
  H5Aclose(a);
  return r < 0 ? cm_set_error("cannot write attribute '%s'", name) : 0;
}

int h5u_attr_str(hid_t obj, const char *name, const char *value) {
  size_t len = strlen(value) + 1;
  hid_t t = h5u_str_type(len);
  hid_t s = H5Screate(H5S_SCALAR);
  int r = attr_write(obj, name, t, t, s, value);
  H5Sclose(s);
  H5Tclose(t);
  return r;
}

int h5u_attr_f64(hid_t obj, const char *name, double v) {
  hid_t s = H5Screate(H5S_SCALAR);
  int r = attr_write(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s, &v);
  H5Sclose(s);
  return r;
}

int h5u_attr_i64(hid_t obj, const char *name, int64_t v) {
  hid_t s = H5Screate(H5S_SCALAR);
  int r = attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, s, &v);
  H5Sclose(s);
  return r;
}

int h5u_attr_i32_array(hid_t obj, const char *name, const int *v, int n) {
  hsize_t d = (hsize_t)n;
  hid_t s = H5Screate_simple(1, &d, NULL);
  int r = attr_write(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT, s, v);
  H5Sclose(s);
  return r;
}

int h5u_attr_u8_array(hid_t obj, const char *name, const uint8_t *v, size_t n) {
  hsize_t d = (hsize_t)n;
  hid_t s = n ? H5Screate_simple(1, &d, NULL) : H5Screate(H5S_NULL);
  int r = attr_write(obj, name, H5T_STD_U8LE, H5T_NATIVE_UINT8, s, v);
  H5Sclose(s);
  return r;
}

int h5u_has_attr(hid_t obj, const char *name) { return H5Aexists(obj, name) > 0; }

int h5u_get_attr_str(hid_t obj, const char *name, char *buf, size_t len) {
  if (len) buf[0] = 0;
  if (H5Aexists(obj, name) <= 0) return -1;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return -1;
  hid_t ft = H5Aget_type(a);
  int r = -1;
  if (H5Tget_class(ft) == H5T_STRING) {
    if (H5Tis_variable_str(ft) > 0) {
      char *p = NULL;
      hid_t mt = H5Tcopy(H5T_C_S1);
      H5Tset_size(mt, H5T_VARIABLE);
      H5Tset_cset(mt, H5Tget_cset(ft)); /* h5py writes UTF-8 */
      if (h5u_aread(a, mt, &p) >= 0 && p) {
        snprintf(buf, len, "%s", p);
        H5free_memory(p);
        r = 0;
      }
      H5Tclose(mt);
    } else {
      size_t sz = H5Tget_size(ft);
      char *tmp = calloc(1, sz + 1);
      hid_t mt = h5u_str_type(sz + 1);
      H5Tset_strpad(mt, H5T_STR_NULLTERM);
      hid_t mt2 = H5Tcopy(ft);
      if (h5u_aread(a, mt2, tmp) >= 0) {
        tmp[sz] = 0;
        snprintf(buf, len, "%s", tmp);
        r = 0;
      }
      H5Tclose(mt2);
      H5Tclose(mt);
      free(tmp);
    }
  }
  H5Tclose(ft);
  H5Aclose(a);
  return r;
}

static int get_attr_scalar(hid_t obj, const char *name, hid_t mtype, H5T_class_t want, void *v) {
  if (H5Aexists(obj, name) <= 0) return -1;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return -1;
  hid_t ft = H5Aget_type(a);
  hid_t sp = H5Aget_space(a);
  H5T_class_t c = H5Tget_class(ft);
  int ok = (c == H5T_INTEGER || c == H5T_FLOAT) && H5Sget_simple_extent_npoints(sp) == 1;
  (void)want;
  int r = ok && h5u_aread(a, mtype, v) >= 0 ? 0 : -1;
  H5Sclose(sp);
  H5Tclose(ft);
  H5Aclose(a);
  return r;
}

int h5u_get_attr_f64(hid_t obj, const char *name, double *v) {
  return get_attr_scalar(obj, name, H5T_NATIVE_DOUBLE, H5T_FLOAT, v);
}
int h5u_get_attr_i64(hid_t obj, const char *name, int64_t *v) {
  return get_attr_scalar(obj, name, H5T_NATIVE_INT64, H5T_INTEGER, v);
}

int h5u_get_attr_i32_array(hid_t obj, const char *name, int *v, int max, int *n) {
  if (H5Aexists(obj, name) <= 0) return -1;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return -1;
  hid_t ft = H5Aget_type(a);
  hid_t sp = H5Aget_space(a);
  hssize_t np = H5Sget_simple_extent_npoints(sp);
  int r = -1;
  if (H5Tget_class(ft) == H5T_INTEGER && np >= 0 && np <= max) {
    if (np == 0 || h5u_aread(a, H5T_NATIVE_INT, v) >= 0) {
      *n = (int)np;
      r = 0;
    }
  }
  H5Sclose(sp);
  H5Tclose(ft);
  H5Aclose(a);
  return r;
}

int h5u_exists(hid_t loc, const char *path) {
  char part[512];
  size_t n = strlen(path);
  if (n >= sizeof part) return 0;
  /* H5Lexists fails on a missing intermediate group: check each prefix. */
  for (size_t i = 1; i <= n; i++) {
    if (path[i] == '/' || path[i] == 0) {
      memcpy(part, path, i);
      part[i] = 0;
      if (strcmp(part, "/") == 0) continue;
      if (H5Lexists(loc, part, H5P_DEFAULT) <= 0) return 0;
    }
  }
  return 1;
}

int h5table_create(h5table *t, hid_t loc, const char *path, hid_t ftype, hid_t mtype, int rank,
                   const hsize_t *inner, hsize_t chunk_rows, size_t buf_rows, int deflate) {
  memset(t, 0, sizeof *t);
  t->dset = -1;
  snprintf(t->name, sizeof t->name, "%s", path);
  hsize_t dims[5] = {0}, maxd[5] = {H5S_UNLIMITED}, chunk[5] = {chunk_rows};
  size_t inner_n = 1;
  for (int i = 1; i < rank; i++) {
    dims[i] = maxd[i] = chunk[i] = inner[i - 1];
    t->inner[i - 1] = inner[i - 1];
    inner_n *= inner[i - 1];
  }
  hid_t sp = H5Screate_simple(rank, dims, maxd);
  hid_t dcpl = h5u_dcpl_chunked(rank, chunk);
  if (deflate) {
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, deflate);
  }
  t->dset = h5u_make_parents(loc, path) < 0 ? -1 : H5Dcreate2(loc, path, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(sp);
  if (t->dset < 0) return cm_set_error("cannot create dataset %s", path);
  t->mtype = H5Tcopy(mtype);
  t->rank = rank;
  t->row_bytes = H5Tget_size(mtype) * inner_n;
  t->cap = buf_rows ? buf_rows : 1;
  t->buf = cm_xmalloc(t->cap * t->row_bytes);
  return 0;
}

int h5table_open(h5table *t, hid_t loc, const char *path, hid_t mtype, size_t buf_rows) {
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", path);
  t->dset = H5Dopen2(loc, path, H5P_DEFAULT);
  if (t->dset < 0) return cm_set_error("missing dataset %s", path);
  hid_t sp = H5Dget_space(t->dset);
  int rank = H5Sget_simple_extent_ndims(sp);
  hsize_t dims[8];
  if (rank < 1 || rank > 5) {
    H5Sclose(sp);
    H5Dclose(t->dset);
    t->dset = -1;
    return cm_set_error("dataset %s has rank %d", path, rank);
  }
  H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  size_t inner_n = 1;
  for (int i = 1; i < rank; i++) {
    t->inner[i - 1] = dims[i];
    inner_n *= dims[i];
  }
  t->rank = rank;
  t->n_file = (int64_t)dims[0];
  t->mtype = H5Tcopy(mtype);
  t->row_bytes = H5Tget_size(mtype) * inner_n;
  t->cap = buf_rows ? buf_rows : 1;
  t->buf = cm_xmalloc(t->cap * t->row_bytes);
  return 0;
}

int h5table_write_out(h5table *t) {
  if (t->n_buf == 0) return 0;
  h5u_quiet();
  hsize_t newd[5] = {(hsize_t)t->n_file + t->n_buf};
  hsize_t start[5] = {(hsize_t)t->n_file}, count[5] = {t->n_buf};
  for (int i = 1; i < t->rank; i++) {
    newd[i] = t->inner[i - 1];
    start[i] = 0;
    count[i] = t->inner[i - 1];
  }
  if (H5Dset_extent(t->dset, newd) < 0) return cm_set_error("cannot extend %s", t->name);
  hid_t fs = H5Dget_space(t->dset);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t ms = H5Screate_simple(t->rank, count, NULL);
  herr_t r = H5Dwrite(t->dset, t->mtype, ms, fs, H5P_DEFAULT, t->buf);
  H5Sclose(ms);
  H5Sclose(fs);
  if (r < 0) return cm_set_error("cannot write %s (disk full?)", t->name);
  t->n_file += (int64_t)t->n_buf;
  t->n_buf = 0;
  return 0;
}

int h5table_append(h5table *t, const void *rows, size_t n) {
  const char *p = rows;
  while (n > 0) {
    size_t take = t->cap - t->n_buf;
    if (take > n) take = n;
    memcpy(t->buf + t->n_buf * t->row_bytes, p, take * t->row_bytes);
    t->n_buf += take;
    p += take * t->row_bytes;
    n -= take;
    if (t->n_buf == t->cap && h5table_write_out(t) < 0) return -1;
  }
  return 0;
}

int64_t h5table_rows(const h5table *t) { return t->n_file + (int64_t)t->n_buf; }

void h5table_close(h5table *t) {
  if (t->dset >= 0) H5Dclose(t->dset);
  if (t->mtype > 0) H5Tclose(t->mtype);
  free(t->buf);
  memset(t, 0, sizeof *t);
  t->dset = -1;
}

int64_t h5u_nrows(hid_t dset) {
  hid_t sp = H5Dget_space(dset);
  if (sp < 0) return -1;
  hsize_t dims[8];
  int rank = H5Sget_simple_extent_ndims(sp);
  if (rank < 1 || rank > 8) {
    H5Sclose(sp);
    return rank == 0 ? 1 : -1;
  }
  H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  return (int64_t)dims[0];
}

int h5u_read_rows(hid_t dset, hid_t mtype, int64_t first, int64_t n, void *out) {
  if (n <= 0) return 0;
  h5u_quiet(); /* handles may be used from threads other than the one that opened them */
  hid_t fs = H5Dget_space(dset);
  int rank = H5Sget_simple_extent_ndims(fs);
  hsize_t dims[8], start[8] = {0}, count[8];
  if (rank < 1 || rank > 8) {
    H5Sclose(fs);
    return cm_set_error("dataset of rank %d where rows were expected", rank);
  }
  H5Sget_simple_extent_dims(fs, dims, NULL);
  if (first < 0 || (hsize_t)(first + n) > dims[0]) {
    H5Sclose(fs);
    return cm_set_error("rows %lld..%lld out of range (%llu rows)", (long long)first,
                        (long long)(first + n), (unsigned long long)dims[0]);
  }
  start[0] = (hsize_t)first;
  count[0] = (hsize_t)n;
  for (int i = 1; i < rank; i++) count[i] = dims[i];
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t ms = H5Screate_simple(rank, count, NULL);
  herr_t r = h5u_dread(dset, mtype, ms, fs, H5P_DEFAULT, out);
  H5Sclose(ms);
  H5Sclose(fs);
  return r < 0 ? cm_set_error("cannot read rows (type mismatch or corrupted data)") : 0;
}

/* Whether the superblock's consistency flags say a writer has the file open (or died with it
 * open): only then is the SWMR-reader fallback below tried. A SWMR reader trusts no end of file
 * (the file may be growing), so on a corrupted file that claims a metadata block of gigabytes
 * HDF5 1.10 reads and zero-fills all of it: a 4 KB file found by fuzz_formats_read took 46 s
 * to reject. Every recording cut off by a crash has these flags set (superblock version 3,
 * which SWMR writing requires; flags byte 11: 0x1 write access, 0x4 SWMR write access). */
static int superblock_says_being_written(const char *path) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  FILE *fp = fopen(path, "rb");
  if (!fp) return 0;
  int yes = 0;
  /* the superblock sits at 0, 512, 1024, 2048, ... */
  for (long off = 0; off <= (1L << 20); off = off ? off * 2 : 512) {
    unsigned char b[12];
    if (fseek(fp, off, SEEK_SET) != 0 || fread(b, 1, sizeof b, fp) != sizeof b) break;
    if (memcmp(b, sig, 8) != 0) continue;
    yes = b[8] >= 3 && (b[11] & 0x05) != 0;
    break;
  }
  fclose(fp);
  return yes;
}

hid_t h5u_open_read(const char *path, int *unfinished) {
  h5u_quiet();
  *unfinished = 0;
  struct stat st;
  if (stat(path, &st) != 0) return cm_set_error("%s: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode)) return cm_set_error("%s: not a regular file", path);
  htri_t is = H5Fis_hdf5(path);
  if (is <= 0) return cm_set_error("%s: not an HDF5 file (or its superblock is damaged)", path);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  /* A reader must never be blocked by (or block) a recorder's lock. */
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  if (f < 0 && superblock_says_being_written(path)) {
    /* A SWMR file whose writer is gone (or still running) keeps its status flags set and
     * opens only as a SWMR reader. */
    /* HDF5 retries a metadata read whose checksum fails (the writer may be mid-flush),
     * doubling its sleep from 1 ns each time, 100 times by default: on a corrupted file that
     * is 2^100 ns, a hang (found by fuzz_formats_read). 24 attempts wait at most ~34 ms in
     * all, far longer than a writer's flush of a few metadata blocks takes. */
    H5Pset_metadata_read_attempts(fapl, 24);
    f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (f >= 0) *unfinished = 1;
  }
  H5Pclose(fapl);
  if (f < 0) return cm_set_error("%s: cannot open: truncated or corrupted HDF5 file", path);
  return f;
}

int h5u_file_schema(hid_t file, char *buf, size_t len) {
  return h5u_get_attr_str(file, "schema", buf, len);
}

hid_t h5u_open_kind(const char *path, const char *schema, const char *what) {
  int unfinished;
  hid_t f = h5u_open_read(path, &unfinished);
  if (f < 0) return -1;
  char got[64];
  if (h5u_file_schema(f, got, sizeof got) < 0 || strcmp(got, schema) != 0) {
    H5Fclose(f);
    return cm_set_error("%s: not a cmact %s file", path, what);
  }
  return f;
}

int h5u_partial_create(h5u_partial *p, const char *path, int overwrite, const char *schema,
                       int64_t schema_version) {
  h5u_quiet();
  memset(p, 0, sizeof *p);
  p->file = -1;
  struct stat st;
  if (!overwrite && stat(path, &st) == 0) return cm_set_error("%s: already exists (refusing to overwrite)", path);
  snprintf(p->path, sizeof p->path, "%s", path);
  snprintf(p->partial, sizeof p->partial, "%s.partial", path);
  /* No object timestamps, so the same content gives the same bytes. */
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  H5Pset_obj_track_times(fcpl, 0);
  errno = 0;
  p->file = H5Fcreate(p->partial, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
  H5Pclose(fcpl);
  if (p->file < 0) return cm_set_error("%s: cannot create: %s", p->partial, errno ? strerror(errno) : "HDF5 refused");
  if (h5u_attr_str(p->file, "schema", schema) < 0 || h5u_attr_i64(p->file, "schema_version", schema_version) < 0 ||
      h5u_attr_str(p->file, "software_version", CMACT_VERSION) < 0) {
    h5u_partial_abort(p);
    return cm_set_error("%s: cannot write attributes", p->partial);
  }
  return 0;
}

int h5u_partial_commit(h5u_partial *p) {
  int r = 0;
  if (H5Fclose(p->file) < 0) r = cm_set_error("%s: cannot close (disk full?)", p->partial);
  p->file = -1;
  if (r == 0 && rename(p->partial, p->path) != 0)
    r = cm_set_error("%s: cannot rename into place: %s", p->path, strerror(errno));
  if (r < 0) unlink(p->partial);
  return r;
}

void h5u_partial_abort(h5u_partial *p) {
  if (p->file >= 0) H5Fclose(p->file);
  p->file = -1;
  unlink(p->partial);
}

int h5u_type_sane(hid_t t) {
  if (t < 0) return 0;
  H5T_class_t c = H5Tget_class(t);
  size_t size = H5Tget_size(t);
  if (size == 0) return 0;
  switch (c) {
    case H5T_INTEGER:
    case H5T_FLOAT: {
      if (size > 16) return 0;
      size_t prec = H5Tget_precision(t);
      int off = H5Tget_offset(t);
      if (prec == 0 || off < 0 || prec + (size_t)off > 8 * size) return 0;
      if (c == H5T_FLOAT) {
        size_t spos, epos, esize, mpos, msize;
        if (H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) < 0) return 0;
        if (esize == 0 || msize == 0 || esize > 32 || spos >= 8 * size || epos + esize > 8 * size ||
            mpos + msize > 8 * size)
          return 0;
      }
      return 1;
    }
    case H5T_COMPOUND: {
      int n = H5Tget_nmembers(t);
      if (n < 0 || n > 1024) return 0;
      for (int i = 0; i < n; i++) {
        hid_t m = H5Tget_member_type(t, (unsigned)i);
        size_t moff = H5Tget_member_offset(t, (unsigned)i);
        int ok = m >= 0 && h5u_type_sane(m) && moff + H5Tget_size(m) <= size;
        if (m >= 0) H5Tclose(m);
        if (!ok) return 0;
      }
      return 1;
    }
    case H5T_ARRAY: {
      hid_t b = H5Tget_super(t);
      int ok = b >= 0 && h5u_type_sane(b);
      if (b >= 0) H5Tclose(b);
      return ok;
    }
    default:
      return 1; /* strings (a size is all they need), opaque, references: no bit conversion */
  }
}

herr_t h5u_aread(hid_t attr, hid_t mtype, void *buf) {
  hid_t ft = H5Aget_type(attr);
  int ok = h5u_type_sane(ft);
  if (ft >= 0) H5Tclose(ft);
  return ok ? H5Aread(attr, mtype, buf) : -1;
}

herr_t h5u_dread(hid_t dset, hid_t mtype, hid_t mspace, hid_t fspace, hid_t plist, void *buf) {
  hid_t ft = H5Dget_type(dset);
  int ok = h5u_type_sane(ft);
  if (ft >= 0) H5Tclose(ft);
  return ok ? H5Dread(dset, mtype, mspace, fspace, plist, buf) : -1;
}
