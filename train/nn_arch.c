/* The three architectures of nn_arch.h, layer by layer. */
#include "nn_arch.h"

#include <stdio.h>
#include <string.h>

#include "cm_util.h"

/* Each builder chains calls; the first failure is kept in the error line. */
#define TRY(x) \
  do {         \
    if ((x) < 0) goto fail; \
  } while (0)

static int dense_relu(nn_model *m, const char *name, int units) {
  char relu[NN_NAME_LEN + 8];
  snprintf(relu, sizeof relu, "%s_relu", name);
  if (nn_add_dense(m, name, units) < 0) return -1;
  return nn_add_relu(m, relu);
}

nn_model *nn_arch_imu_cnn(int steps, int channels, int n_classes, uint64_t seed) {
  int in[2] = {steps, channels};
  nn_model *m = nn_model_new(in, 2, seed);
  if (!m) return NULL;
  TRY(nn_add_conv1d(m, "conv1", 16, 5, 1));
  TRY(nn_add_relu(m, "conv1_relu"));
  TRY(nn_add_maxpool1d(m, "pool1", 2));
  TRY(nn_add_dropout(m, "drop1", 0.5f));
  TRY(nn_add_conv1d(m, "conv2", 16, 5, 1));
  TRY(nn_add_relu(m, "conv2_relu"));
  TRY(nn_add_maxpool1d(m, "pool2", 2));
  TRY(nn_add_dropout(m, "drop2", 0.5f));
  TRY(nn_add_flatten(m, "flatten"));
  TRY(dense_relu(m, "dense", 128));
  TRY(dense_relu(m, "DENSE_2", 128));
  TRY(dense_relu(m, "DENSE_1", 128));
  TRY(nn_add_dense(m, "output", n_classes));
  return m;
fail:
  nn_model_free(m);
  return NULL;
}

nn_model *nn_arch_audio_mlp(int dim, int n_classes, uint64_t seed) {
  int in[1] = {dim};
  nn_model *m = nn_model_new(in, 1, seed);
  if (!m) return NULL;
  TRY(dense_relu(m, "fc1", 32));
  TRY(dense_relu(m, "fc2", 1024));
  TRY(nn_add_dropout(m, "drop2", 0.5f));
  TRY(dense_relu(m, "fc3", 596));
  TRY(nn_add_dropout(m, "drop3", 0.5f));
  TRY(dense_relu(m, "fc4", 128));
  TRY(nn_add_dropout(m, "drop4", 0.5f));
  TRY(dense_relu(m, "fc5", 128));
  TRY(dense_relu(m, "fc6", 128));
  TRY(dense_relu(m, "fc7", 128));
  TRY(dense_relu(m, "DENSE_2", 128));
  TRY(dense_relu(m, "DENSE_1", 128));
  TRY(nn_add_dense(m, "output", n_classes));
  return m;
fail:
  nn_model_free(m);
  return NULL;
}

nn_video_cfg nn_video_default(void) {
  nn_video_cfg c = {45, 64, 3, {32, 64, 128, 128}, 372};
  return c;
}

int nn_video_parse_input(nn_video_cfg *cfg, const char *s) {
  int f, h, w, c = 3;
  char tail;
  int n = sscanf(s, "%dx%dx%dx%d%c", &f, &h, &w, &c, &tail);
  if (n == 2) w = h, n = 4;
  if (n != 4 && n != 3) return cm_set_error("--input '%s': expected FRAMESxSIDExSIDExCHANNELS", s);
  if (n == 3) c = 3;
  if (f < 1 || h < 1 || w != h || c < 1)
    return cm_set_error("--input '%s': frames, side and channels must be positive, height = width", s);
  cfg->frames = f;
  cfg->side = h;
  cfg->channels = c;
  return 0;
}

nn_model *nn_arch_video_c3d(const nn_video_cfg *cfg, int n_classes, uint64_t seed) {
  int in[4] = {cfg->frames, cfg->side, cfg->side, cfg->channels};
  nn_model *m = nn_model_new(in, 4, seed);
  if (!m) return NULL;
  static const char *conv[4] = {"conv1", "conv2", "conv3", "conv4"};
  for (int i = 0; i < 4; i++) {
    char relu[32], pool[32];
    snprintf(relu, sizeof relu, "%s_relu", conv[i]);
    snprintf(pool, sizeof pool, "pool%d", i + 1);
    TRY(nn_add_conv3d(m, conv[i], cfg->conv[i], 3, 3, 3, 1));
    TRY(nn_add_relu(m, relu));
    TRY(i == 0 ? nn_add_maxpool3d(m, pool, 1, 2, 2) : nn_add_maxpool3d(m, pool, 2, 2, 2));
  }
  TRY(nn_add_flatten(m, "flatten"));
  TRY(dense_relu(m, "fc1", cfg->fc));
  TRY(nn_add_dropout(m, "drop_fc1", 0.5f));
  TRY(dense_relu(m, "DENSE_2", 128));
  TRY(dense_relu(m, "DENSE_1", 128));
  TRY(nn_add_dense(m, "output", n_classes));
  return m;
fail:
  cm_prefix_error("video_c3d at %dx%dx%dx%d", cfg->frames, cfg->side, cfg->side, cfg->channels);
  nn_model_free(m);
  return NULL;
}

nn_model *nn_arch_build(const char *name, const int *in_shape, int in_ndim, int n_classes,
                        uint64_t seed) {
  if (strcmp(name, "imu_cnn") == 0) {
    if (in_shape && in_ndim != 2) goto bad_shape;
    return nn_arch_imu_cnn(in_shape ? in_shape[0] : 40, in_shape ? in_shape[1] : 12, n_classes, seed);
  }
  if (strcmp(name, "audio_mlp") == 0) {
    if (in_shape && in_ndim != 1) goto bad_shape;
    return nn_arch_audio_mlp(in_shape ? in_shape[0] : 193, n_classes, seed);
  }
  if (strcmp(name, "video_c3d") == 0) {
    nn_video_cfg cfg = nn_video_default();
    if (in_shape) {
      if (in_ndim != 4 || in_shape[1] != in_shape[2]) goto bad_shape;
      cfg.frames = in_shape[0];
      cfg.side = in_shape[1];
      cfg.channels = in_shape[3];
    }
    return nn_arch_video_c3d(&cfg, n_classes, seed);
  }
  cm_set_error("unknown model '%s' (expected imu_cnn, audio_mlp or video_c3d)", name);
  return NULL;
bad_shape:
  cm_set_error("model '%s' cannot take an input of %d dimensions", name, in_ndim);
  return NULL;
}
