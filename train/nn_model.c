/*
 * The sequential model of nn_model.h: building layer by layer (shapes are inferred from the
 * previous layer), Glorot initialisation, forward and backward through the layer list, and the
 * freeze / cut / graft operations of the transfer procedures.
 */
#include "nn_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "nn_rng.h"

static const int *prev_shape(const nn_model *m, int *ndim, size_t *size) {
  if (m->n_layers == 0) {
    *ndim = m->in_ndim;
    *size = m->in_size;
    return m->in_shape;
  }
  const nn_layer *p = &m->layers[m->n_layers - 1];
  *ndim = p->out_ndim;
  *size = p->out_size;
  return p->out_shape;
}

static size_t shape_size(const int *s, int n) {
  size_t z = 1;
  for (int i = 0; i < n; i++) z *= (size_t)s[i];
  return z;
}

static void free_batch_buffers(nn_model *m) {
  for (int i = 0; i < m->n_layers; i++) {
    nn_layer *l = &m->layers[i];
    if (l->owns_out) free(l->out);
    free(l->argmax);
    l->out = NULL;
    l->argmax = NULL;
    l->owns_out = 0;
  }
  free(m->dbuf[0]);
  free(m->dbuf[1]);
  free(m->scratch);
  m->dbuf[0] = m->dbuf[1] = m->scratch = NULL;
  m->dbuf_n[0] = m->dbuf_n[1] = 0;
  m->batch = 0;
}

nn_model *nn_model_new(const int *in_shape, int in_ndim, uint64_t seed) {
  if (in_ndim < 1 || in_ndim > 4) {
    cm_set_error("model input must have 1 to 4 dimensions, not %d", in_ndim);
    return NULL;
  }
  nn_model *m = cm_xcalloc(1, sizeof *m);
  memcpy(m->in_shape, in_shape, sizeof(int) * in_ndim);
  m->in_ndim = in_ndim;
  m->in_size = shape_size(in_shape, in_ndim);
  m->seed = seed;
  return m;
}

void nn_model_free(nn_model *m) {
  if (!m) return;
  free_batch_buffers(m);
  free(m->params);
  free(m->grads);
  free(m->m1);
  free(m->m2);
  free(m);
}

int nn_find_layer(const nn_model *m, const char *name) {
  for (int i = 0; i < m->n_layers; i++)
    if (strcmp(m->layers[i].name, name) == 0) return i;
  return -1;
}

/* Grow the parameter buffers by n floats (zeroed); returns the offset of the new range. */
static size_t grow_params(nn_model *m, size_t n) {
  size_t off = m->n_params, total = off + n;
  m->params = cm_xrealloc(m->params, sizeof(float) * (total ? total : 1));
  m->grads = cm_xrealloc(m->grads, sizeof(float) * (total ? total : 1));
  m->m1 = cm_xrealloc(m->m1, sizeof(float) * (total ? total : 1));
  m->m2 = cm_xrealloc(m->m2, sizeof(float) * (total ? total : 1));
  memset(m->params + off, 0, sizeof(float) * n);
  memset(m->grads + off, 0, sizeof(float) * n);
  memset(m->m1 + off, 0, sizeof(float) * n);
  memset(m->m2 + off, 0, sizeof(float) * n);
  m->n_params = total;
  return off;
}

static void glorot(nn_model *m, nn_layer *l, int index, size_t fan_in, size_t fan_out) {
  const float limit = (float)sqrt(6.0 / (double)(fan_in + fan_out));
  const uint64_t key = nn_key(m->seed, NN_TAG_INIT, (uint64_t)index, 0);
  float *w = m->params + l->w_off;
  for (size_t i = 0; i < l->w_n; i++) w[i] = (2.0f * nn_uniform(key, i) - 1.0f) * limit;
}

/* Append a layer whose kind-specific fields are filled in `spec`; computes shapes and
 * parameters from the current output. */
