/*
 * The layer kernels declared in nn_layers.h. Every matrix product goes to OpenBLAS's sgemm
 * (which brings its own threads); the rest are plain loops, written so that each output element
 * is computed by one fixed sequence of operations (results identical run to run).
 */
#include "nn_layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "cm_util.h"
#include "nn_rng.h"
#include "nn_threads.h"

nn_profile nn_prof;

/* The column buffer of one convolution chunk holds at most this many floats (32 MiB). */
#define NN_COL_FLOATS (8u << 20)

/* Sum of the rows of a [rows, cols] matrix into out[cols], in row order. */
static void sum_rows(float *out, const float *m, size_t rows, int cols) {
  memset(out, 0, sizeof(float) * cols);
  for (size_t r = 0; r < rows; r++) {
    const float *row = m + r * cols;
    for (int c = 0; c < cols; c++) out[c] += row[c];
  }
}

/* y rows = bias, so that sgemm with beta = 1 adds the product onto it. */
static void fill_bias(float *y, const float *b, size_t rows, int cols) {
  for (size_t r = 0; r < rows; r++) {
    if (b)
      memcpy(y + r * cols, b, sizeof(float) * cols);
    else
      memset(y + r * cols, 0, sizeof(float) * cols);
  }
}

static int64_t prof_start(void) { return nn_prof.enabled ? cm_monotonic_ns() : 0; }
static void prof_dense(int64_t t0, double flop) {
  if (!nn_prof.enabled) return;
  nn_prof.dense_seconds += (double)(cm_monotonic_ns() - t0) * 1e-9;
  nn_prof.dense_flop += flop;
}

void nn_dense_forward(float *y, const float *x, const float *W, const float *b, int B, int n_in,
                      int O) {
  int64_t t0 = prof_start();
  fill_bias(y, b, B, O);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, O, n_in, 1.0f, x, n_in, W, O, 1.0f, y, O);
  prof_dense(t0, 2.0 * B * n_in * O);
}

void nn_dense_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                       const float *W, int B, int n_in, int O) {
  int64_t t0 = prof_start();
  if (dW)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_in, O, B, 1.0f, x, n_in, dy, O, 0.0f, dW, O);
  if (db) sum_rows(db, dy, B, O);
  if (dx)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_in, O, 1.0f, dy, O, W, O, 0.0f, dx, n_in);
  prof_dense(t0, 2.0 * B * n_in * O * ((dW ? 1 : 0) + (dx ? 1 : 0)));
}

/* ---------------------------------------------------------------- convolution */

int nn_conv_geom_init(nn_conv_geom *g, const int in[3], int cin, const int k[3], int cout,
                      int same) {
  memset(g, 0, sizeof *g);
  g->cin = cin;
  g->cout = cout;
  for (int a = 0; a < 3; a++) {
    g->in[a] = in[a];
    g->k[a] = k[a];
    g->pad[a] = same ? (k[a] - 1) / 2 : 0;
    g->out[a] = same ? in[a] : in[a] - k[a] + 1;
    if (g->out[a] < 1 || k[a] < 1) return -1;
  }
  return 0;
}

static size_t conv_K(const nn_conv_geom *g) { return (size_t)g->k[0] * g->k[1] * g->k[2] * g->cin; }
static size_t conv_rows_per_sample(const nn_conv_geom *g) {
  return (size_t)g->out[0] * g->out[1] * g->out[2];
}
/* Output rows per chunk: as many as fit NN_COL_FLOATS, at least one. */
static size_t conv_chunk_rows(const nn_conv_geom *g, int B) {
  size_t K = conv_K(g), total = conv_rows_per_sample(g) * B;
  size_t rows = NN_COL_FLOATS / K;
  if (rows < 1) rows = 1;
  return rows < total ? rows : total;
}

size_t nn_conv_scratch_floats(const nn_conv_geom *g, int B) {
  return conv_chunk_rows(g, B) * conv_K(g);
}

/* Build column rows [r0, r1) (global row = sample * rows_per_sample + position) at
 * col + (r - base) * K. */
