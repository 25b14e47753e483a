/* Session repair by copy-and-cut; see cm_repair.h for why not h5clear. */
#include "cm_repair.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_session.h"
#include "cm_util.h"
#include "h5util.h"

static herr_t copy_attr(hid_t src, const char *name, const H5A_info_t *info, void *op) {
  hid_t dst = *(hid_t *)op;
  hid_t a = H5Aopen(src, name, H5P_DEFAULT);
  if (a < 0) return -1;
  hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
  size_t n = (size_t)H5Sget_simple_extent_npoints(sp) * H5Tget_size(t);
  void *buf = cm_xmalloc(n ? n : 1);
  herr_t r = -1;
  if (h5u_aread(a, t, buf) >= 0) {
    hid_t b = H5Acreate2(dst, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (b >= 0) {
      r = H5Awrite(b, t, buf) < 0 ? -1 : 0;
      H5Aclose(b);
    }
  }
  free(buf);
  H5Sclose(sp);
  H5Tclose(t);
  H5Aclose(a);
  return r;
}

static herr_t copy_link(hid_t src, const char *name, const H5L_info_t *info, void *op) {
  hid_t dst = *(hid_t *)op;
  return H5Ocopy(src, name, dst, name, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
}

int cm_session_repair(const char *path, int keep_backup, cm_repair_report *rep) {
  memset(rep, 0, sizeof *rep);
  int unfinished;
  hid_t src = h5u_open_read(path, &unfinished);
  if (src < 0) return -1;
  char schema[64];
  if (h5u_file_schema(src, schema, sizeof schema) < 0 || strcmp(schema, CM_SESSION_SCHEMA) != 0) {
    H5Fclose(src);
    return cm_set_error("%s: not a cmact session file (only recordings need repair)", path);
  }
  if (!unfinished) {
    H5Fclose(src);
    return 0;
  }
  rep->was_unfinished = 1;
  hid_t cd = H5Dopen2(src, "/committed", H5P_DEFAULT);
  char list[64 * 96];
  int64_t counts[64];
  if (cd < 0 || h5u_get_attr_str(cd, "tables", list, sizeof list) < 0 || h5u_nrows(cd) != 64 ||
      h5u_dread(cd, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, counts) < 0) {
    if (cd >= 0) H5Dclose(cd);
    H5Fclose(src);
    return cm_set_error("%s: no readable /committed table: the recording was cut off before its "
                        "first flush and holds nothing to keep", path);
  }
  H5Dclose(cd);

  char tmp[4200], bak[4200];
  snprintf(tmp, sizeof tmp, "%s.repair.partial", path);
  snprintf(bak, sizeof bak, "%s.unrepaired", path);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  H5Pset_obj_track_times(fcpl, 0);
  hid_t dst = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
  H5Pclose(fcpl);
  H5Pclose(fapl);
  if (dst < 0) {
    H5Fclose(src);
    return cm_set_error("%s: cannot create: %s", tmp, strerror(errno));
  }
  int r = 0;
  hsize_t idx = 0;
  if (H5Aiterate2(src, H5_INDEX_NAME, H5_ITER_INC, &idx, copy_attr, &dst) < 0)
    r = cm_set_error("%s: cannot copy the root attributes", path);
  idx = 0;
  if (r == 0 && H5Literate(src, H5_INDEX_NAME, H5_ITER_INC, &idx, copy_link, &dst) < 0)
    r = cm_set_error("%s: cannot copy its objects (damaged beyond the committed rows?)", path);
  /* Cut every table back to its committed rows. */
  char *save = NULL;
  int i = 0;
  for (char *tok = strtok_r(list, ",", &save); r == 0 && tok && i < 64; tok = strtok_r(NULL, ",", &save), i++) {
    hid_t d = H5Dopen2(dst, tok, H5P_DEFAULT);
    if (d < 0) {
      r = cm_set_error("%s: table %s listed in /committed is missing", path, tok);
      break;
    }
    hid_t sp = H5Dget_space(d);
    hsize_t dims[8];
    int rank = H5Sget_simple_extent_ndims(sp);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    if ((int64_t)dims[0] > counts[i]) {
      rep->rows_dropped += (int64_t)dims[0] - counts[i];
      dims[0] = (hsize_t)counts[i];
      if (H5Dset_extent(d, dims) < 0) r = cm_set_error("%s: cannot cut %s back to %lld rows", path, tok, (long long)counts[i]);
    } else if ((int64_t)dims[0] < counts[i]) {
      r = cm_set_error("%s: %s holds %llu rows but %lld were committed", path, tok,
                       (unsigned long long)dims[0], (long long)counts[i]);
    }
    (void)rank;
    H5Dclose(d);
    rep->n_tables++;
  }
  H5Fclose(src);
  if (H5Fclose(dst) < 0 && r == 0) r = cm_set_error("%s: cannot close (disk full?)", tmp);
  if (r == 0) {
    int fd = open(tmp, O_RDONLY);
    if (fd >= 0) {
      fsync(fd);
      close(fd);
    }
    if (keep_backup && rename(path, bak) != 0)
      r = cm_set_error("%s: cannot keep the original as %s: %s", path, bak, strerror(errno));
    else if (rename(tmp, path) != 0)
      r = cm_set_error("%s: cannot rename the repaired file into place: %s", path, strerror(errno));
  }
  if (r < 0) unlink(tmp);
  return r;
}