static int add_layer(nn_model *m, nn_layer spec) {
  if (m->n_layers >= NN_MAX_LAYERS) return cm_set_error("too many layers (max %d)", NN_MAX_LAYERS);
  if (!spec.name[0] || nn_find_layer(m, spec.name) >= 0)
    return cm_set_error("layer name '%s' is empty or already used", spec.name);
  int pn;
  size_t psize;
  const int *ps = prev_shape(m, &pn, &psize);
  nn_layer l = spec;
  memcpy(l.in_shape, ps, sizeof(int) * pn);
  l.in_ndim = pn;
  l.in_size = psize;
  l.w_n = l.b_n = 0;
  l.out = NULL;
  l.argmax = NULL;
  l.owns_out = 0;
  size_t fan_in = 0, fan_out = 0;
  switch (l.kind) {
    case NN_DENSE:
      if (pn != 1)
        return cm_set_error("layer '%s': dense needs a flat input (add a flatten layer)", l.name);
      l.out_ndim = 1;
      l.out_shape[0] = l.units;
      l.w_n = (size_t)psize * l.units;
      l.b_n = l.units;
      l.w_ndim = 2;
      l.w_shape[0] = (int)psize;
      l.w_shape[1] = l.units;
      fan_in = psize;
      fan_out = l.units;
      break;
    case NN_CONV:
    case NN_MAXPOOL: {
      int want = l.conv_dims == 1 ? 2 : 4;
      if (pn != want)
        return cm_set_error("layer '%s': a %dd layer needs a %s input", l.name, l.conv_dims,
                            l.conv_dims == 1 ? "(steps, channels)" : "(frames, height, width, channels)");
      int in3[3] = {1, 1, 1}, cin = ps[pn - 1];
      for (int a = 0; a < pn - 1; a++) in3[3 - (pn - 1) + a] = ps[a];
      int out3[3];
      if (l.kind == NN_CONV) {
        int k3[3] = {l.conv.k[0], l.conv.k[1], l.conv.k[2]};
        if (nn_conv_geom_init(&l.conv, in3, cin, k3, l.conv.cout, l.same) < 0)
          return cm_set_error("layer '%s': kernel larger than its input", l.name);
        memcpy(out3, l.conv.out, sizeof out3);
        size_t ksz = (size_t)k3[0] * k3[1] * k3[2];
        l.w_n = ksz * cin * l.conv.cout;
        l.b_n = l.conv.cout;
        fan_in = ksz * cin;
        fan_out = ksz * l.conv.cout;
        /* Keras kernel shape: (k, cin, cout) or (kd, kh, kw, cin, cout) */
        int w = 0;
        for (int a = 3 - l.conv_dims; a < 3; a++) l.w_shape[w++] = k3[a];
        l.w_shape[w++] = cin;
        l.w_shape[w++] = l.conv.cout;
        l.w_ndim = w;
      } else {
        int p3[3] = {l.pool.p[0], l.pool.p[1], l.pool.p[2]};
        if (nn_pool_geom_init(&l.pool, in3, cin, p3) < 0)
          return cm_set_error("layer '%s': pool window larger than its input", l.name);
        memcpy(out3, l.pool.out, sizeof out3);
      }
      l.out_ndim = pn;
      for (int a = 0; a < pn - 1; a++) l.out_shape[a] = out3[3 - (pn - 1) + a];
      l.out_shape[pn - 1] = l.kind == NN_CONV ? l.conv.cout : cin;
      break;
    }
    case NN_RELU:
    case NN_DROPOUT:
      if (l.kind == NN_DROPOUT && !(l.rate >= 0.0f && l.rate < 1.0f))
        return cm_set_error("layer '%s': dropout rate %g is not in [0, 1)", l.name, l.rate);
      memcpy(l.out_shape, ps, sizeof(int) * pn);
      l.out_ndim = pn;
      break;
    case NN_FLATTEN:
      l.out_ndim = 1;
      l.out_shape[0] = (int)psize;
      break;
  }
  l.out_size = shape_size(l.out_shape, l.out_ndim);
  free_batch_buffers(m);
  if (l.w_n + l.b_n) {
    l.w_off = grow_params(m, l.w_n + l.b_n);
    l.b_off = l.w_off + l.w_n;
  }
  m->layers[m->n_layers] = l;
  if (l.w_n) glorot(m, &m->layers[m->n_layers], m->n_layers, fan_in, fan_out);
  m->n_layers++;
  return 0;
}

static nn_layer named(nn_kind kind, const char *name) {
  nn_layer l;
  memset(&l, 0, sizeof l);
  l.kind = kind;
  snprintf(l.name, sizeof l.name, "%s", name);
  return l;
}

int nn_add_dense(nn_model *m, const char *name, int units) {
  if (units < 1) return cm_set_error("layer '%s': %d units", name, units);
  nn_layer l = named(NN_DENSE, name);
  l.units = units;
  return add_layer(m, l);
}

int nn_add_conv1d(nn_model *m, const char *name, int cout, int k, int same) {
  return nn_add_conv3d(m, name, cout, 1, 1, k, same) < 0 ? -1
         : (m->layers[m->n_layers - 1].conv_dims = 1, 0);
}