static void im2col_rows(float *col, const float *x, const nn_conv_geom *g, size_t base, size_t r0,
                        size_t r1) {
  const int D = g->in[0], H = g->in[1], W = g->in[2], C = g->cin;
  const int kd = g->k[0], kh = g->k[1], kw = g->k[2];
  const size_t rps = conv_rows_per_sample(g), K = conv_K(g), seg = (size_t)kw * C;
  const size_t in_size = (size_t)D * H * W * C;
  for (size_t r = r0; r < r1; r++) {
    size_t b = r / rps, p = r % rps;
    int ow = p % g->out[2], oh = (p / g->out[2]) % g->out[1], od = p / ((size_t)g->out[2] * g->out[1]);
    const float *xs = x + b * in_size;
    float *dst = col + (r - base) * K;
    int w0 = ow - g->pad[2];
    for (int i = 0; i < kd; i++) {
      int id = od + i - g->pad[0];
      for (int j = 0; j < kh; j++, dst += seg) {
        int ih = oh + j - g->pad[1];
        if (id < 0 || id >= D || ih < 0 || ih >= H) {
          memset(dst, 0, sizeof(float) * seg);
          continue;
        }
        const float *src = xs + (((size_t)id * H + ih) * W) * C;
        if (w0 >= 0 && w0 + kw <= W) {
          /* a loop, not memcpy: segments are short (kw * cin = 9 floats in the first layer) */
          const float *s = src + (size_t)w0 * C;
          for (size_t t = 0; t < seg; t++) dst[t] = s[t];
        } else {
          for (int kk = 0; kk < kw; kk++) {
            int iw = w0 + kk;
            if (iw < 0 || iw >= W)
              memset(dst + (size_t)kk * C, 0, sizeof(float) * C);
            else
              memcpy(dst + (size_t)kk * C, src + (size_t)iw * C, sizeof(float) * C);
          }
        }
      }
    }
  }
}

typedef struct {
  float *col;
  const float *x;
  const nn_conv_geom *g;
  size_t r0;
} im2col_job;

static void im2col_part(void *ctx, size_t lo, size_t hi) {
  const im2col_job *j = ctx;
  im2col_rows(j->col, j->x, j->g, j->r0, j->r0 + lo, j->r0 + hi);
}

/* Column rows [r0, r1) into col, the rows shared among the engine's threads. */
static void im2col(float *col, const float *x, const nn_conv_geom *g, size_t r0, size_t r1) {
  im2col_job j = {col, x, g, r0};
  nn_parallel_for(r1 - r0, 1024, im2col_part, &j);
}

/* The adjoint of im2col: add column rows [r0, r1) back into dx. */
static void col2im_add(float *dx, const float *col, const nn_conv_geom *g, size_t r0, size_t r1) {
  const int D = g->in[0], H = g->in[1], W = g->in[2], C = g->cin;
  const int kd = g->k[0], kh = g->k[1], kw = g->k[2];
  const size_t rps = conv_rows_per_sample(g), K = conv_K(g), seg = (size_t)kw * C;
  const size_t in_size = (size_t)D * H * W * C;
  for (size_t r = r0; r < r1; r++) {
    size_t b = r / rps, p = r % rps;
    int ow = p % g->out[2], oh = (p / g->out[2]) % g->out[1], od = p / ((size_t)g->out[2] * g->out[1]);
    float *xs = dx + b * in_size;
    const float *src = col + (r - r0) * K;
    int w0 = ow - g->pad[2];
    for (int i = 0; i < kd; i++) {
      int id = od + i - g->pad[0];
      for (int j = 0; j < kh; j++, src += seg) {
        int ih = oh + j - g->pad[1];
        if (id < 0 || id >= D || ih < 0 || ih >= H) continue;
        float *dst = xs + (((size_t)id * H + ih) * W) * C;
        for (int kk = 0; kk < kw; kk++) {
          int iw = w0 + kk;
          if (iw < 0 || iw >= W) continue;
          float *d = dst + (size_t)iw * C;
          const float *s = src + (size_t)kk * C;
          for (int c = 0; c < C; c++) d[c] += s[c];
        }
      }
    }
  }
}

void nn_conv_forward(float *y, const float *x, const float *W, const float *b,
                     const nn_conv_geom *g, int B, float *scratch) {
  const size_t K = conv_K(g), total = conv_rows_per_sample(g) * B;
  const size_t chunk = conv_chunk_rows(g, B);
  const int N = g->cout;
  /* A 1x1x1 kernel without padding needs no column matrix: x already is one. */
  const int direct = K == (size_t)g->cin;
  for (size_t r0 = 0; r0 < total; r0 += chunk) {
    size_t r1 = r0 + chunk < total ? r0 + chunk : total, M = r1 - r0;
    const float *col = x + r0 * K;
    if (!direct) {
      im2col(scratch, x, g, r0, r1);
      col = scratch;
    }
    fill_bias(y + r0 * N, b, M, N);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, N, (int)K, 1.0f, col, (int)K,
                W, N, 1.0f, y + r0 * N, N);
  }
}

