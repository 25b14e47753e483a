/* Compound row types; see rowtypes.h. Field tables drive both the memory and the file type. */
#include "rowtypes.h"

#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "cm_dataset.h"
#include "cm_session.h"

typedef enum { F_I64, F_U32, F_I32, F_U16, F_U8, F_F64, F_STR } ftype;
typedef struct {
  const char *name;
  size_t offset;
  ftype t;
  size_t strlen_;
} field;

#define END {NULL, 0, 0, 0}
static const field packet_fields[] = {
    {"offset", offsetof(cm_packet_row, offset), F_I64, 0},
    {"size", offsetof(cm_packet_row, size), F_U32, 0},
    {"key", offsetof(cm_packet_row, key), F_U8, 0},
    {"pts", offsetof(cm_packet_row, pts), F_I64, 0},
    {"dts", offsetof(cm_packet_row, dts), F_I64, 0},
    {"t_host_ns", offsetof(cm_packet_row, t_host_ns), F_I64, 0},
    END};
static const field block_fields[] = {
    {"first_frame", offsetof(cm_audio_block_row, first_frame), F_I64, 0},
    {"n_frames", offsetof(cm_audio_block_row, n_frames), F_I32, 0},
    {"t_host_ns", offsetof(cm_audio_block_row, t_host_ns), F_I64, 0},
    END};
static const field chrony_fields[] = {
    {"t_host_ns", offsetof(cm_chrony_row, t_host_ns), F_I64, 0},
    {"ref_id", offsetof(cm_chrony_row, ref_id), F_U32, 0},
    {"stratum", offsetof(cm_chrony_row, stratum), F_U16, 0},
    {"leap_status", offsetof(cm_chrony_row, leap_status), F_U16, 0},
    {"ref_time_ns", offsetof(cm_chrony_row, ref_time_ns), F_I64, 0},
    {"current_correction", offsetof(cm_chrony_row, current_correction), F_F64, 0},
    {"last_offset", offsetof(cm_chrony_row, last_offset), F_F64, 0},
    {"rms_offset", offsetof(cm_chrony_row, rms_offset), F_F64, 0},
    {"freq_ppm", offsetof(cm_chrony_row, freq_ppm), F_F64, 0},
    {"resid_freq_ppm", offsetof(cm_chrony_row, resid_freq_ppm), F_F64, 0},
    {"skew_ppm", offsetof(cm_chrony_row, skew_ppm), F_F64, 0},
    {"root_delay", offsetof(cm_chrony_row, root_delay), F_F64, 0},
    {"root_dispersion", offsetof(cm_chrony_row, root_dispersion), F_F64, 0},
    {"last_update_interval", offsetof(cm_chrony_row, last_update_interval), F_F64, 0},
    END};
static const field label_fields[] = {
    {"start_ns", offsetof(cm_label_row, start_ns), F_I64, 0},
    {"end_ns", offsetof(cm_label_row, end_ns), F_I64, 0},
    {"activity", offsetof(cm_label_row, activity), F_STR, CM_LABEL_LEN},
    END};
static const field event_fields[] = {
    {"t_host_ns", offsetof(cm_event_row, t_host_ns), F_I64, 0},
    {"stream", offsetof(cm_event_row, stream), F_STR, CM_EVENT_STREAM_LEN},
    {"kind", offsetof(cm_event_row, kind), F_STR, CM_EVENT_KIND_LEN},
    {"value", offsetof(cm_event_row, value), F_F64, 0},
    {"detail", offsetof(cm_event_row, detail), F_STR, CM_EVENT_DETAIL_LEN},
    END};
static const field ds_session_fields[] = {
    {"name", offsetof(cm_dataset_session_row, name), F_STR, CM_SESSION_NAME_LEN},
    {"user", offsetof(cm_dataset_session_row, user), F_STR, 32},
    {"location", offsetof(cm_dataset_session_row, location), F_STR, 32},
    {"offset_video_s", offsetof(cm_dataset_session_row, offset_video_s), F_F64, 0},
    {"offset_audio_s", offsetof(cm_dataset_session_row, offset_audio_s), F_F64, 0},
    {"offset_imu_s", offsetof(cm_dataset_session_row, offset_imu_s), F_F64, 0},
    {"uncertainty_s", offsetof(cm_dataset_session_row, uncertainty_s), F_F64, 0},
    {"injected_offset_s", offsetof(cm_dataset_session_row, injected_offset_s), F_F64, 0},
    END};

static const struct {
  const field *f;
  size_t size;
} kinds[ROW__COUNT] = {
    [ROW_PACKET] = {packet_fields, sizeof(cm_packet_row)},
    [ROW_AUDIO_BLOCK] = {block_fields, sizeof(cm_audio_block_row)},
    [ROW_CHRONY] = {chrony_fields, sizeof(cm_chrony_row)},
    [ROW_LABEL] = {label_fields, sizeof(cm_label_row)},
    [ROW_EVENT] = {event_fields, sizeof(cm_event_row)},
    [ROW_DS_SESSION] = {ds_session_fields, sizeof(cm_dataset_session_row)},
};

static hid_t mem_types[ROW__COUNT], file_types[ROW__COUNT];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static hid_t field_type(ftype t, size_t slen, int file) {
  switch (t) {
  case F_I64: return H5Tcopy(file ? H5T_STD_I64LE : H5T_NATIVE_INT64);
  case F_U32: return H5Tcopy(file ? H5T_STD_U32LE : H5T_NATIVE_UINT32);
  case F_I32: return H5Tcopy(file ? H5T_STD_I32LE : H5T_NATIVE_INT32);
  case F_U16: return H5Tcopy(file ? H5T_STD_U16LE : H5T_NATIVE_UINT16);
  case F_U8: return H5Tcopy(file ? H5T_STD_U8LE : H5T_NATIVE_UINT8);
  case F_F64: return H5Tcopy(file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
  case F_STR: {
    hid_t s = H5Tcopy(H5T_C_S1);
    H5Tset_size(s, slen);
    H5Tset_strpad(s, H5T_STR_NULLTERM);
    return s;
  }
  }
  return -1;
}

static void build(void) {
  for (int k = 0; k < ROW__COUNT; k++) {
    const field *f = kinds[k].f;
    hid_t m = H5Tcreate(H5T_COMPOUND, kinds[k].size);
    size_t packed = 0;
    for (int i = 0; f[i].name; i++) {
      hid_t t = field_type(f[i].t, f[i].strlen_, 0);
      H5Tinsert(m, f[i].name, f[i].offset, t);
      packed += H5Tget_size(t);
      H5Tclose(t);
    }
    hid_t fl = H5Tcreate(H5T_COMPOUND, packed);
    size_t off = 0;
    for (int i = 0; f[i].name; i++) {
      hid_t t = field_type(f[i].t, f[i].strlen_, 1);
      H5Tinsert(fl, f[i].name, off, t);
      off += H5Tget_size(t);
      H5Tclose(t);
    }
    H5Tlock(m);
    H5Tlock(fl);
    mem_types[k] = m;
    file_types[k] = fl;
  }
}

hid_t rowtype_mem(row_kind k) {
  pthread_once(&once, build);
  return mem_types[k];
}
hid_t rowtype_file(row_kind k) {
  pthread_once(&once, build);
  return file_types[k];
}
