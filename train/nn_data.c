/* Dataset batches for training (see nn_data.h). */
#include "nn_data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"

int nn_modality_of(const char *architecture, nn_modality *mod) {
  if (strncmp(architecture, "imu", 3) == 0)
    *mod = NN_MOD_IMU;
  else if (strncmp(architecture, "audio", 5) == 0)
    *mod = NN_MOD_AUDIO;
  else if (strncmp(architecture, "video", 5) == 0)
    *mod = NN_MOD_VIDEO;
  else
    return cm_set_error("cannot tell the modality of model '%s'", architecture);
  return 0;
}

void nn_loader_native_shape(cm_dataset *d, nn_modality mod, int *s, int *nd) {
  const cm_dataset_desc *x = cm_dataset_get_desc(d);
  if (mod == NN_MOD_IMU) {
    s[0] = x->imu_steps, s[1] = x->imu_channels, *nd = 2;
  } else if (mod == NN_MOD_AUDIO) {
    s[0] = x->audio_dim, *nd = 1;
  } else {
    s[0] = x->video_frames, s[1] = x->video_height, s[2] = x->video_width;
    s[3] = x->video_channels, *nd = 4;
  }
}

/* Per-channel statistics `name`_mean / `name`_std of n values, if the file has them. */
static void load_stats(nn_loader *L, const char *name, size_t n) {
  char mn[32], sn[32];
  snprintf(mn, sizeof mn, "%s_mean", name);
  snprintf(sn, sizeof sn, "%s_std", name);
  float *mean = cm_xmalloc(sizeof(float) * n), *sd = cm_xmalloc(sizeof(float) * n);
  if (cm_dataset_get_stats(L->d, mn, mean, n) == 0 && cm_dataset_get_stats(L->d, sn, sd, n) == 0) {
    for (size_t i = 0; i < n; i++) sd[i] = sd[i] > 1e-12f ? 1.0f / sd[i] : 1.0f;
    L->mean = mean;
    L->inv_std = sd;
    L->n_stat = n;
    return;
  }
  free(mean);
  free(sd);
}

int nn_loader_init(nn_loader *L, cm_dataset *d, int split, nn_modality mod, const int *in_shape,
                   int in_ndim, int cap) {
  memset(L, 0, sizeof *L);
  const cm_dataset_desc *x = cm_dataset_get_desc(d);
  L->d = d;
  L->split = split;
  L->mod = mod;
  L->cap = (size_t)cap;
  L->n_classes = x->n_classes;
  int native[4], nn;
  nn_loader_native_shape(d, mod, native, &nn);
  if (in_ndim != nn) return cm_set_error("model input has %d dimensions, the dataset's %d", in_ndim, nn);
  memcpy(L->in_shape, in_shape, sizeof(int) * in_ndim);
  L->in_ndim = in_ndim;
  L->in_size = 1;
  for (int i = 0; i < in_ndim; i++) L->in_size *= (size_t)in_shape[i];
  if (mod == NN_MOD_VIDEO) {
    if (in_shape[3] != native[3] || in_shape[1] != in_shape[2] || native[1] != native[2] ||
        native[0] % in_shape[0] != 0 || native[1] % in_shape[1] != 0)
      return cm_set_error("video input %dx%dx%dx%d cannot be made from the dataset's %dx%dx%dx%d "
                          "(frames and side must divide, channels match)",
                          in_shape[0], in_shape[1], in_shape[2], in_shape[3], native[0], native[1],
                          native[2], native[3]);
    L->frame_stride = native[0] / in_shape[0];
    L->side_factor = native[1] / in_shape[1];
    L->video_row = (size_t)native[0] * native[1] * native[2] * native[3];
    L->video_buf = cm_xmalloc(L->video_row * (size_t)cap);
  } else {
    for (int i = 0; i < nn; i++)
      if (in_shape[i] != native[i])
        return cm_set_error("model input does not match the dataset's %s windows",
                            mod == NN_MOD_IMU ? "IMU" : "audio");
    if (mod == NN_MOD_IMU) {
      load_stats(L, "imu", (size_t)x->imu_channels);
      if (!L->mean) load_stats(L, "imu", (size_t)x->imu_channels * x->imu_steps);
    } else {
      load_stats(L, "audio", (size_t)x->audio_dim);
    }
  }
  return 0;
}