void nn_conv_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                      const float *W, const nn_conv_geom *g, int B, float *scratch) {
  const size_t K = conv_K(g), total = conv_rows_per_sample(g) * B;
  const size_t chunk = conv_chunk_rows(g, B);
  const int N = g->cout;
  const int direct = K == (size_t)g->cin;
  if (db) sum_rows(db, dy, total, N);
  if (dx && !direct) memset(dx, 0, sizeof(float) * (size_t)B * g->in[0] * g->in[1] * g->in[2] * g->cin);
  for (size_t r0 = 0; r0 < total; r0 += chunk) {
    size_t r1 = r0 + chunk < total ? r0 + chunk : total, M = r1 - r0;
    const float *dyc = dy + r0 * N;
    if (dW) {
      const float *col = x + r0 * K;
      if (!direct) {
        im2col(scratch, x, g, r0, r1);
        col = scratch;
      }
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, N, (int)M, 1.0f, col, (int)K,
                  dyc, N, r0 == 0 ? 0.0f : 1.0f, dW, N);
    }
    if (dx) {
      float *dcol = direct ? dx + r0 * K : scratch;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)K, N, 1.0f, dyc, N, W, N,
                  0.0f, dcol, (int)K);
      if (!direct) col2im_add(dx, dcol, g, r0, r1);
    }
  }
}

/* ---------------------------------------------------------------- max pooling */

int nn_pool_geom_init(nn_pool_geom *g, const int in[3], int c, const int p[3]) {
  memset(g, 0, sizeof *g);
  g->c = c;
  for (int a = 0; a < 3; a++) {
    g->in[a] = in[a];
    g->p[a] = p[a];
    if (p[a] < 1) return -1;
    g->out[a] = in[a] / p[a];
    if (g->out[a] < 1) return -1;
  }
  return 0;
}

typedef struct {
  float *y;
  int32_t *argmax;
  const float *x;
  const float *dy;
  float *dx;
  const nn_pool_geom *g;
} pool_job;

static size_t pool_in_size(const nn_pool_geom *g) {
  return (size_t)g->in[0] * g->in[1] * g->in[2] * g->c;
}
static size_t pool_out_size(const nn_pool_geom *g) {
  return (size_t)g->out[0] * g->out[1] * g->out[2] * g->c;
}
/* samples per thread at least: enough work to be worth waking a thread */
static size_t pool_grain(const nn_pool_geom *g) {
  size_t s = pool_in_size(g);
  return s >= 65536 ? 1 : 65536 / s;
}

static void maxpool_forward_part(void *ctx, size_t b0, size_t b1) {
  const pool_job *j = ctx;
  const nn_pool_geom *g = j->g;
  const int H = g->in[1], W = g->in[2], C = g->c;
  const size_t in_size = pool_in_size(g), out_size = pool_out_size(g);
  const float *x = j->x;
  float *y = j->y;
  int32_t *argmax = j->argmax;
  for (size_t b = b0; b < b1; b++) {
    const float *xs = x + b * in_size;
    float *ys = y + b * out_size;
    int32_t *as = argmax + b * out_size;
    size_t o = 0;
    for (int od = 0; od < g->out[0]; od++)
      for (int oh = 0; oh < g->out[1]; oh++)
        for (int ow = 0; ow < g->out[2]; ow++, o += C) {
          for (int c = 0; c < C; c++) {
            ys[o + c] = -INFINITY;
            as[o + c] = -1;
          }
          for (int i = 0; i < g->p[0]; i++)
            for (int j = 0; j < g->p[1]; j++)
              for (int k = 0; k < g->p[2]; k++) {
                size_t off = ((((size_t)od * g->p[0] + i) * H + (size_t)oh * g->p[1] + j) * W +
                              (size_t)ow * g->p[2] + k) * C;
                const float *src = xs + off;
                for (int c = 0; c < C; c++)
                  if (src[c] > ys[o + c] || as[o + c] < 0) {
                    ys[o + c] = src[c];
                    as[o + c] = (int32_t)(off + c);
                  }
              }
        }
  }
}

