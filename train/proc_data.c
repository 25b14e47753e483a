/*
 * Splits in memory for the procedures (see proc.h). A split is read once, in batches through
 * the engine's loader (so standardisation and video reduction are exactly what `train fit`
 * sees), into one float array; subsets and draws are copies, so every run owns its data.
 */
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "nn_arch.h"
#include "nn_rng.h"
#include "nn_shuffle.h"
#include "proc.h"

#define LOAD_BATCH 256

const char *proc_arch_of(nn_modality mod) {
  return mod == NN_MOD_IMU ? "imu_cnn" : mod == NN_MOD_AUDIO ? "audio_mlp" : "video_c3d";
}

const char *proc_modality_name(nn_modality mod) {
  return mod == NN_MOD_IMU ? "imu" : mod == NN_MOD_AUDIO ? "audio" : "video";
}

int proc_modality_parse(const char *s, nn_modality *mod) {
  if (strcmp(s, "imu") == 0) *mod = NN_MOD_IMU;
  else if (strcmp(s, "audio") == 0) *mod = NN_MOD_AUDIO;
  else if (strcmp(s, "video") == 0) *mod = NN_MOD_VIDEO;
  else return cm_set_error("modality '%s': expected video, audio or imu", s);
  return 0;
}

int proc_input_shape(cm_dataset *d, nn_modality mod, const char *video_input, int *shape, int *ndim) {
  nn_loader_native_shape(d, mod, shape, ndim);
  if (mod == NN_MOD_VIDEO && video_input) {
    nn_video_cfg cfg = nn_video_default();
    if (nn_video_parse_input(&cfg, video_input) < 0) return -1;
    shape[0] = cfg.frames, shape[1] = shape[2] = cfg.side, shape[3] = cfg.channels;
  }
  return 0;
}

int proc_set_load(cm_dataset *d, const char *split, nn_modality mod, const int *shape, int ndim,
                  proc_set *s) {
  memset(s, 0, sizeof *s);
  int id = cm_dataset_find_split(d, split);
  if (id < 0) return -1;
  int native[4], nd;
  if (!shape) {
    nn_loader_native_shape(d, mod, native, &nd);
    shape = native, ndim = nd;
  }
  nn_loader L;
  if (nn_loader_init(&L, d, id, mod, shape, ndim, LOAD_BATCH) < 0) return -1;
  const int64_t n = cm_dataset_split_size(d, id);
  s->mod = mod;
  memcpy(s->shape, shape, sizeof(int) * ndim);
  s->ndim = ndim;
  s->dim = L.in_size;
  s->n = n;
  s->x = cm_xmalloc(sizeof(float) * s->dim * (size_t)(n ? n : 1));
  s->y = cm_xmalloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  s->session = cm_xmalloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  s->t_start_ns = cm_xmalloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  int64_t rows[LOAD_BATCH];
  int rc = 0;
  for (int64_t first = 0; first < n && rc == 0; first += LOAD_BATCH) {
    int cnt = (int)(n - first < LOAD_BATCH ? n - first : LOAD_BATCH);
    for (int i = 0; i < cnt; i++) rows[i] = first + i;
    rc = nn_loader_read(&L, rows, cnt, s->x + (size_t)first * s->dim, s->y + first);
    if (rc == 0)
      rc = cm_dataset_read(d, id, first, cnt, NULL, NULL, NULL, NULL, s->session + first,
                           s->t_start_ns + first, NULL);
  }
  nn_loader_free(&L);
  if (rc < 0) {
    /* the dataset reader's line already names the file and split/array ("F: pretrain/imu: ...") */
    char arr[64];
    snprintf(arr, sizeof arr, "%s/", split);
    if (!strstr(cm_error(), arr)) cm_prefix_error("split '%s'", split);
    proc_set_free(s);
    return -1;
  }
  return 0;
}

void proc_set_subset(const proc_set *s, const int64_t *rows, int64_t n, proc_set *o) {
  *o = *s;
  o->n = n;
  o->x = cm_xmalloc(sizeof(float) * s->dim * (size_t)(n ? n : 1));
  o->y = cm_xmalloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  o->session = cm_xmalloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  o->t_start_ns = cm_xmalloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++) {
    memcpy(o->x + (size_t)i * s->dim, s->x + (size_t)rows[i] * s->dim, sizeof(float) * s->dim);
    o->y[i] = s->y[rows[i]];
    o->session[i] = s->session ? s->session[rows[i]] : 0;
    o->t_start_ns[i] = s->t_start_ns ? s->t_start_ns[rows[i]] : 0;
  }
}

void proc_set_draw(const proc_set *s, int64_t n, uint64_t seed, proc_set *o) {
  if (n > s->n) n = s->n;
  int64_t *rows = nn_draw_rows(s->n, n, nn_key(seed, 0x4c494d, 0, 0));
  proc_set_subset(s, rows, n, o);
  free(rows);
}

void proc_set_relabel(proc_set *s, const int *map) {
  int64_t k = 0;
  for (int64_t i = 0; i < s->n; i++) {
    int y = map[s->y[i]];
    if (y < 0) continue;
    if (k != i) {
      memmove(s->x + (size_t)k * s->dim, s->x + (size_t)i * s->dim, sizeof(float) * s->dim);
      s->session[k] = s->session[i];
      s->t_start_ns[k] = s->t_start_ns[i];
    }
    s->y[k++] = y;
  }
  s->n = k;
}

void proc_set_free(proc_set *s) {
  free(s->x);
  free(s->y);
  free(s->session);
  free(s->t_start_ns);
  memset(s, 0, sizeof *s);
}