int nn_add_conv3d(nn_model *m, const char *name, int cout, int kd, int kh, int kw, int same) {
  if (cout < 1 || kd < 1 || kh < 1 || kw < 1) return cm_set_error("layer '%s': bad conv sizes", name);
  nn_layer l = named(NN_CONV, name);
  l.conv_dims = m->n_layers ? (m->layers[m->n_layers - 1].out_ndim == 2 ? 1 : 3)
                            : (m->in_ndim == 2 ? 1 : 3);
  l.conv.k[0] = kd;
  l.conv.k[1] = kh;
  l.conv.k[2] = kw;
  l.conv.cout = cout;
  l.same = same;
  return add_layer(m, l);
}

int nn_add_maxpool1d(nn_model *m, const char *name, int p) {
  return nn_add_maxpool3d(m, name, 1, 1, p) < 0 ? -1
         : (m->layers[m->n_layers - 1].conv_dims = 1, 0);
}

int nn_add_maxpool3d(nn_model *m, const char *name, int pd, int ph, int pw) {
  nn_layer l = named(NN_MAXPOOL, name);
  l.conv_dims = m->n_layers ? (m->layers[m->n_layers - 1].out_ndim == 2 ? 1 : 3)
                            : (m->in_ndim == 2 ? 1 : 3);
  l.pool.p[0] = pd;
  l.pool.p[1] = ph;
  l.pool.p[2] = pw;
  return add_layer(m, l);
}

int nn_add_relu(nn_model *m, const char *name) { return add_layer(m, named(NN_RELU, name)); }

int nn_add_dropout(nn_model *m, const char *name, float rate) {
  nn_layer l = named(NN_DROPOUT, name);
  l.rate = rate;
  return add_layer(m, l);
}

int nn_add_flatten(nn_model *m, const char *name) { return add_layer(m, named(NN_FLATTEN, name)); }

size_t nn_layer_params(const nn_layer *l) { return l->w_n + l->b_n; }

size_t nn_trainable_params(const nn_model *m) {
  size_t n = 0;
  for (int i = 0; i < m->n_layers; i++)
    if (!m->layers[i].frozen) n += nn_layer_params(&m->layers[i]);
  return n;
}

const int *nn_output_shape(const nn_model *m, int *ndim) {
  size_t s;
  return prev_shape(m, ndim, &s);
}

size_t nn_output_size(const nn_model *m) {
  int n;
  size_t s;
  prev_shape(m, &n, &s);
  return s;
}

static const char *kind_name(const nn_layer *l) {
  switch (l->kind) {
    case NN_DENSE: return "dense";
    case NN_CONV: return l->conv_dims == 1 ? "conv1d" : "conv3d";
    case NN_MAXPOOL: return l->conv_dims == 1 ? "maxpool1d" : "maxpool3d";
    case NN_RELU: return "relu";
    case NN_DROPOUT: return "dropout";
    case NN_FLATTEN: return "flatten";
  }
  return "?";
}

static void shape_str(char *buf, size_t len, const int *s, int n) {
  size_t k = 0;
  buf[0] = 0;
  for (int i = 0; i < n && k < len; i++)
    k += snprintf(buf + k, len - k, i ? "x%d" : "%d", s[i]);
}

void nn_model_print(const nn_model *m, FILE *f) {
  char a[64];
  shape_str(a, sizeof a, m->in_shape, m->in_ndim);
  fprintf(f, "%-16s %-10s %-16s %10s\n", "layer", "kind", "output", "params");
  fprintf(f, "%-16s %-10s %-16s %10d\n", "(input)", "", a, 0);
  for (int i = 0; i < m->n_layers; i++) {
    const nn_layer *l = &m->layers[i];
    shape_str(a, sizeof a, l->out_shape, l->out_ndim);
    fprintf(f, "%-16s %-10s %-16s %10zu%s\n", l->name, kind_name(l), a, nn_layer_params(l),
            l->frozen ? " (frozen)" : "");
  }
  fprintf(f, "total parameters: %zu (trainable %zu)\n", m->n_params, nn_trainable_params(m));
}

/* ---------------------------------------------------------------- running */

/* Dense, conv and pool layers write their own buffer. ReLU and dropout work in place, except
 * when every layer below them is a view of the caller's input, which must not be modified. */
static int owns_output(const nn_model *m, int index) {
  const nn_layer *l = &m->layers[index];
  if (l->kind == NN_DENSE || l->kind == NN_CONV || l->kind == NN_MAXPOOL) return 1;
  if (l->kind == NN_FLATTEN) return 0;
  for (int i = 0; i < index; i++)
    if (m->layers[i].kind == NN_DENSE || m->layers[i].kind == NN_CONV ||
        m->layers[i].kind == NN_MAXPOOL)
      return 0;
  return 1;
}