static void standardise(const nn_loader *L, float *x, int n) {
  if (!L->mean) return;
  for (size_t i = 0; i < L->in_size * (size_t)n; i++) {
    size_t c = i % L->n_stat;
    x[i] = (x[i] - L->mean[c]) * L->inv_std[c];
  }
}

/* Frames every frame_stride, side reduced by side_factor x side_factor means, /255. */
static void video_to_float(const nn_loader *L, const uint8_t *v, float *x) {
  const cm_dataset_desc *d = cm_dataset_get_desc(L->d);
  const int H = d->video_height, W = d->video_width, C = d->video_channels;
  const int F = L->in_shape[0], S = L->in_shape[1], k = L->side_factor;
  const float scale = 1.0f / (255.0f * k * k);
  for (int f = 0; f < F; f++) {
    const uint8_t *frame = v + (size_t)f * L->frame_stride * H * W * C;
    for (int i = 0; i < S; i++)
      for (int j = 0; j < S; j++)
        for (int c = 0; c < C; c++) {
          unsigned sum = 0;
          for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++) sum += frame[((size_t)(i * k + a) * W + j * k + b) * C + c];
          x[(((size_t)f * S + i) * S + j) * C + c] = (float)sum * scale;
        }
  }
}

int nn_loader_read(nn_loader *L, const int64_t *rows, int n, float *x, int32_t *labels) {
  if ((size_t)n > L->cap) return cm_set_error("batch of %d rows exceeds the loader's %zu", n, L->cap);
  int r;
  if (L->mod == NN_MOD_VIDEO) {
    r = cm_dataset_read_rows(L->d, L->split, rows, n, L->video_buf, NULL, NULL, labels);
    if (r == 0)
      for (int i = 0; i < n; i++) video_to_float(L, L->video_buf + i * L->video_row, x + i * L->in_size);
  } else {
    r = cm_dataset_read_rows(L->d, L->split, rows, n, NULL, L->mod == NN_MOD_AUDIO ? x : NULL,
                             L->mod == NN_MOD_IMU ? x : NULL, labels);
    if (r == 0) standardise(L, x, n);
  }
  if (r < 0) return -1;
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= L->n_classes)
      return cm_set_error("row %lld has label %d, outside the dataset's %d classes", (long long)rows[i],
                          labels[i], L->n_classes);
  return 0;
}

void nn_loader_free(nn_loader *L) {
  free(L->mean);
  free(L->inv_std);
  free(L->video_buf);
  memset(L, 0, sizeof *L);
}

/* ---------------------------------------------------------------- prefetch */

typedef struct {
  nn_prefetch *p;
  int slot;
} job;

void nn_prefetch_init(nn_prefetch *p, nn_loader *L, int cap) {
  memset(p, 0, sizeof *p);
  p->L = L;
  for (int s = 0; s < 2; s++) {
    p->x[s] = cm_xmalloc(sizeof(float) * L->in_size * cap);
    p->y[s] = cm_xmalloc(sizeof(int32_t) * cap);
  }
}

static void *prefetch_main(void *arg) {
  nn_prefetch *p = ((job *)arg)->p;
  int s = ((job *)arg)->slot;
  free(arg);
  p->status[s] = nn_loader_read(p->L, p->rows[s], p->n[s], p->x[s], p->y[s]);
  if (p->status[s] < 0) snprintf(p->error[s], sizeof p->error[s], "%s", cm_error());
  return NULL;
}

void nn_prefetch_start(nn_prefetch *p, int slot, const int64_t *rows, int n) {
  p->rows[slot] = rows;
  p->n[slot] = n;
  job *j = cm_xmalloc(sizeof *j);
  j->p = p;
  j->slot = slot;
  if (pthread_create(&p->thread[slot], NULL, prefetch_main, j) == 0) {
    p->running[slot] = 1;
  } else { /* no thread: read in the caller's thread */
    prefetch_main(j);
  }
}

int nn_prefetch_wait(nn_prefetch *p, int slot) {
  if (p->running[slot]) {
    pthread_join(p->thread[slot], NULL);
    p->running[slot] = 0;
  }
  if (p->status[slot] < 0) return cm_set_error("%s", p->error[slot]);
  return 0;
}

void nn_prefetch_free(nn_prefetch *p) {
  for (int s = 0; s < 2; s++) {
    if (p->running[s]) pthread_join(p->thread[s], NULL);
    free(p->x[s]);
    free(p->y[s]);
  }
  memset(p, 0, sizeof *p);
}
