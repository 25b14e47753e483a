/*
 * Session files: writer and reader (the API and layout are described in cm_session.h).
 *
 * Crash safety rests on three rules:
 *  1. Every group, dataset and attribute exists before cm_session_start() turns on SWMR
 *     writing; afterwards the file only grows by appends to chunked, extendible datasets.
 *  2. Each flush writes the buffered rows, flushes the file, and only then records the new row
 *     counts in /committed and flushes again. A reader believes /committed, not the dataset
 *     extents, so rows whose data may not have reached the file are never read.
 *  3. Flushes happen at least every CM_FLUSH_NS (checked on each append), so a SIGKILL loses
 *     less than a second.
 * Readers open with SWMR_READ when the normal open is refused because the status flags are
 * still set; that is how a file whose writer died is recognised as unfinished.
 */
#include "cm_session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cm_util.h"
#include "h5util.h"
#include "rowtypes.h"

#define CM_MAX_STREAMS 16
#define CM_MAX_TABLES 64
#define CM_FLUSH_NS 500000000LL /* flush twice a second: a kill loses < 1 s */

typedef struct {
  cm_stream_info info;
  hid_t group;
  h5table t[3]; /* video: packets, index; audio: pcm, blocks; imu: data, t_device_ns, t_host_ns */
  int n_t;
  int committed_idx[3];
} stream_t;

struct cm_session {
  char path[4096];
  hid_t file;
  int writing, started;
  cm_session_meta meta;
  int n_streams;
  stream_t streams[CM_MAX_STREAMS];
  h5table chrony, labels, events;
  h5table *tables[CM_MAX_TABLES];
  char table_paths[CM_MAX_TABLES][96];
  int n_tables;
  int64_t committed[CM_MAX_TABLES];
  hid_t committed_dset;
  int64_t last_flush_ns;
  int manual_flush; /* flush only when buffers fill or when asked (cm_session_set_manual_flush) */
  int failed; /* a write failed: the file keeps what was committed before */
};

static const char *stream_table_names[4][3] = {
    [CM_STREAM_VIDEO] = {"packets", "index", NULL},
    [CM_STREAM_AUDIO] = {"pcm", "blocks", NULL},
    [CM_STREAM_IMU] = {"data", "t_device_ns", "t_host_ns"},
};

static const char *kind_name(cm_stream_kind k) {
  switch (k) {
  case CM_STREAM_VIDEO: return "video";
  case CM_STREAM_AUDIO: return "audio";
  case CM_STREAM_IMU: return "imu";
  }
  return "unknown";
}

static int kind_from_name(const char *s) {
  if (strcmp(s, "video") == 0) return CM_STREAM_VIDEO;
  if (strcmp(s, "audio") == 0) return CM_STREAM_AUDIO;
  if (strcmp(s, "imu") == 0) return CM_STREAM_IMU;
  return -1;
}