int nn_model_reserve(nn_model *m, int B) {
  if (B <= m->batch) return 0;
  free_batch_buffers(m);
  size_t act_max = m->in_size, scratch = 0;
  for (int i = 0; i < m->n_layers; i++) {
    nn_layer *l = &m->layers[i];
    if (l->out_size > act_max) act_max = l->out_size;
    if (owns_output(m, i)) {
      l->out = cm_xmalloc(sizeof(float) * l->out_size * B);
      l->owns_out = 1;
    }
    if (l->kind == NN_MAXPOOL) l->argmax = cm_xmalloc(sizeof(int32_t) * l->out_size * B);
    if (l->kind == NN_CONV) {
      size_t s = nn_conv_scratch_floats(&l->conv, B);
      if (s > scratch) scratch = s;
    }
  }
  /* the gradient buffers grow on first use (nn_backward), to the sizes actually needed */
  m->dbuf_n[0] = m->dbuf_n[1] = 0;
  m->scratch = scratch ? cm_xmalloc(sizeof(float) * scratch) : NULL;
  m->scratch_n = scratch;
  m->act_max = act_max;
  m->batch = B;
  return 0;
}

static uint64_t dropout_key(const nn_model *m, int layer, uint64_t step) {
  return nn_key(m->seed, NN_TAG_DROPOUT, (uint64_t)layer, step);
}

/* Gradient buffer k with room for n floats, grown (never shrunk) as needed. */
static float *grad_buffer(nn_model *m, int k, size_t n) {
  if (m->dbuf_n[k] < n) {
    free(m->dbuf[k]);
    m->dbuf[k] = cm_xmalloc(sizeof(float) * n);
    m->dbuf_n[k] = n;
  }
  return m->dbuf[k];
}

float *nn_forward(nn_model *m, const float *x, int B, int training) {
  nn_model_reserve(m, B);
  m->input = x;
  m->batch_used = B;
  m->last_training = training;
  const float *in = x;
  for (int i = 0; i < m->n_layers; i++) {
    nn_layer *l = &m->layers[i];
    const float *W = m->params + l->w_off, *b = m->params + l->b_off;
    switch (l->kind) {
      case NN_DENSE: nn_dense_forward(l->out, in, W, b, B, (int)l->in_size, l->units); break;
      case NN_CONV: nn_conv_forward(l->out, in, W, b, &l->conv, B, m->scratch); break;
      case NN_MAXPOOL: nn_maxpool_forward(l->out, l->argmax, in, &l->pool, B); break;
      case NN_RELU:
        if (!l->owns_out) l->out = (float *)in; /* in place: see nn_model.h */
        nn_relu_forward(l->out, in, l->out_size * B);
        break;
      case NN_DROPOUT:
        if (!l->owns_out) l->out = (float *)in;
        if (training && l->rate > 0.0f)
          nn_dropout_forward(l->out, in, l->out_size * B, l->rate, dropout_key(m, i, m->step));
        else if (l->out != in)
          memcpy(l->out, in, sizeof(float) * l->out_size * B);
        break;
      case NN_FLATTEN: l->out = (float *)in; break;
    }
    in = l->out;
  }
  if (training) m->step++;
  return (float *)in;
}