void nn_maxpool_forward(float *y, int32_t *argmax, const float *x, const nn_pool_geom *g, int B) {
  pool_job j = {y, argmax, x, NULL, NULL, g};
  nn_parallel_for((size_t)B, pool_grain(g), maxpool_forward_part, &j);
}

static void maxpool_backward_part(void *ctx, size_t b0, size_t b1) {
  const pool_job *j = ctx;
  const size_t in_size = pool_in_size(j->g), out_size = pool_out_size(j->g);
  for (size_t b = b0; b < b1; b++) {
    float *dxs = j->dx + b * in_size;
    const float *dys = j->dy + b * out_size;
    const int32_t *as = j->argmax + b * out_size;
    memset(dxs, 0, sizeof(float) * in_size);
    for (size_t o = 0; o < out_size; o++) dxs[as[o]] += dys[o];
  }
}

void nn_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                         const nn_pool_geom *g, int B) {
  pool_job j = {NULL, (int32_t *)argmax, NULL, dy, dx, g};
  nn_parallel_for((size_t)B, pool_grain(g), maxpool_backward_part, &j);
}

/* ---------------------------------------------------------------- elementwise */

typedef struct {
  float *out;
  const float *a, *b;
  float rate;
  uint64_t key;
} elem_job;

#define ELEM_GRAIN 65536

static void relu_forward_part(void *ctx, size_t lo, size_t hi) {
  const elem_job *j = ctx;
  for (size_t i = lo; i < hi; i++) j->out[i] = j->a[i] > 0.0f ? j->a[i] : 0.0f;
}
void nn_relu_forward(float *y, const float *x, size_t n) {
  elem_job j = {y, x, NULL, 0, 0};
  nn_parallel_for(n, ELEM_GRAIN, relu_forward_part, &j);
}

static void relu_backward_part(void *ctx, size_t lo, size_t hi) {
  const elem_job *j = ctx; /* a = dy, b = y */
  for (size_t i = lo; i < hi; i++) j->out[i] = j->b[i] > 0.0f ? j->a[i] : 0.0f;
}
void nn_relu_backward(float *dx, const float *dy, const float *y, size_t n) {
  elem_job j = {dx, dy, y, 0, 0};
  nn_parallel_for(n, ELEM_GRAIN, relu_backward_part, &j);
}

static void dropout_part(void *ctx, size_t lo, size_t hi) {
  const elem_job *j = ctx;
  const float scale = 1.0f / (1.0f - j->rate);
  for (size_t i = lo; i < hi; i++) j->out[i] = nn_uniform(j->key, i) >= j->rate ? j->a[i] * scale : 0.0f;
}
void nn_dropout_forward(float *y, const float *x, size_t n, float rate, uint64_t key) {
  elem_job j = {y, x, NULL, rate, key};
  nn_parallel_for(n, ELEM_GRAIN, dropout_part, &j);
}
/* The backward pass is the same masked scaling, applied to the gradient. */
void nn_dropout_backward(float *dx, const float *dy, size_t n, float rate, uint64_t key) {
  elem_job j = {dx, dy, NULL, rate, key};
  nn_parallel_for(n, ELEM_GRAIN, dropout_part, &j);
}

/* ---------------------------------------------------------------- losses */

double nn_softmax_xent(const float *logits, const int32_t *labels, int B, int C,
                       float *dlogits, int *correct) {
  double loss = 0.0;
  int right = 0;
  for (int b = 0; b < B; b++) {
    const float *z = logits + (size_t)b * C;
    int best = 0;
    float zmax = z[0];
    for (int c = 1; c < C; c++)
      if (z[c] > zmax) zmax = z[c], best = c;
    double sum = 0.0;
    for (int c = 0; c < C; c++) sum += exp((double)z[c] - zmax);
    int y = labels[b];
    loss += log(sum) - ((double)z[y] - zmax);
    if (best == y) right++;
    if (dlogits) {
      float *d = dlogits + (size_t)b * C;
      for (int c = 0; c < C; c++) {
        double p = exp((double)z[c] - zmax) / sum;
        d[c] = (float)((p - (c == y ? 1.0 : 0.0)) / B);
      }
    }
  }
  if (correct) *correct = right;
  return loss / B;
}

double nn_mse(const float *y, const float *t, int B, int D, float *dy) {
  const size_t n = (size_t)B * D;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    double e = (double)y[i] - t[i];
    sum += e * e;
    if (dy) dy[i] = (float)(2.0 * e / (double)n);
  }
  return sum / (double)n;
}
