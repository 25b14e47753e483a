/* Model files and checkpoints (see nn_io.h). */
#include "nn_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_model.h"
#include "cm_util.h"

/* ---------------------------------------------------------------- layer lists */

char *nn_model_spec(const nn_model *m) {
  size_t cap = 256 + (size_t)m->n_layers * 96, k = 0;
  char *s = cm_xmalloc(cap);
  s[0] = 0;
  for (int i = 0; i < m->n_layers; i++) {
    const nn_layer *l = &m->layers[i];
    const char *sep = i ? ";" : "";
    const char *same = l->same ? "same" : "valid";
    switch (l->kind) {
      case NN_DENSE: k += snprintf(s + k, cap - k, "%sdense %s %d", sep, l->name, l->units); break;
      case NN_CONV:
        if (l->conv_dims == 1)
          k += snprintf(s + k, cap - k, "%sconv1d %s %d %d %s", sep, l->name, l->conv.cout,
                        l->conv.k[2], same);
        else
          k += snprintf(s + k, cap - k, "%sconv3d %s %d %d %d %d %s", sep, l->name, l->conv.cout,
                        l->conv.k[0], l->conv.k[1], l->conv.k[2], same);
        break;
      case NN_MAXPOOL:
        if (l->conv_dims == 1)
          k += snprintf(s + k, cap - k, "%smaxpool1d %s %d", sep, l->name, l->pool.p[2]);
        else
          k += snprintf(s + k, cap - k, "%smaxpool3d %s %d %d %d", sep, l->name, l->pool.p[0],
                        l->pool.p[1], l->pool.p[2]);
        break;
      case NN_RELU: k += snprintf(s + k, cap - k, "%srelu %s", sep, l->name); break;
      case NN_DROPOUT: k += snprintf(s + k, cap - k, "%sdropout %s %.9g", sep, l->name, l->rate); break;
      case NN_FLATTEN: k += snprintf(s + k, cap - k, "%sflatten %s", sep, l->name); break;
    }
    if (l->frozen) k += snprintf(s + k, cap - k, " frozen");
  }
  return s;
}

/* Parse one "kind name args... [frozen]" entry onto m. */
static int add_from_spec(nn_model *m, char *entry) {
  char *tok[10];
  int n = 0;
  for (char *save = NULL, *t = strtok_r(entry, " ", &save); t && n < 10; t = strtok_r(NULL, " ", &save))
    tok[n++] = t;
  int frozen = n > 0 && strcmp(tok[n - 1], "frozen") == 0;
  if (frozen) n--;
  if (n < 2) return cm_set_error("layer list entry '%s' is incomplete", n ? tok[0] : "");
  const char *kind = tok[0], *name = tok[1];
  int a[5] = {0};
  for (int i = 2; i < n && i < 7; i++) a[i - 2] = atoi(tok[i]);
  int r;
  if (strcmp(kind, "dense") == 0 && n == 3)
    r = nn_add_dense(m, name, a[0]);
  else if (strcmp(kind, "conv1d") == 0 && n == 5)
    r = nn_add_conv1d(m, name, a[0], a[1], strcmp(tok[4], "same") == 0);
  else if (strcmp(kind, "conv3d") == 0 && n == 7)
    r = nn_add_conv3d(m, name, a[0], a[1], a[2], a[3], strcmp(tok[6], "same") == 0);
  else if (strcmp(kind, "maxpool1d") == 0 && n == 3)
    r = nn_add_maxpool1d(m, name, a[0]);
  else if (strcmp(kind, "maxpool3d") == 0 && n == 5)
    r = nn_add_maxpool3d(m, name, a[0], a[1], a[2]);
  else if (strcmp(kind, "relu") == 0 && n == 2)
    r = nn_add_relu(m, name);
  else if (strcmp(kind, "dropout") == 0 && n == 3)
    r = nn_add_dropout(m, name, (float)atof(tok[2]));
  else if (strcmp(kind, "flatten") == 0 && n == 2)
    r = nn_add_flatten(m, name);
  else
    return cm_set_error("layer list entry '%s %s' is not understood", kind, name);
  if (r == 0) m->layers[m->n_layers - 1].frozen = frozen;
  return r;
}

nn_model *nn_model_from_spec(const char *spec, const int *in_shape, int in_ndim, uint64_t seed) {
  nn_model *m = nn_model_new(in_shape, in_ndim, seed);
  if (!m) return NULL;
  char *copy = cm_xstrdup(spec);
  for (char *save = NULL, *e = strtok_r(copy, ";", &save); e; e = strtok_r(NULL, ";", &save))
    if (add_from_spec(m, e) < 0) {
      free(copy);
      nn_model_free(m);
      return NULL;
    }
  free(copy);
  return m;
}

/* ---------------------------------------------------------------- model files */