void nn_backward(nn_model *m, const float *dout, float *dx) {
  int low = m->n_layers;
  for (int i = 0; i < m->n_layers; i++)
    if (nn_layer_params(&m->layers[i]) && !m->layers[i].frozen) {
      low = i;
      break;
    }
  if (dx) low = 0;
  /* the dropout masks of the last training forward */
  const uint64_t step = m->step ? m->step - 1 : 0;
  const float *cur = dout;
  for (int i = m->n_layers - 1; i >= low; i--) {
    nn_layer *l = &m->layers[i];
    const float *in = i ? m->layers[i - 1].out : m->input;
    const int need_dx = i > low || dx;
    /* ReLU and dropout work in place on a gradient buffer of ours; the rest alternate
     * between the two buffers (sized on first use: at 45x64x64 the largest gradient is 3 GB
     * and only one buffer ever needs that size). */
    const int in_place = (l->kind == NN_RELU || l->kind == NN_DROPOUT) &&
                         (cur == m->dbuf[0] || cur == m->dbuf[1]) && !(i == 0 && dx);
    float *dst;
    if (i == 0 && dx)
      dst = dx;
    else if (in_place)
      dst = (float *)cur;
    else
      dst = grad_buffer(m, cur == m->dbuf[0] ? 1 : 0, l->in_size * m->batch_used);
    float *dW = l->frozen ? NULL : m->grads + l->w_off;
    float *db = l->frozen ? NULL : m->grads + l->b_off;
    const float *W = m->params + l->w_off;
    const size_t n = l->out_size * m->batch_used;
    switch (l->kind) {
      case NN_DENSE:
        nn_dense_backward(need_dx ? dst : NULL, dW, db, cur, in, W, m->batch_used, (int)l->in_size,
                          l->units);
        break;
      case NN_CONV:
        nn_conv_backward(need_dx ? dst : NULL, dW, db, cur, in, W, &l->conv, m->batch_used,
                         m->scratch);
        break;
      case NN_MAXPOOL: nn_maxpool_backward(dst, cur, l->argmax, &l->pool, m->batch_used); break;
      case NN_RELU: nn_relu_backward(dst, cur, l->out, n); break;
      case NN_DROPOUT:
        if (l->rate > 0.0f && m->last_training)
          nn_dropout_backward(dst, cur, n, l->rate, dropout_key(m, i, step));
        else
          memcpy(dst, cur, sizeof(float) * n);
        break;
      case NN_FLATTEN:
        if (dst == dx)
          memcpy(dst, cur, sizeof(float) * n);
        else
          dst = (float *)cur;
        break;
    }
    cur = dst;
  }
}

/* ---------------------------------------------------------------- transfer operations */

int nn_freeze(nn_model *m, const char *name, int frozen) {
  int i = nn_find_layer(m, name);
  if (i < 0) return cm_set_error("no layer named '%s'", name);
  m->layers[i].frozen = frozen;
  return 0;
}

int nn_freeze_through(nn_model *m, const char *name, int frozen) {
  int last = m->n_layers - 1;
  if (name && (last = nn_find_layer(m, name)) < 0) return cm_set_error("no layer named '%s'", name);
  for (int i = 0; i <= last; i++) m->layers[i].frozen = frozen;
  return 0;
}

/* Re-add a copy of layer `l` (as specified) onto m and copy its weights. */
static int add_copy(nn_model *m, const nn_model *src, const nn_layer *l) {
  nn_layer spec = named(l->kind, l->name);
  spec.conv_dims = l->conv_dims;
  spec.units = l->units;
  spec.conv.k[0] = l->conv.k[0];
  spec.conv.k[1] = l->conv.k[1];
  spec.conv.k[2] = l->conv.k[2];
  spec.conv.cout = l->conv.cout;
  spec.pool.p[0] = l->pool.p[0];
  spec.pool.p[1] = l->pool.p[1];
  spec.pool.p[2] = l->pool.p[2];
  spec.same = l->same;
  spec.rate = l->rate;
  spec.frozen = l->frozen;
  size_t psize;
  int pn;
  prev_shape(m, &pn, &psize);
  if (psize != l->in_size)
    return cm_set_error("layer '%s' takes %zu inputs but the model gives %zu", l->name, l->in_size,
                        psize);
  if (add_layer(m, spec) < 0) return -1;
  nn_layer *d = &m->layers[m->n_layers - 1];
  if (d->w_n != l->w_n || d->b_n != l->b_n)
    return cm_set_error("layer '%s' does not fit on top of this model", l->name);
  memcpy(m->params + d->w_off, src->params + l->w_off, sizeof(float) * (l->w_n + l->b_n));
  return 0;
}

nn_model *nn_model_cut(const nn_model *m, const char *name) {
  int last = nn_find_layer(m, name);
  if (last < 0) {
    cm_set_error("no layer named '%s' to cut at", name);
    return NULL;
  }
  nn_model *c = nn_model_new(m->in_shape, m->in_ndim, m->seed);
  for (int i = 0; i <= last; i++)
    if (add_copy(c, m, &m->layers[i]) < 0) {
      nn_model_free(c);
      return NULL;
    }
  return c;
}

nn_model *nn_model_clone(const nn_model *m) {
  if (m->n_layers == 0) return nn_model_new(m->in_shape, m->in_ndim, m->seed);
  nn_model *c = nn_model_cut(m, m->layers[m->n_layers - 1].name);
  if (c) c->step = m->step;
  return c;
}

int nn_model_graft(nn_model *m, const nn_model *src, const char *after) {
  int first = 0;
  if (after) {
    int i = nn_find_layer(src, after);
    if (i < 0) return cm_set_error("no layer named '%s' in the grafted model", after);
    first = i + 1;
  }
  for (int i = first; i < src->n_layers; i++)
    if (add_copy(m, src, &src->layers[i]) < 0) return -1;
  return 0;
}
