/*
 * nn_model: a sequential network as one struct, llm.c-style.
 *
 * All trainable numbers live in one contiguous buffer (params), with matching buffers for
 * gradients and the optimizer's two moments; each layer knows the offsets of its kernel and
 * bias there. One buffer makes the optimizer one loop, a checkpoint one array, and a frozen
 * layer just a range the optimizer skips.
 *
 * Activations are kept per layer for the current batch (backward needs each layer's input);
 * ReLU works in place on its input and flatten is a view, so they cost nothing. Gradients
 * with respect to activations travel through two ping-pong buffers (ReLU and dropout update
 * theirs in place).
 *
 * Layers are named. The architectures name the layers the transfer procedures address:
 * `DENSE_2`, `DENSE_1` (dense layers, their ReLU is the separate layer `DENSE_1_relu`) and
 * `output`. Operations: freeze a layer, cut the model after a named layer, graft layers of
 * another model on top.
 *
 * Initialisation (stated, as Keras does by default): kernels Glorot uniform,
 * U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), fan_in = kd*kh*kw*cin and
 * fan_out = kd*kh*kw*cout for convolutions; biases zero. The uniform numbers come from
 * nn_rng.h keyed by (seed, layer index), so a model is a pure function of its seed.
 */
#ifndef NN_MODEL_H
#define NN_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nn_layers.h"

#define NN_NAME_LEN 32
#define NN_MAX_LAYERS 64

typedef enum {
  NN_DENSE,
  NN_CONV,    /* conv1d is a conv with D = H = 1 */
  NN_MAXPOOL, /* maxpool1d likewise */
  NN_RELU,
  NN_DROPOUT,
  NN_FLATTEN,
} nn_kind;

typedef struct {
  nn_kind kind;
  char name[NN_NAME_LEN];
  int conv_dims;            /* 1 or 3 for conv / pool (how it is saved and printed) */
  /* per-sample shapes, channels last; ndim 1 (features), 2 (T, C) or 4 (D, H, W, C) */
  int in_shape[4], in_ndim;
  int out_shape[4], out_ndim;
  size_t in_size, out_size; /* floats per sample */
  /* parameters: offsets into the model's buffers */
  size_t w_off, w_n, b_off, b_n;
  int w_shape[5], w_ndim;
  int units;                /* dense */
  nn_conv_geom conv;
  nn_pool_geom pool;
  int same;
  float rate;               /* dropout */
  int frozen;
  /* activations for the current batch */
  float *out;               /* [B * out_size]; aliases the input for relu/flatten */
  int32_t *argmax;          /* maxpool */
  int owns_out;
} nn_layer;

typedef struct {
  int n_layers;
  nn_layer layers[NN_MAX_LAYERS];
  int in_shape[4], in_ndim;
  size_t in_size;
  uint64_t seed;            /* initialisation and dropout masks */
  uint64_t step;            /* training forward passes so far (dropout masks depend on it) */
  uint64_t opt_t;           /* optimizer steps so far (Adam's bias correction) */
  size_t n_params;
  float *params, *grads, *m1, *m2;
  /* batch buffers */
  int batch;                /* capacity of the activation buffers */
  int batch_used;           /* size of the last forward's batch */
  int last_training;        /* whether the last forward applied dropout */
  const float *input;       /* the batch of the last forward */
  float *dbuf[2];
  size_t dbuf_n[2];
  float *scratch;
  size_t scratch_n;
  size_t act_max;
} nn_model;

/* ---- building ---- */
nn_model *nn_model_new(const int *in_shape, int in_ndim, uint64_t seed);
void nn_model_free(nn_model *m);
/* Each returns 0, or -1 with the error line set (bad shapes, duplicate name, too many). */
int nn_add_dense(nn_model *m, const char *name, int units);
int nn_add_conv1d(nn_model *m, const char *name, int cout, int k, int same);
int nn_add_conv3d(nn_model *m, const char *name, int cout, int kd, int kh, int kw, int same);
int nn_add_maxpool1d(nn_model *m, const char *name, int p);
int nn_add_maxpool3d(nn_model *m, const char *name, int pd, int ph, int pw);
int nn_add_relu(nn_model *m, const char *name);
int nn_add_dropout(nn_model *m, const char *name, float rate);
int nn_add_flatten(nn_model *m, const char *name);

int nn_find_layer(const nn_model *m, const char *name); /* index or -1 */
size_t nn_layer_params(const nn_layer *l);
size_t nn_trainable_params(const nn_model *m);
const int *nn_output_shape(const nn_model *m, int *ndim);
size_t nn_output_size(const nn_model *m);
/* A one-line-per-layer summary with parameter counts. */
void nn_model_print(const nn_model *m, FILE *f);

/* ---- running ---- */
/* Make room for batches of up to B samples. */
int nn_model_reserve(nn_model *m, int B);
/* Forward a batch x[B * in_size]; returns the output [B * out_size] (owned by the model).
 * training != 0 applies dropout (and advances the step counter). */
float *nn_forward(nn_model *m, const float *x, int B, int training);
/* Backward from dout = dLoss/dOutput of the last forward; fills grads of unfrozen layers.
 * When dx is non-NULL the gradient with respect to the input is written there. */
void nn_backward(nn_model *m, const float *dout, float *dx);

/* ---- transfer operations ---- */
int nn_freeze(nn_model *m, const char *name, int frozen);
/* Freeze every layer up to and including `name` (all layers when name is NULL). */
int nn_freeze_through(nn_model *m, const char *name, int frozen);
/* A new model holding copies of m's layers up to and including `name`. */
nn_model *nn_model_cut(const nn_model *m, const char *name);
/* Append copies of src's layers after the layer named `after` (all of src when NULL) onto m;
 * their input shape must match m's output. Weights are copied. */
int nn_model_graft(nn_model *m, const nn_model *src, const char *after);
/* A deep copy (weights, not optimizer state). */
nn_model *nn_model_clone(const nn_model *m);

#endif
