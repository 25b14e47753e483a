/* The optimizer updates of nn_optim.h: one pass over each unfrozen layer's parameter range. */
#include "nn_optim.h"

#include "nn_threads.h"

#include <math.h>
#include <string.h>

nn_optimizer nn_sgd(float lr, float momentum, int nesterov) {
  nn_optimizer o;
  memset(&o, 0, sizeof o);
  o.kind = NN_OPT_SGD;
  o.lr = lr;
  o.momentum = momentum;
  o.nesterov = nesterov;
  return o;
}

nn_optimizer nn_adam(float lr) {
  nn_optimizer o;
  memset(&o, 0, sizeof o);
  o.kind = NN_OPT_ADAM;
  o.lr = lr;
  o.beta1 = 0.9f;
  o.beta2 = 0.999f;
  o.eps = 1e-7f;
  return o;
}

static void sgd_range(const nn_optimizer *o, float *p, const float *g, float *v, size_t n) {
  const float mu = o->momentum, lr = o->lr;
  if (mu == 0.0f) {
    for (size_t i = 0; i < n; i++) p[i] -= lr * g[i];
    return;
  }
  for (size_t i = 0; i < n; i++) {
    v[i] = mu * v[i] + g[i];
    p[i] -= lr * (o->nesterov ? g[i] + mu * v[i] : v[i]);
  }
}

typedef struct {
  const nn_optimizer *o;
  float step, inv_sqrt_bc2;
  float *p, *m1, *m2;
  const float *g;
} adam_job;

static void adam_part(void *ctx, size_t lo, size_t hi) {
  const adam_job *j = ctx;
  const float b1 = j->o->beta1, b2 = j->o->beta2, eps = j->o->eps;
  float *p = j->p, *m1 = j->m1, *m2 = j->m2;
  const float *g = j->g;
  for (size_t i = lo; i < hi; i++) {
    m1[i] = b1 * m1[i] + (1.0f - b1) * g[i];
    m2[i] = b2 * m2[i] + (1.0f - b2) * g[i] * g[i];
    p[i] -= j->step * m1[i] / (sqrtf(m2[i]) * j->inv_sqrt_bc2 + eps);
  }
}

static void adam_range(const nn_optimizer *o, uint64_t t, float *p, const float *g, float *m1,
                       float *m2, size_t n) {
  adam_job j = {o, (float)(o->lr / (1.0 - pow(o->beta1, (double)t))),
                (float)(1.0 / sqrt(1.0 - pow(o->beta2, (double)t))), p, m1, m2, g};
  nn_parallel_for(n, 65536, adam_part, &j);
}

void nn_optim_step(const nn_optimizer *o, nn_model *m) {
  m->opt_t++;
  for (int i = 0; i < m->n_layers; i++) {
    const nn_layer *l = &m->layers[i];
    size_t n = l->w_n + l->b_n, off = l->w_off;
    if (!n || l->frozen) continue;
    if (o->kind == NN_OPT_SGD)
      sgd_range(o, m->params + off, m->grads + off, m->m1 + off, n);
    else
      adam_range(o, m->opt_t, m->params + off, m->grads + off, m->m1 + off, m->m2 + off, n);
  }
}
