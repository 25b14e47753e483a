/*
 * nn_optim: the optimizers, updating a model's parameter buffer in place from its gradient
 * buffer, skipping frozen layers. Formulas are PyTorch's (torch.optim.SGD and Adam, no weight
 * decay), so the parity tests can run the same steps in PyTorch:
 *
 *   SGD:      v = mu v + g;  p -= lr (nesterov ? g + mu v : v)        (v starts at 0)
 *   Adam:     m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *             p -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
 *
 * Adam's defaults are lr 1e-3, betas 0.9 / 0.999 and eps 1e-7: Keras's epsilon, because the
 * study trained with Keras; PyTorch's default is 1e-8, and the parity tests pass eps=1e-7 to
 * PyTorch. The step counter t lives in the model (nn_model.opt_t) so a checkpoint carries it.
 * SGD's velocity lives in the model's first-moment buffer.
 */
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include "nn_model.h"

typedef enum { NN_OPT_SGD, NN_OPT_ADAM } nn_opt_kind;

typedef struct {
  nn_opt_kind kind;
  float lr;
  float momentum; /* SGD */
  int nesterov;   /* SGD */
  float beta1, beta2, eps;
} nn_optimizer;

nn_optimizer nn_sgd(float lr, float momentum, int nesterov);
nn_optimizer nn_adam(float lr); /* betas 0.9 / 0.999, eps 1e-7 */

/* One update of every unfrozen layer from m->grads; advances m->opt_t. */
void nn_optim_step(const nn_optimizer *o, nn_model *m);

#endif