static int err(cm_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int err(cm_session *s, const char *fmt, ...) {
  char line[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  return cm_set_error("%s: %s", s->path, line);
}

static void register_table(cm_session *s, h5table *t, const char *path) {
  s->tables[s->n_tables] = t;
  snprintf(s->table_paths[s->n_tables], sizeof s->table_paths[0], "%s", path);
  s->n_tables++;
}

static void utc_now(char *buf, size_t n) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cm_session *cm_session_create(const char *path, const cm_session_info *info, int overwrite) {
  h5u_quiet();
  cm_session *s = cm_xcalloc(1, sizeof *s);
  snprintf(s->path, sizeof s->path, "%s", path);
  struct stat st;
  if (!overwrite && stat(path, &st) == 0) {
    err(s, "already exists (refusing to overwrite)");
    free(s);
    return NULL;
  }
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  H5Pset_obj_track_times(fcpl, 0);
  s->file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
  H5Pclose(fcpl);
  H5Pclose(fapl);
  if (s->file < 0) {
    err(s, "cannot create: %s", errno ? strerror(errno) : "HDF5 refused");
    free(s);
    return NULL;
  }
  s->writing = 1;
  char created[32];
  const char *sv = CMACT_VERSION;
  utc_now(created, sizeof created);
  if (info && info->created_utc) snprintf(created, sizeof created, "%s", info->created_utc);
  if (h5u_attr_str(s->file, "schema", CM_SESSION_SCHEMA) < 0 ||
      h5u_attr_i64(s->file, "schema_version", CM_SESSION_SCHEMA_VERSION) < 0 ||
      h5u_attr_str(s->file, "session_id", info && info->session_id ? info->session_id : "") < 0 ||
      h5u_attr_str(s->file, "user", info && info->user ? info->user : "") < 0 ||
      h5u_attr_str(s->file, "location", info && info->location ? info->location : "") < 0 ||
      h5u_attr_str(s->file, "host", info && info->host ? info->host : "") < 0 ||
      h5u_attr_str(s->file, "software_version", sv) < 0 ||
      h5u_attr_str(s->file, "created_utc", created) < 0) {
    cm_prefix_error("%s", path);
    H5Fclose(s->file);
    free(s);
    return NULL;
  }
  hid_t gcpl = h5u_gcpl();
  hid_t g1 = H5Gcreate2(s->file, "/clock", H5P_DEFAULT, gcpl, H5P_DEFAULT);
  hid_t g2 = H5Gcreate2(s->file, "/streams", H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  H5Gclose(g1);
  H5Gclose(g2);
  if (h5table_create(&s->chrony, s->file, "/clock/chrony", rowtype_file(ROW_CHRONY),
                     rowtype_mem(ROW_CHRONY), 1, NULL, 64, 16, 0) < 0 ||
      h5table_create(&s->labels, s->file, "/labels", rowtype_file(ROW_LABEL),
                     rowtype_mem(ROW_LABEL), 1, NULL, 64, 16, 0) < 0 ||
      h5table_create(&s->events, s->file, "/events", rowtype_file(ROW_EVENT),
                     rowtype_mem(ROW_EVENT), 1, NULL, 128, 64, 0) < 0) {
    cm_prefix_error("%s", path);
    H5Fclose(s->file);
    free(s);
    return NULL;
  }
  register_table(s, &s->chrony, "/clock/chrony");
  register_table(s, &s->labels, "/labels");
  register_table(s, &s->events, "/events");
  return s;
}

int cm_session_add_stream(cm_session *s, const cm_stream_desc *d) {
  if (!s->writing || s->started) return err(s, "streams can only be added before recording starts");
  if (s->n_streams >= CM_MAX_STREAMS) return err(s, "too many streams (max %d)", CM_MAX_STREAMS);
  if (!d->name || !*d->name || strchr(d->name, '/') || strlen(d->name) >= 32)
    return err(s, "bad stream name '%s'", d->name ? d->name : "");
  for (int i = 0; i < s->n_streams; i++)
    if (strcmp(s->streams[i].info.name, d->name) == 0)
      return err(s, "stream '%s' declared twice", d->name);
  if (d->kind < CM_STREAM_VIDEO || d->kind > CM_STREAM_IMU)
    return err(s, "stream '%s': unknown kind", d->name);
  if (d->kind == CM_STREAM_AUDIO && (d->channels < 1 || d->channels > 16 || d->sample_rate <= 0))
    return err(s, "stream '%s': audio needs a sample rate and 1-16 channels", d->name);
  if (d->kind == CM_STREAM_VIDEO && (!d->codec || (d->time_base_den <= 0)))
    return err(s, "stream '%s': video needs a codec and a time base", d->name);

  stream_t *st = &s->streams[s->n_streams];
  memset(st, 0, sizeof *st);
  cm_stream_info *in = &st->info;
  snprintf(in->name, sizeof in->name, "%s", d->name);
  in->kind = d->kind;
  in->nominal_rate = d->nominal_rate;
  snprintf(in->units, sizeof in->units, "%s", d->units ? d->units : "");
  snprintf(in->device, sizeof in->device, "%s", d->device ? d->device : "");
  snprintf(in->transport, sizeof in->transport, "%s", d->transport ? d->transport : "");
  snprintf(in->codec, sizeof in->codec, "%s", d->codec ? d->codec : "");
  in->width = d->width;
  in->height = d->height;
  in->time_base_num = d->time_base_num;
  in->time_base_den = d->time_base_den;
  in->sample_rate = d->sample_rate;
  in->channels = d->channels;
  snprintf(in->start_time_source, sizeof in->start_time_source, "%s",
           d->start_time_source ? d->start_time_source : "clock");
  in->start_time_uncertainty_s = d->start_time_uncertainty_s;

  char gpath[96];
  snprintf(gpath, sizeof gpath, "/streams/%s", d->name);
  hid_t gcpl = h5u_gcpl();
  st->group = H5Gcreate2(s->file, gpath, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  if (st->group < 0) return err(s, "cannot create %s", gpath);
  hid_t g = st->group;
  int r = 0;
  r |= h5u_attr_str(g, "kind", kind_name(d->kind));
  r |= h5u_attr_f64(g, "nominal_rate", d->nominal_rate);
  r |= h5u_attr_str(g, "units", in->units);
  r |= h5u_attr_str(g, "device", in->device);
  r |= h5u_attr_str(g, "transport", in->transport);
  r |= h5u_attr_str(g, "start_time_source", in->start_time_source);
  r |= h5u_attr_f64(g, "start_time_uncertainty_s", in->start_time_uncertainty_s);
  char tpath[3][128];
  for (int i = 0; i < 3 && stream_table_names[d->kind][i]; i++)
    snprintf(tpath[i], sizeof tpath[i], "%s/%s", gpath, stream_table_names[d->kind][i]);
  if (d->kind == CM_STREAM_VIDEO) {
    r |= h5u_attr_str(g, "codec", in->codec);
    r |= h5u_attr_i64(g, "width", d->width);
    r |= h5u_attr_i64(g, "height", d->height);
    int tb[2] = {d->time_base_num, d->time_base_den};
    r |= h5u_attr_i32_array(g, "time_base", tb, 2);
    hsize_t n = d->extradata_size, maxd = n;
    hid_t sp = H5Screate_simple(1, &n, &maxd);
    hid_t dcpl = h5u_dcpl_chunked(0, NULL);
    hid_t ed = H5Dcreate2(g, "extradata", H5T_STD_U8LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ed >= 0 && n) r |= H5Dwrite(ed, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, d->extradata) < 0;
    if (ed < 0) r = -1; else H5Dclose(ed);
    H5Pclose(dcpl);
    H5Sclose(sp);
    r |= h5table_create(&st->t[0], s->file, tpath[0], H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, NULL,
                        65536, 1 << 20, 0);
    r |= h5table_create(&st->t[1], s->file, tpath[1], rowtype_file(ROW_PACKET),
                        rowtype_mem(ROW_PACKET), 1, NULL, 512, 256, 0);
    st->n_t = 2;
  } else if (d->kind == CM_STREAM_AUDIO) {
    r |= h5u_attr_i64(g, "sample_rate", d->sample_rate);
    r |= h5u_attr_i64(g, "channels", d->channels);
    r |= h5u_attr_str(g, "sample_format", "s16");
    hsize_t inner = (hsize_t)d->channels;
    r |= h5table_create(&st->t[0], s->file, tpath[0], H5T_STD_I16LE, H5T_NATIVE_INT16, 2, &inner,
                        8192, 32768, 0);
    r |= h5table_create(&st->t[1], s->file, tpath[1], rowtype_file(ROW_AUDIO_BLOCK),
                        rowtype_mem(ROW_AUDIO_BLOCK), 1, NULL, 512, 128, 0);
    st->n_t = 2;
  } else {
    hsize_t six = 6;
    r |= h5table_create(&st->t[0], s->file, tpath[0], H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, &six,
                        2048, 4096, 0);
    r |= h5table_create(&st->t[1], s->file, tpath[1], H5T_STD_I64LE, H5T_NATIVE_INT64, 1, NULL,
                        2048, 4096, 0);
    r |= h5table_create(&st->t[2], s->file, tpath[2], H5T_STD_I64LE, H5T_NATIVE_INT64, 1, NULL,
                        2048, 4096, 0);
    st->n_t = 3;
    if (st->t[0].dset >= 0) {
      r |= h5u_attr_str(st->t[0].dset, "columns", "acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z");
      r |= h5u_attr_str(st->t[0].dset, "unit", "m/s^2,m/s^2,m/s^2,rad/s,rad/s,rad/s");
    }
  }
  if (r) return cm_prefix_error("%s: stream '%s'", s->path, d->name);
  for (int i = 0; i < st->n_t; i++) {
    st->committed_idx[i] = s->n_tables;
    register_table(s, &st->t[i], tpath[i]);
  }
  return s->n_streams++;
}

static hid_t truth_parent(cm_session *s, const char *name, const char **leaf) {
  char path[512];
  snprintf(path, sizeof path, "/truth/%s", name);
  char *slash = strrchr(path, '/');
  *leaf = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
  *slash = 0;
  if (!h5u_exists(s->file, path)) {
    if (h5u_make_parents(s->file, path) < 0) return -1;
    hid_t gcpl = h5u_gcpl();
    hid_t g = H5Gcreate2(s->file, path, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
  }
  return H5Gopen2(s->file, path, H5P_DEFAULT);
}

static int put_truth_array(cm_session *s, const char *name, hid_t ft, hid_t mt, const void *v, size_t n) {
  if (!s->writing || s->started) return err(s, "truth can only be written before recording starts");
  const char *leaf;
  hid_t g = truth_parent(s, name, &leaf);
  if (g < 0) return err(s, "cannot create the group of /truth/%s", name);
  hsize_t d = n;
  hid_t sp = H5Screate_simple(1, &d, NULL);
  hid_t dcpl = h5u_dcpl_chunked(0, NULL);
  hid_t ds = H5Dcreate2(g, leaf, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  int r = ds < 0 || (n && H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0);
  if (ds >= 0) H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Gclose(g);
  return r ? err(s, "cannot write /truth/%s", name) : 0;
}

int cm_session_put_truth_f64(cm_session *s, const char *name, const double *v, size_t n) {
  return put_truth_array(s, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, n);
}
int cm_session_put_truth_i64(cm_session *s, const char *name, const int64_t *v, size_t n) {
  return put_truth_array(s, name, H5T_STD_I64LE, H5T_NATIVE_INT64, v, n);
}
int cm_session_put_truth_attr(cm_session *s, const char *name, double v) {
  if (!s->writing || s->started) return err(s, "truth can only be written before recording starts");
  const char *leaf;
  hid_t g = truth_parent(s, name, &leaf);
  if (g < 0) return err(s, "cannot create the group of /truth/%s", name);
  int r = h5u_attr_f64(g, leaf, v);
  H5Gclose(g);
  return r < 0 ? err(s, "cannot write /truth/%s", name) : 0;
}
int cm_session_put_truth_str(cm_session *s, const char *name, const char *v) {
  if (!s->writing || s->started) return err(s, "truth can only be written before recording starts");
  const char *leaf;
  hid_t g = truth_parent(s, name, &leaf);
  if (g < 0) return err(s, "cannot create the group of /truth/%s", name);
  int r = h5u_attr_str(g, leaf, v);
  H5Gclose(g);
  return r < 0 ? err(s, "cannot write /truth/%s", name) : 0;
}

int cm_session_start(cm_session *s) {
  if (!s->writing || s->started) return err(s, "recording already started");
  /* /committed: contiguous, allocated now, so later writes change no metadata. */
  hsize_t n = CM_MAX_TABLES;
  hid_t sp = H5Screate_simple(1, &n, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, 0);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  int64_t zero = 0;
  H5Pset_fill_value(dcpl, H5T_NATIVE_INT64, &zero);
  s->committed_dset = H5Dcreate2(s->file, "/committed", H5T_STD_I64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(sp);
  if (s->committed_dset < 0) return err(s, "cannot create /committed");
  /* The table order, as one comma-separated attribute. */
  char list[CM_MAX_TABLES * 96] = "";
  for (int i = 0; i < s->n_tables; i++) {
    if (i) strcat(list, ",");
    strcat(list, s->table_paths[i]);
  }
  if (h5u_attr_str(s->committed_dset, "tables", list) < 0) return err(s, "cannot write /committed");
  if (H5Fstart_swmr_write(s->file) < 0) return err(s, "cannot start SWMR writing");
  s->started = 1;
  s->last_flush_ns = cm_monotonic_ns();
  return cm_session_flush(s);
}

int cm_session_flush(cm_session *s) {
  if (!s->writing) return 0;
  if (s->failed) return err(s, "an earlier write failed; the file keeps what was committed");
  for (int i = 0; i < s->n_tables; i++)
    if (h5table_write_out(s->tables[i]) < 0) {
      s->failed = 1;
      return cm_prefix_error("%s", s->path);
    }
  if (H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0) {
    s->failed = 1;
    return err(s, "cannot flush (disk full?)");
  }
  if (s->started) {
    for (int i = 0; i < s->n_tables; i++) s->committed[i] = s->tables[i]->n_file;
    if (H5Dwrite(s->committed_dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->committed) < 0 ||
        H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0) {
      s->failed = 1;
      return err(s, "cannot flush (disk full?)");
    }
  }
  s->last_flush_ns = cm_monotonic_ns();
  return 0;
}

void cm_session_set_manual_flush(cm_session *s, int on) { s->manual_flush = on != 0; }

static int maybe_flush(cm_session *s) {
  if (!s->started || s->manual_flush) return 0;
  if (cm_monotonic_ns() - s->last_flush_ns < CM_FLUSH_NS) return 0;
  return cm_session_flush(s);
}

static stream_t *writable_stream(cm_session *s, int stream, cm_stream_kind kind) {
  if (!s->writing) {
    err(s, "not open for writing");
    return NULL;
  }
  if (s->failed) {
    err(s, "an earlier write failed; the file keeps what was committed");
    return NULL;
  }
  if (stream < 0 || stream >= s->n_streams || s->streams[stream].info.kind != kind) {
    err(s, "stream %d is not a %s stream", stream, kind_name(kind));
    return NULL;
  }
  return &s->streams[stream];
}

static int append_failed(cm_session *s) {
  s->failed = 1;
  return cm_prefix_error("%s", s->path);
}

int cm_session_append_packet(cm_session *s, int stream, const void *data, const cm_packet_row *r) {
  stream_t *st = writable_stream(s, stream, CM_STREAM_VIDEO);
  if (!st) return -1;
  cm_packet_row row = *r;
  row.offset = (uint64_t)h5table_rows(&st->t[0]);
  if (h5table_append(&st->t[0], data, r->size) < 0 || h5table_append(&st->t[1], &row, 1) < 0)
    return append_failed(s);
  return maybe_flush(s);
}

int cm_session_append_audio(cm_session *s, int stream, const int16_t *pcm, int n_frames, int64_t t_host_ns) {
  stream_t *st = writable_stream(s, stream, CM_STREAM_AUDIO);
  if (!st) return -1;
  if (n_frames <= 0) return 0;
  cm_audio_block_row b = {h5table_rows(&st->t[0]), n_frames, t_host_ns};
  if (h5table_append(&st->t[0], pcm, (size_t)n_frames) < 0 || h5table_append(&st->t[1], &b, 1) < 0)
    return append_failed(s);
  return maybe_flush(s);
}

int cm_session_append_imu(cm_session *s, int stream, const float *xyz6, const int64_t *t_device_ns,
                          const int64_t *t_host_ns, size_t n) {
  stream_t *st = writable_stream(s, stream, CM_STREAM_IMU);
  if (!st) return -1;
  if (h5table_append(&st->t[0], xyz6, n) < 0 || h5table_append(&st->t[1], t_device_ns, n) < 0 ||
      h5table_append(&st->t[2], t_host_ns, n) < 0)
    return append_failed(s);
  return maybe_flush(s);
}

static int append_row(cm_session *s, h5table *t, const void *row) {
  if (!s->writing) return err(s, "not open for writing");
  if (s->failed) return err(s, "an earlier write failed; the file keeps what was committed");
  if (h5table_append(t, row, 1) < 0) return append_failed(s);
  return maybe_flush(s);
}

int cm_session_append_chrony(cm_session *s, const cm_chrony_row *r) { return append_row(s, &s->chrony, r); }
int cm_session_append_label(cm_session *s, const cm_label_row *r) { return append_row(s, &s->labels, r); }
int cm_session_append_event(cm_session *s, const cm_event_row *r) { return append_row(s, &s->events, r); }

int cm_session_event(cm_session *s, int64_t t_host_ns, const char *stream, const char *kind,
                     double value, const char *fmt, ...) {
  cm_event_row e;
  memset(&e, 0, sizeof e);
  e.t_host_ns = t_host_ns;
  snprintf(e.stream, sizeof e.stream, "%s", stream ? stream : "");
  snprintf(e.kind, sizeof e.kind, "%s", kind);
  e.value = value;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.detail, sizeof e.detail, fmt, ap);
    va_end(ap);
  }
  return cm_session_append_event(s, &e);
}

int64_t cm_session_file_size(cm_session *s) {
  hsize_t sz = 0;
  if (H5Fget_filesize(s->file, &sz) < 0) return -1;
  return (int64_t)sz;
}

static void close_handles(cm_session *s) {
  for (int i = 0; i < s->n_streams; i++) {
    for (int k = 0; k < s->streams[i].n_t; k++) h5table_close(&s->streams[i].t[k]);
    if (s->streams[i].group > 0) H5Gclose(s->streams[i].group);
  }
  h5table_close(&s->chrony);
  h5table_close(&s->labels);
  h5table_close(&s->events);
  if (s->committed_dset > 0) H5Dclose(s->committed_dset);
}

int cm_session_close(cm_session *s) {
  if (!s) return 0;
  int r = 0;
  if (s->writing) {
    if (!s->started && !s->failed) {
      /* A file never switched to SWMR still gets its /committed so readers treat it alike. */
      if (cm_session_start(s) < 0) r = -1;
    }
    if (r == 0 && !s->failed && cm_session_flush(s) < 0) r = -1;
    if (s->failed && s->started) {
      /* A write failed (a full disk): cut every table back to its committed rows, so that the
       * closed file holds exactly what was committed. Shrinking needs no new space. */
      for (int i = 0; i < s->n_tables; i++) {
        h5table *t = s->tables[i];
        hsize_t dims[5] = {(hsize_t)s->committed[i]};
        for (int k = 1; k < t->rank && k < 5; k++) dims[k] = t->inner[k - 1];
        H5Dset_extent(t->dset, dims);
      }
    }
  }
  char saved[1024];
  snprintf(saved, sizeof saved, "%s", cm_error());
  close_handles(s);
  if (H5Fclose(s->file) < 0 && r == 0) r = err(s, "cannot close (disk full?)");
  if (r < 0) cm_set_error("%s", saved);
  free(s);
  return r;
}

/* ------------------------------------------------------------------------------------------ */
/* reading */

static int load_committed(cm_session *s) {
  hid_t d = H5Dopen2(s->file, "/committed", H5P_DEFAULT);
  if (d < 0) return err(s, "no /committed table (not written by cmact, or cut off before its first flush)");
  char list[CM_MAX_TABLES * 96];
  int64_t counts[CM_MAX_TABLES];
  int ok = h5u_get_attr_str(d, "tables", list, sizeof list) == 0 && h5u_nrows(d) == CM_MAX_TABLES &&
           h5u_dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, counts) >= 0;
  H5Dclose(d);
  if (!ok) return err(s, "/committed is damaged");
  s->n_tables = 0;
  char *save = NULL;
  for (char *tok = strtok_r(list, ",", &save); tok && s->n_tables < CM_MAX_TABLES;
       tok = strtok_r(NULL, ",", &save)) {
    snprintf(s->table_paths[s->n_tables], sizeof s->table_paths[0], "%s", tok);
    s->committed[s->n_tables] = counts[s->n_tables];
    s->n_tables++;
  }
  return 0;
}

/* Committed rows of a table path, bounded by what the dataset really holds. */
static int64_t committed_rows(cm_session *s, const char *path, hid_t dset) {
  int64_t n = -1;
  for (int i = 0; i < s->n_tables; i++)
    if (strcmp(s->table_paths[i], path) == 0) n = s->committed[i];
  int64_t have = h5u_nrows(dset);
  if (n < 0 || have < n) n = have;
  return n < 0 ? 0 : n;
}

static int open_stream(cm_session *s, const char *name) {
  stream_t *st = &s->streams[s->n_streams];
  memset(st, 0, sizeof *st);
  cm_stream_info *in = &st->info;
  char gpath[96], kind[16];
  snprintf(gpath, sizeof gpath, "/streams/%s", name);
  st->group = H5Gopen2(s->file, gpath, H5P_DEFAULT);
  if (st->group < 0) return err(s, "cannot open %s", gpath);
  snprintf(in->name, sizeof in->name, "%s", name);
  if (h5u_get_attr_str(st->group, "kind", kind, sizeof kind) < 0 || kind_from_name(kind) < 0) {
    H5Gclose(st->group);
    return err(s, "%s: missing or unknown 'kind' attribute", gpath);
  }
  in->kind = kind_from_name(kind);
  h5u_get_attr_f64(st->group, "nominal_rate", &in->nominal_rate);
  h5u_get_attr_str(st->group, "units", in->units, sizeof in->units);
  h5u_get_attr_str(st->group, "device", in->device, sizeof in->device);
  h5u_get_attr_str(st->group, "transport", in->transport, sizeof in->transport);
  h5u_get_attr_str(st->group, "codec", in->codec, sizeof in->codec);
  h5u_get_attr_str(st->group, "start_time_source", in->start_time_source, sizeof in->start_time_source);
  h5u_get_attr_f64(st->group, "start_time_uncertainty_s", &in->start_time_uncertainty_s);
  int64_t v;
  if (h5u_get_attr_i64(st->group, "width", &v) == 0) in->width = (int)v;
  if (h5u_get_attr_i64(st->group, "height", &v) == 0) in->height = (int)v;
  if (h5u_get_attr_i64(st->group, "sample_rate", &v) == 0) in->sample_rate = (int)v;
  if (h5u_get_attr_i64(st->group, "channels", &v) == 0) in->channels = (int)v;
  int tb[2], ntb = 0;
  if (h5u_get_attr_i32_array(st->group, "time_base", tb, 2, &ntb) == 0 && ntb == 2) {
    in->time_base_num = tb[0];
    in->time_base_den = tb[1];
  }
  for (int i = 0; i < 3 && stream_table_names[in->kind][i]; i++) {
    char tpath[128];
    snprintf(tpath, sizeof tpath, "%s/%s", gpath, stream_table_names[in->kind][i]);
    hid_t d = H5Dopen2(s->file, tpath, H5P_DEFAULT);
    if (d < 0) {
      for (int k = 0; k < i; k++) H5Dclose(st->t[k].dset);
      H5Gclose(st->group);
      return err(s, "missing dataset %s", tpath);
    }
    st->t[i].dset = d;
    st->t[i].n_file = committed_rows(s, tpath, d);
    snprintf(st->t[i].name, sizeof st->t[i].name, "%s", tpath);
    st->n_t = i + 1;
  }
  if (in->kind == CM_STREAM_VIDEO) {
    in->count = st->t[1].n_file;
    in->n_blocks = st->t[0].n_file;
  } else if (in->kind == CM_STREAM_AUDIO) {
    in->count = st->t[0].n_file;
    in->n_blocks = st->t[1].n_file;
  } else {
    int64_t n = st->t[0].n_file;
    if (st->t[1].n_file < n) n = st->t[1].n_file;
    if (st->t[2].n_file < n) n = st->t[2].n_file;
    in->count = n;
  }
  s->n_streams++;
  return 0;
}

static herr_t collect_stream_name(hid_t g, const char *name, const H5L_info_t *info, void *op) {
  char (*names)[32] = op;
  for (int i = 0; i < CM_MAX_STREAMS; i++)
    if (!names[i][0]) {
      snprintf(names[i], 32, "%s", name);
      return 0;
    }
  return 1;
}

static int open_table_reader(cm_session *s, h5table *t, const char *path) {
  memset(t, 0, sizeof *t);
  t->dset = H5Dopen2(s->file, path, H5P_DEFAULT);
  if (t->dset < 0) return err(s, "missing dataset %s", path);
  t->n_file = committed_rows(s, path, t->dset);
  snprintf(t->name, sizeof t->name, "%s", path);
  return 0;
}

cm_session *cm_session_open(const char *path) {
  cm_session *s = cm_xcalloc(1, sizeof *s);
  snprintf(s->path, sizeof s->path, "%s", path);
  int unfinished = 0;
  s->file = h5u_open_read(path, &unfinished);
  if (s->file < 0) {
    free(s);
    return NULL;
  }
  cm_session_meta *m = &s->meta;
  m->unfinished = unfinished;
  char schema[64];
  if (h5u_file_schema(s->file, schema, sizeof schema) < 0 || strcmp(schema, CM_SESSION_SCHEMA) != 0) {
    err(s, "not a cmact session file (schema attribute is '%s')",
        h5u_file_schema(s->file, schema, sizeof schema) < 0 ? "missing" : schema);
    goto fail;
  }
  int64_t v = 0;
  h5u_get_attr_i64(s->file, "schema_version", &v);
  m->schema_version = (int)v;
  if (m->schema_version > CM_SESSION_SCHEMA_VERSION) {
    err(s, "schema version %d is newer than this cmact understands (%d)", m->schema_version,
        CM_SESSION_SCHEMA_VERSION);
    goto fail;
  }
  h5u_get_attr_str(s->file, "session_id", m->session_id, sizeof m->session_id);
  h5u_get_attr_str(s->file, "user", m->user, sizeof m->user);
  h5u_get_attr_str(s->file, "location", m->location, sizeof m->location);
  h5u_get_attr_str(s->file, "host", m->host, sizeof m->host);
  h5u_get_attr_str(s->file, "software_version", m->software_version, sizeof m->software_version);
  h5u_get_attr_str(s->file, "created_utc", m->created_utc, sizeof m->created_utc);
  if (load_committed(s) < 0) goto fail;
  if (open_table_reader(s, &s->chrony, "/clock/chrony") < 0 ||
      open_table_reader(s, &s->labels, "/labels") < 0 ||
      open_table_reader(s, &s->events, "/events") < 0)
    goto fail;
  m->n_chrony = s->chrony.n_file;
  m->n_labels = s->labels.n_file;
  m->n_events = s->events.n_file;
  char names[CM_MAX_STREAMS][32];
  memset(names, 0, sizeof names);
  hid_t g = H5Gopen2(s->file, "/streams", H5P_DEFAULT);
  if (g < 0) {
    err(s, "missing group /streams");
    goto fail;
  }
  hsize_t idx = 0;
  H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_stream_name, names);
  H5Gclose(g);
  for (int i = 0; i < CM_MAX_STREAMS && names[i][0]; i++)
    if (open_stream(s, names[i]) < 0) goto fail;
  m->n_streams = s->n_streams;
  return s;
fail:
  close_handles(s);
  H5Fclose(s->file);
  free(s);
  return NULL;
}

const cm_session_meta *cm_session_get_meta(cm_session *s) { return &s->meta; }
const char *cm_session_path(cm_session *s) { return s->path; }

int cm_session_stream_info(cm_session *s, int stream, cm_stream_info *out) {
  if (stream < 0 || stream >= s->n_streams) return err(s, "no stream %d", stream);
  *out = s->streams[stream].info;
  return 0;
}

int cm_session_find_stream(cm_session *s, const char *name) {
  for (int i = 0; i < s->n_streams; i++)
    if (strcmp(s->streams[i].info.name, name) == 0) return i;
  return -1;
}

static int read_table(cm_session *s, h5table *t, hid_t mtype, int64_t first, int64_t n, void *out) {
  if (first < 0 || n < 0 || first + n > t->n_file)
    return err(s, "%s: rows %lld..%lld out of range (%lld committed)", t->name, (long long)first,
               (long long)(first + n), (long long)t->n_file);
  if (h5u_read_rows(t->dset, mtype, first, n, out) < 0) return cm_prefix_error("%s: %s", s->path, t->name);
  return 0;
}

static stream_t *readable_stream(cm_session *s, int stream, cm_stream_kind kind) {
  if (stream < 0 || stream >= s->n_streams || s->streams[stream].info.kind != kind) {
    err(s, "stream %d is not a %s stream", stream, kind_name(kind));
    return NULL;
  }
  return &s->streams[stream];
}

int cm_session_read_packet_index(cm_session *s, int stream, int64_t first, int64_t n, cm_packet_row *out) {
  stream_t *st = readable_stream(s, stream, CM_STREAM_VIDEO);
  return st ? read_table(s, &st->t[1], rowtype_mem(ROW_PACKET), first, n, out) : -1;
}

int cm_session_read_packet_bytes(cm_session *s, int stream, uint64_t offset, size_t n, void *out) {
  stream_t *st = readable_stream(s, stream, CM_STREAM_VIDEO);
  return st ? read_table(s, &st->t[0], H5T_NATIVE_UINT8, (int64_t)offset, (int64_t)n, out) : -1;
}

int cm_session_read_extradata(cm_session *s, int stream, uint8_t **data, size_t *size) {
  stream_t *st = readable_stream(s, stream, CM_STREAM_VIDEO);
  if (!st) return -1;
  *data = NULL;
  *size = 0;
  hid_t d = H5Dopen2(st->group, "extradata", H5P_DEFAULT);
  if (d < 0) return 0; /* optional */
  int64_t n = h5u_nrows(d);
  if (n > 0 && n < (1 << 24)) {
    *data = cm_xmalloc((size_t)n);
    if (h5u_dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data) < 0) {
      free(*data);
      *data = NULL;
      H5Dclose(d);
      return err(s, "cannot read video extradata");
    }
    *size = (size_t)n;
  }
  H5Dclose(d);
  return 0;
}

int cm_session_read_audio(cm_session *s, int stream, int64_t first_frame, int64_t n_frames, int16_t *out) {
  stream_t *st = readable_stream(s, stream, CM_STREAM_AUDIO);
  return st ? read_table(s, &st->t[0], H5T_NATIVE_INT16, first_frame, n_frames, out) : -1;
}

int cm_session_read_audio_blocks(cm_session *s, int stream, int64_t first, int64_t n, cm_audio_block_row *out) {
  stream_t *st = readable_stream(s, stream, CM_STREAM_AUDIO);
  return st ? read_table(s, &st->t[1], rowtype_mem(ROW_AUDIO_BLOCK), first, n, out) : -1;
}

int cm_session_read_imu(cm_session *s, int stream, int64_t first, int64_t n, float *xyz6,
                        int64_t *t_device_ns, int64_t *t_host_ns) {
  stream_t *st = readable_stream(s, stream, CM_STREAM_IMU);
  if (!st) return -1;
  if (first < 0 || n < 0 || first + n > st->info.count)
    return err(s, "stream %s: samples %lld..%lld out of range (%lld)", st->info.name,
               (long long)first, (long long)(first + n), (long long)st->info.count);
  if (xyz6 && read_table(s, &st->t[0], H5T_NATIVE_FLOAT, first, n, xyz6) < 0) return -1;
  if (t_device_ns && read_table(s, &st->t[1], H5T_NATIVE_INT64, first, n, t_device_ns) < 0) return -1;
  if (t_host_ns && read_table(s, &st->t[2], H5T_NATIVE_INT64, first, n, t_host_ns) < 0) return -1;
  return 0;
}

int cm_session_read_chrony(cm_session *s, int64_t first, int64_t n, cm_chrony_row *out) {
  return read_table(s, &s->chrony, rowtype_mem(ROW_CHRONY), first, n, out);
}
int cm_session_read_labels(cm_session *s, int64_t first, int64_t n, cm_label_row *out) {
  return read_table(s, &s->labels, rowtype_mem(ROW_LABEL), first, n, out);
}
int cm_session_read_events(cm_session *s, int64_t first, int64_t n, cm_event_row *out) {
  return read_table(s, &s->events, rowtype_mem(ROW_EVENT), first, n, out);
}

int cm_session_has_truth(cm_session *s) { return h5u_exists(s->file, "/truth"); }

static int get_truth_array(cm_session *s, const char *name, hid_t mt, size_t esz, void **v, size_t *n) {
  char path[512];
  snprintf(path, sizeof path, "/truth/%s", name);
  if (!h5u_exists(s->file, path)) return err(s, "no %s", path);
  hid_t d = H5Dopen2(s->file, path, H5P_DEFAULT);
  if (d < 0) return err(s, "cannot open %s", path);
  int64_t k = h5u_nrows(d);
  *v = cm_xmalloc((size_t)(k > 0 ? k : 1) * esz);
  int r = k >= 0 && (k == 0 || h5u_dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *v) >= 0);
  H5Dclose(d);
  if (!r) {
    free(*v);
    *v = NULL;
    return err(s, "cannot read %s", path);
  }
  *n = (size_t)k;
  return 0;
}

int cm_session_get_truth_f64(cm_session *s, const char *name, double **v, size_t *n) {
  return get_truth_array(s, name, H5T_NATIVE_DOUBLE, sizeof(double), (void **)v, n);
}
int cm_session_get_truth_i64(cm_session *s, const char *name, int64_t **v, size_t *n) {
  return get_truth_array(s, name, H5T_NATIVE_INT64, sizeof(int64_t), (void **)v, n);
}

static hid_t truth_attr_parent(cm_session *s, const char *name, const char **leaf) {
  char path[512];
  snprintf(path, sizeof path, "/truth/%s", name);
  char *slash = strrchr(path, '/');
  *slash = 0;
  *leaf = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
  if (!h5u_exists(s->file, path)) return -1;
  return H5Oopen(s->file, path, H5P_DEFAULT);
}

int cm_session_get_truth_attr(cm_session *s, const char *name, double *v) {
  const char *leaf;
  hid_t o = truth_attr_parent(s, name, &leaf);
  if (o < 0) return err(s, "no /truth/%s", name);
  int r = h5u_get_attr_f64(o, leaf, v);
  H5Oclose(o);
  return r < 0 ? err(s, "no /truth/%s", name) : 0;
}

int cm_session_get_truth_str(cm_session *s, const char *name, char *buf, size_t len) {
  const char *leaf;
  hid_t o = truth_attr_parent(s, name, &leaf);
  if (o < 0) return err(s, "no /truth/%s", name);
  int r = h5u_get_attr_str(o, leaf, buf, len);
  H5Oclose(o);
  return r < 0 ? err(s, "no /truth/%s", name) : 0;
}

int cm_session_rewrite_labels(const char *path, const cm_label_row *rows, size_t n) {
  h5u_quiet();
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0)
    return cm_set_error("%s: cannot open for writing (unfinished recording? run 'cmact repair' first)", path);
  char schema[64];
  if (h5u_file_schema(f, schema, sizeof schema) < 0 || strcmp(schema, CM_SESSION_SCHEMA) != 0) {
    H5Fclose(f);
    return cm_set_error("%s: not a cmact session file", path);
  }
  hid_t d = H5Dopen2(f, "/labels", H5P_DEFAULT);
  hid_t c = H5Dopen2(f, "/committed", H5P_DEFAULT);
  int r = -1;
  if (d >= 0 && c >= 0) {
    hsize_t dims = n;
    if (H5Dset_extent(d, &dims) >= 0 &&
        (n == 0 || H5Dwrite(d, rowtype_mem(ROW_LABEL), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0)) {
      /* /labels is table 1 in every session file (see cm_session_create). */
      char list[CM_MAX_TABLES * 96];
      int64_t counts[CM_MAX_TABLES];
      if (h5u_get_attr_str(c, "tables", list, sizeof list) == 0 &&
          h5u_dread(c, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, counts) >= 0) {
        int idx = 0;
        char *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save), idx++)
          if (strcmp(tok, "/labels") == 0 && idx < CM_MAX_TABLES) counts[idx] = (int64_t)n;
        if (H5Dwrite(c, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, counts) >= 0) r = 0;
      }
    }
  }
  if (d >= 0) H5Dclose(d);
  if (c >= 0) H5Dclose(c);
  if (H5Fclose(f) < 0) r = -1;
  return r < 0 ? cm_set_error("%s: cannot rewrite /labels", path) : 0;
}