int nn_model_save(const nn_model *m, const char *path, const nn_save_info *info, int overwrite) {
  cm_modelfile *f = cm_modelfile_create(path, info->architecture, overwrite);
  if (!f) return -1;
  char *spec = nn_model_spec(m), seed[32];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)info->seed);
  int r = cm_modelfile_set_input_shape(f, m->in_shape, m->in_ndim);
  if (r == 0 && info->n_classes) r = cm_modelfile_set_classes(f, info->class_names, info->n_classes);
  if (r == 0) r = cm_modelfile_set_attr(f, "layers", spec);
  if (r == 0) r = cm_modelfile_set_attr(f, "procedure", info->procedure ? info->procedure : "");
  if (r == 0) r = cm_modelfile_set_attr(f, "seed", seed);
  for (int i = 0; r == 0 && i < info->n_attrs; i++)
    r = cm_modelfile_set_attr(f, info->attr_keys[i], info->attr_values[i]);
  for (int i = 0; r == 0 && i < m->n_layers; i++) {
    const nn_layer *l = &m->layers[i];
    if (!l->w_n) continue;
    char name[NN_NAME_LEN + 16];
    int64_t dims[5];
    for (int d = 0; d < l->w_ndim; d++) dims[d] = l->w_shape[d];
    snprintf(name, sizeof name, "%s/kernel", l->name);
    r = cm_modelfile_put_tensor(f, name, dims, l->w_ndim, m->params + l->w_off);
    int64_t bd = (int64_t)l->b_n;
    snprintf(name, sizeof name, "%s/bias", l->name);
    if (r == 0) r = cm_modelfile_put_tensor(f, name, &bd, 1, m->params + l->b_off);
  }
  if (r == 0 && info->history_columns)
    r = cm_modelfile_put_history(f, info->history_columns, info->history, info->history_rows,
                                 info->history_cols);
  free(spec);
  if (r < 0) {
    cm_modelfile_abort(f);
    return -1;
  }
  return cm_modelfile_close(f);
}

nn_model *nn_model_load(const char *path, char *architecture, size_t arch_len,
                        char class_names[][24], int max_classes, int *n_classes) {
  cm_modelfile *f = cm_modelfile_open(path);
  if (!f) return NULL;
  nn_model *m = NULL;
  char *spec = cm_xmalloc(65536);
  int shape[8], nd = 0;
  if (architecture && cm_modelfile_architecture(f, architecture, arch_len) < 0) goto done;
  if (class_names && cm_modelfile_classes(f, class_names, max_classes, n_classes) < 0) goto done;
  if (cm_modelfile_input_shape(f, shape, 8, &nd) < 0) goto done;
  if (cm_modelfile_get_attr(f, "layers", spec, 65536) < 0) {
    char inputs[128];
    if (cm_modelfile_get_attr(f, "inputs", inputs, sizeof inputs) == 0)
      cm_set_error("%s: a model of two inputs (%s), not one network: see nn_fusion.h", path, inputs);
    else
      cm_prefix_error("%s: not a cmact model (no layer list)", path);
    goto done;
  }
  if (!(m = nn_model_from_spec(spec, shape, nd, 0))) {
    cm_prefix_error("%s", path);
    goto done;
  }
  for (int i = 0; i < m->n_layers; i++) {
    nn_layer *l = &m->layers[i];
    if (!l->w_n) continue;
    char name[NN_NAME_LEN + 16];
    snprintf(name, sizeof name, "%s/kernel", l->name);
    int r = cm_modelfile_get_tensor(f, name, m->params + l->w_off, l->w_n);
    snprintf(name, sizeof name, "%s/bias", l->name);
    if (r == 0) r = cm_modelfile_get_tensor(f, name, m->params + l->b_off, l->b_n);
    if (r < 0) {
      nn_model_free(m);
      m = NULL;
      goto done;
    }
  }
done:
  free(spec);
  cm_modelfile_close_reader(f);
  return m;
}

/* ---------------------------------------------------------------- checkpoints */

#define CKPT_MAGIC "CMCKPT01"

