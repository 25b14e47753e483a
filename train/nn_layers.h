/*
 * nn_layers: the forward and backward kernels of every layer kind, on raw float buffers
 * (llm.c's style: no graph, no autograd; each layer's backward is written out by hand next to
 * its forward).
 *
 * Layout is channels-last everywhere, as in Keras and as the dataset stores windows:
 * IMU [B, T, C], video [B, D, H, W, C]. A 1-D convolution is the 3-D one with D = H = 1, so
 * there is one convolution and one pooling implementation.
 *
 * Kernels use Keras's layouts: dense [in, out], convolution [kd, kh, kw, cin, cout]. The
 * convolution is im2col + sgemm: rows of the column matrix are output positions, columns are
 * (kd, kh, kw, cin) in kernel order, so the kernel is already the [K, cout] matrix. The
 * column matrix is built for a chunk of output rows at a time (bounded memory at 45x64x64).
 *
 * Gradients are overwritten, never accumulated across calls. Any output gradient pointer may
 * be NULL to skip it (the first layer has no input gradient to compute; frozen layers have no
 * weight gradients).
 */
#ifndef NN_LAYERS_H
#define NN_LAYERS_H

#include <stddef.h>
#include <stdint.h>

/* Time and floating-point operations spent in the dense layers' sgemm calls, counted only
 * while enabled (for `cmact bench train`; one model at a time, not thread-safe). */
typedef struct {
  int enabled;
  double dense_seconds, dense_flop;
} nn_profile;
extern nn_profile nn_prof;

/* ---- dense: y[B,O] = x[B,n_in] W[n_in,O] + b ---- */
void nn_dense_forward(float *y, const float *x, const float *W, const float *b, int B, int n_in,
                      int O);
void nn_dense_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                       const float *W, int B, int n_in, int O);

/* ---- convolution, stride 1, 'same' (total padding k-1, the extra one on the right as in
 * Keras and PyTorch) or 'valid' ---- */
typedef struct {
  int in[3];   /* D, H, W of the input */
  int cin;
  int k[3];    /* kd, kh, kw */
  int pad[3];  /* left padding per axis */
  int out[3];  /* D, H, W of the output */
  int cout;
} nn_conv_geom;

/* Fill a geometry; same != 0 for 'same' padding. Returns -1 if the output would be empty. */
int nn_conv_geom_init(nn_conv_geom *g, const int in[3], int cin, const int k[3], int cout,
                      int same);
/* Scratch floats the convolution needs (the column buffer of one chunk). */
size_t nn_conv_scratch_floats(const nn_conv_geom *g, int B);
void nn_conv_forward(float *y, const float *x, const float *W, const float *b,
                     const nn_conv_geom *g, int B, float *scratch);
void nn_conv_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                      const float *W, const nn_conv_geom *g, int B, float *scratch);

/* ---- max pooling, window = stride = p, 'valid' (a ragged edge is dropped, as in Keras) ---- */
typedef struct {
  int in[3], c, p[3], out[3];
} nn_pool_geom;
int nn_pool_geom_init(nn_pool_geom *g, const int in[3], int c, const int p[3]);
/* argmax[B * out_size]: the within-sample input offset of each maximum (first one on ties,
 * scanning d, h, w, as PyTorch does). */
void nn_maxpool_forward(float *y, int32_t *argmax, const float *x, const nn_pool_geom *g, int B);
void nn_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                         const nn_pool_geom *g, int B);

/* ---- elementwise ---- */
void nn_relu_forward(float *y, const float *x, size_t n); /* y may equal x */
void nn_relu_backward(float *dx, const float *dy, const float *y, size_t n);
/* Inverted dropout: element i is kept when nn_uniform(key, i) >= rate, and scaled by
 * 1/(1-rate). The mask is recomputed in backward from the same key, never stored. */
void nn_dropout_forward(float *y, const float *x, size_t n, float rate, uint64_t key);
void nn_dropout_backward(float *dx, const float *dy, size_t n, float rate, uint64_t key);

/* ---- losses (means over the batch) ---- */
/* Softmax cross-entropy with integer labels; dlogits = (softmax - onehot) / B (NULLable).
 * Counts correct arg-max predictions into *correct when non-NULL. */
double nn_softmax_xent(const float *logits, const int32_t *labels, int B, int C,
                       float *dlogits, int *correct);
/* Mean squared error over all B*D elements (Keras 'mse'); dy = 2 (y - t) / (B D). */
double nn_mse(const float *y, const float *t, int B, int D, float *dy);

#endif
