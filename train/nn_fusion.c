/* The audio+IMU fusion model of nn_fusion.h: two branches, a concatenation, a dense head. */
#include "nn_fusion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_model.h"
#include "cm_util.h"
#include "nn_arch.h"

nn_fusion *nn_fusion_assemble(nn_model *imu, nn_model *audio, nn_model *head) {
  if (!imu || !audio || !head) goto fail;
  int nd;
  nn_output_shape(imu, &nd);
  int nd2;
  nn_output_shape(audio, &nd2);
  if (nd != 1 || nd2 != 1 || head->in_ndim != 1 ||
      head->in_size != nn_output_size(imu) + nn_output_size(audio)) {
    cm_set_error("fusion: the head takes %zu inputs, the branches give %zu + %zu", head->in_size,
                 nn_output_size(imu), nn_output_size(audio));
    goto fail;
  }
  nn_fusion *f = cm_xcalloc(1, sizeof *f);
  f->imu = imu, f->audio = audio, f->head = head;
  return f;
fail:
  nn_model_free(imu);
  nn_model_free(audio);
  nn_model_free(head);
  return NULL;
}

/* A single-modality architecture cut after its DENSE_1 ReLU: the branch's 128 features. */
static nn_model *branch(nn_model *full) {
  if (!full) return NULL;
  nn_model *b = nn_model_cut(full, "DENSE_1_relu");
  nn_model_free(full);
  return b;
}

nn_fusion *nn_fusion_new(int imu_steps, int imu_channels, int audio_dim, int n_classes, uint64_t seed) {
  nn_model *imu = branch(nn_arch_imu_cnn(imu_steps, imu_channels, n_classes, seed));
  nn_model *audio = branch(nn_arch_audio_mlp(audio_dim, n_classes, seed + 1));
  nn_model *head = NULL;
  if (imu && audio) {
    int in[1] = {(int)(nn_output_size(imu) + nn_output_size(audio))};
    head = nn_model_new(in, 1, seed + 2);
    if (head && nn_add_dense(head, "output", n_classes) < 0) {
      nn_model_free(head);
      head = NULL;
    }
  }
  return nn_fusion_assemble(imu, audio, head);
}

void nn_fusion_free(nn_fusion *f) {
  if (!f) return;
  nn_model_free(f->imu);
  nn_model_free(f->audio);
  nn_model_free(f->head);
  free(f->cat);
  free(f->dcat);
  free(f->dimu);
  free(f->daudio);
  free(f);
}

size_t nn_fusion_params(const nn_fusion *f) { return f->imu->n_params + f->audio->n_params + f->head->n_params; }

int nn_fusion_classes(const nn_fusion *f) { return (int)nn_output_size(f->head); }

void nn_fusion_print(const nn_fusion *f, FILE *out) {
  fprintf(out, "fusion: IMU branch\n");
  nn_model_print(f->imu, out);
  fprintf(out, "fusion: audio branch\n");
  nn_model_print(f->audio, out);
  fprintf(out, "fusion: head on the concatenation [IMU %zu | audio %zu]\n", nn_output_size(f->imu),
          nn_output_size(f->audio));
  nn_model_print(f->head, out);
  fprintf(out, "fusion total parameters: %zu\n", nn_fusion_params(f));
}

static void reserve(nn_fusion *f, int B) {
  if (B <= f->cap) return;
  const size_t a = nn_output_size(f->imu), b = nn_output_size(f->audio);
  free(f->cat), free(f->dcat), free(f->dimu), free(f->daudio);
  f->cat = cm_xmalloc(sizeof(float) * (a + b) * B);
  f->dcat = cm_xmalloc(sizeof(float) * (a + b) * B);
  f->dimu = cm_xmalloc(sizeof(float) * a * B);
  f->daudio = cm_xmalloc(sizeof(float) * b * B);
  f->cap = B;
}

float *nn_fusion_forward(nn_fusion *f, const float *x_imu, const float *x_audio, int B, int training) {
  reserve(f, B);
  const size_t a = nn_output_size(f->imu), b = nn_output_size(f->audio);
  const float *ya = nn_forward(f->imu, x_imu, B, training);
  const float *yb = nn_forward(f->audio, x_audio, B, training);
  for (int i = 0; i < B; i++) {
    memcpy(f->cat + (size_t)i * (a + b), ya + (size_t)i * a, sizeof(float) * a);
    memcpy(f->cat + (size_t)i * (a + b) + a, yb + (size_t)i * b, sizeof(float) * b);
  }
  return nn_forward(f->head, f->cat, B, training);
}