uint64_t nn_fnv1a(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  if (!h) h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

typedef struct {
  char *buf;
  size_t n, cap;
} wbuf;

static void put(wbuf *w, const void *p, size_t n) {
  if (w->n + n > w->cap) {
    w->cap = (w->n + n) * 2;
    w->buf = cm_xrealloc(w->buf, w->cap);
  }
  memcpy(w->buf + w->n, p, n);
  w->n += n;
}

int nn_checkpoint_save(const char *path, const nn_model *m, const nn_ckpt_state *s) {
  wbuf w = {0};
  char *spec = nn_model_spec(m);
  uint32_t spec_len = (uint32_t)strlen(spec);
  uint64_t np = m->n_params;
  int32_t ints[5] = {s->epochs_done, s->best_epoch, s->bad_epochs, s->history_rows, s->history_cols};
  uint8_t has_best = s->best_params != NULL;
  put(&w, CKPT_MAGIC, 8);
  put(&w, &spec_len, 4);
  put(&w, spec, spec_len);
  put(&w, &s->fingerprint, 8);
  put(&w, &m->seed, 8);
  put(&w, &m->step, 8);
  put(&w, &m->opt_t, 8);
  put(&w, &np, 8);
  put(&w, ints, sizeof ints);
  put(&w, &s->best_val, 8);
  put(&w, m->params, 4 * np);
  put(&w, m->m1, 4 * np);
  put(&w, m->m2, 4 * np);
  put(&w, &has_best, 1);
  if (has_best) put(&w, s->best_params, 4 * np);
  put(&w, s->history, 8 * (size_t)s->history_rows * s->history_cols);
  uint64_t sum = nn_fnv1a(0, w.buf, w.n);
  put(&w, &sum, 8);
  int r = cm_write_file_atomic(path, w.buf, w.n);
  free(w.buf);
  free(spec);
  return r;
}

static int take(void *dst, const char **p, const char *end, size_t n) {
  if ((size_t)(end - *p) < n) return -1;
  memcpy(dst, *p, n);
  *p += n;
  return 0;
}

int nn_checkpoint_load(const char *path, nn_model *m, nn_ckpt_state *s) {
  memset(s, 0, sizeof *s);
  FILE *f = fopen(path, "rb");
  if (!f) return cm_set_error("%s: cannot open checkpoint: %s", path, strerror(errno));
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = cm_xmalloc(len > 0 ? (size_t)len : 1);
  size_t got = len > 0 ? fread(buf, 1, (size_t)len, f) : 0;
  fclose(f);
  int r = -1;
  char *spec = NULL, *mine = nn_model_spec(m);
  const char *p = buf, *end = buf + got;
  uint64_t sum;
  if (got < 16 || (long)got != len || memcmp(buf, CKPT_MAGIC, 8) != 0) {
    cm_set_error("%s: not a cmact checkpoint", path);
    goto done;
  }
  memcpy(&sum, end - 8, 8);
  if (nn_fnv1a(0, buf, got - 8) != sum) {
    cm_set_error("%s: checkpoint is damaged (checksum mismatch)", path);
    goto done;
  }
  end -= 8;
  p += 8;
  uint32_t spec_len;
  uint64_t seed, step, opt_t, np;
  int32_t ints[5];
  if (take(&spec_len, &p, end, 4) < 0 || spec_len > (size_t)(end - p)) goto trunc;
  spec = cm_xmalloc(spec_len + 1);
  take(spec, &p, end, spec_len);
  spec[spec_len] = 0;
  if (strcmp(spec, mine) != 0) {
    cm_set_error("%s: checkpoint holds a different model", path);
    goto done;
  }
  if (take(&s->fingerprint, &p, end, 8) < 0 || take(&seed, &p, end, 8) < 0 ||
      take(&step, &p, end, 8) < 0 || take(&opt_t, &p, end, 8) < 0 || take(&np, &p, end, 8) < 0 ||
      take(ints, &p, end, sizeof ints) < 0 || take(&s->best_val, &p, end, 8) < 0)
    goto trunc;
  if (np != m->n_params) {
    cm_set_error("%s: checkpoint has %llu parameters, the model %zu", path, (unsigned long long)np,
                 m->n_params);
    goto done;
  }
  if (ints[3] < 0 || ints[4] < 0 || ints[4] > 64) goto trunc;
  if (take(m->params, &p, end, 4 * np) < 0 || take(m->m1, &p, end, 4 * np) < 0 ||
      take(m->m2, &p, end, 4 * np) < 0)
    goto trunc;
  uint8_t has_best;
  if (take(&has_best, &p, end, 1) < 0) goto trunc;
  if (has_best) {
    s->best_params = cm_xmalloc(4 * np);
    if (take(s->best_params, &p, end, 4 * np) < 0) goto trunc;
  }
  size_t hn = (size_t)ints[3] * ints[4];
  s->history = cm_xmalloc(8 * (hn ? hn : 1));
  if (take(s->history, &p, end, 8 * hn) < 0) goto trunc;
  m->seed = seed;
  m->step = step;
  m->opt_t = opt_t;
  s->epochs_done = ints[0];
  s->best_epoch = ints[1];
  s->bad_epochs = ints[2];
  s->history_rows = ints[3];
  s->history_cols = ints[4];
  r = 0;
  goto done;
trunc:
  cm_set_error("%s: checkpoint is truncated", path);
done:
  if (r < 0) {
    free(s->best_params);
    free(s->history);
    s->best_params = NULL;
    s->history = NULL;
  }
  free(spec);
  free(mine);
  free(buf);
  return r;
}