void nn_fusion_backward(nn_fusion *f, const float *dlogits, float *dx_imu, float *dx_audio) {
  const int B = f->head->batch_used;
  const size_t a = nn_output_size(f->imu), b = nn_output_size(f->audio);
  nn_backward(f->head, dlogits, f->dcat);
  /* the concatenation's backward: split the head's input gradient between the branches */
  for (int i = 0; i < B; i++) {
    memcpy(f->dimu + (size_t)i * a, f->dcat + (size_t)i * (a + b), sizeof(float) * a);
    memcpy(f->daudio + (size_t)i * b, f->dcat + (size_t)i * (a + b) + a, sizeof(float) * b);
  }
  nn_backward(f->imu, f->dimu, dx_imu);
  nn_backward(f->audio, f->daudio, dx_audio);
}

void nn_fusion_step(const nn_optimizer *o, nn_fusion *f) {
  nn_optim_step(o, f->imu);
  nn_optim_step(o, f->audio);
  nn_optim_step(o, f->head);
}

void nn_fusion_get_params(const nn_fusion *f, float *buf) {
  memcpy(buf, f->imu->params, sizeof(float) * f->imu->n_params);
  buf += f->imu->n_params;
  memcpy(buf, f->audio->params, sizeof(float) * f->audio->n_params);
  buf += f->audio->n_params;
  memcpy(buf, f->head->params, sizeof(float) * f->head->n_params);
}

void nn_fusion_set_params(nn_fusion *f, const float *buf) {
  memcpy(f->imu->params, buf, sizeof(float) * f->imu->n_params);
  buf += f->imu->n_params;
  memcpy(f->audio->params, buf, sizeof(float) * f->audio->n_params);
  buf += f->audio->n_params;
  memcpy(f->head->params, buf, sizeof(float) * f->head->n_params);
}

/* ---------------------------------------------------------------- files */

static const char *const PART[3] = {"imu", "audio", "head"};

static void shape_str(const nn_model *m, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = 0;
  for (int i = 0; i < m->in_ndim && k < n; i++) k += snprintf(buf + k, n - k, i ? "x%d" : "%d", m->in_shape[i]);
}

static int put_part(cm_modelfile *file, const char *part, const nn_model *m) {
  char key[64], *spec = nn_model_spec(m), shape[64];
  snprintf(key, sizeof key, "fusion_%s_layers", part);
  int r = cm_modelfile_set_attr(file, key, spec);
  free(spec);
  shape_str(m, shape, sizeof shape);
  snprintf(key, sizeof key, "%s_input_shape", part);
  if (r == 0) r = cm_modelfile_set_attr(file, key, shape);
  for (int i = 0; r == 0 && i < m->n_layers; i++) {
    const nn_layer *l = &m->layers[i];
    if (!l->w_n) continue;
    char name[NN_NAME_LEN + 32];
    int64_t dims[5], bd = (int64_t)l->b_n;
    for (int d = 0; d < l->w_ndim; d++) dims[d] = l->w_shape[d];
    snprintf(name, sizeof name, "%s.%s/kernel", part, l->name);
    r = cm_modelfile_put_tensor(file, name, dims, l->w_ndim, m->params + l->w_off);
    snprintf(name, sizeof name, "%s.%s/bias", part, l->name);
    if (r == 0) r = cm_modelfile_put_tensor(file, name, &bd, 1, m->params + l->b_off);
  }
  return r;
}

int nn_fusion_save(const nn_fusion *f, const char *path, const nn_save_info *info, int overwrite) {
  cm_modelfile *file = cm_modelfile_create(path, NN_FUSION_ARCH, overwrite);
  if (!file) return -1;
  char seed[32], inputs[128], a[64], b[64];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)info->seed);
  shape_str(f->imu, a, sizeof a), shape_str(f->audio, b, sizeof b);
  snprintf(inputs, sizeof inputs, "imu %s, audio %s", a, b);
  const nn_model *parts[3] = {f->imu, f->audio, f->head};
  int r = cm_modelfile_set_input_shape(file, f->imu->in_shape, f->imu->in_ndim);
  if (r == 0 && info->n_classes) r = cm_modelfile_set_classes(file, info->class_names, info->n_classes);
  if (r == 0) r = cm_modelfile_set_attr(file, "inputs", inputs);
  if (r == 0) r = cm_modelfile_set_attr(file, "procedure", info->procedure ? info->procedure : "");
  if (r == 0) r = cm_modelfile_set_attr(file, "seed", seed);
  for (int i = 0; r == 0 && i < info->n_attrs; i++)
    r = cm_modelfile_set_attr(file, info->attr_keys[i], info->attr_values[i]);
  for (int p = 0; r == 0 && p < 3; p++) r = put_part(file, PART[p], parts[p]);
  if (r == 0 && info->history_columns)
    r = cm_modelfile_put_history(file, info->history_columns, info->history, info->history_rows,
                                 info->history_cols);
  if (r < 0) {
    cm_modelfile_abort(file);
    return -1;
  }
  return cm_modelfile_close(file);
}

static nn_model *get_part(cm_modelfile *file, const char *path, const char *part) {
  char key[64], shape_s[64], *spec = cm_xmalloc(65536);
  nn_model *m = NULL;
  int shape[4] = {0}, nd = 0;
  snprintf(key, sizeof key, "%s_input_shape", part);
  if (cm_modelfile_get_attr(file, key, shape_s, sizeof shape_s) < 0) goto bad;
  for (char *save = NULL, *t = strtok_r(shape_s, "x", &save); t; t = strtok_r(NULL, "x", &save)) {
    if (nd == 4 || (shape[nd] = atoi(t)) < 1) goto bad;
    nd++;
  }
  snprintf(key, sizeof key, "fusion_%s_layers", part);
  if (nd == 0 || cm_modelfile_get_attr(file, key, spec, 65536) < 0) goto bad;
  if (!(m = nn_model_from_spec(spec, shape, nd, 0))) {
    cm_prefix_error("%s: fusion %s branch", path, part);
    goto done;
  }
  for (int i = 0; i < m->n_layers; i++) {
    nn_layer *l = &m->layers[i];
    if (!l->w_n) continue;
    char name[NN_NAME_LEN + 32];
    snprintf(name, sizeof name, "%s.%s/kernel", part, l->name);
    int r = cm_modelfile_get_tensor(file, name, m->params + l->w_off, l->w_n);
    snprintf(name, sizeof name, "%s.%s/bias", part, l->name);
    if (r == 0) r = cm_modelfile_get_tensor(file, name, m->params + l->b_off, l->b_n);
    if (r < 0) {
      nn_model_free(m);
      m = NULL;
      goto done;
    }
  }
  goto done;
bad:
  cm_set_error("%s: not a fusion model (no valid %s_input_shape / fusion_%s_layers)", path, part, part);
done:
  free(spec);
  return m;
}

nn_fusion *nn_fusion_load(const char *path, char class_names[][24], int max_classes, int *n_classes) {
  cm_modelfile *file = cm_modelfile_open(path);
  if (!file) return NULL;
  nn_fusion *f = NULL;
  char arch[64];
  if (cm_modelfile_architecture(file, arch, sizeof arch) < 0) goto done;
  if (strcmp(arch, NN_FUSION_ARCH) != 0) {
    cm_set_error("%s: a %s model, not an audio+IMU fusion model", path, arch);
    goto done;
  }
  if (class_names && cm_modelfile_classes(file, class_names, max_classes, n_classes) < 0) goto done;
  nn_model *imu = get_part(file, path, "imu");
  nn_model *audio = imu ? get_part(file, path, "audio") : NULL;
  nn_model *head = audio ? get_part(file, path, "head") : NULL;
  f = nn_fusion_assemble(imu, audio, head);
  if (f && class_names && *n_classes != nn_fusion_classes(f)) {
    cm_set_error("%s: %d class names, %d outputs", path, *n_classes, nn_fusion_classes(f));
    nn_fusion_free(f);
    f = NULL;
  }
done:
  cm_modelfile_close_reader(file);
  return f;
}
