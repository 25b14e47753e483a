/*
 * af_tonnetz: chroma_cqt and tonnetz on the CQT magnitude, mean over frames.
 *
 * cq_to_chroma(252, bins_per_octave=36): each pitch class sums the three CQT bins around its note
 * in every octave (bins 3c-1, 3c, 3c+1 of each 36-bin octave, wrapping inside the octave, so C
 * takes bins 35, 0 and 1); row 0 is C because round(midi(C1) mod 12) = 0. The map uses the
 * UNTUNED C1 while the CQT is tuned, as librosa does. The chroma (float32) is divided per frame by
 * its maximum (inf-norm; frames below FLT_MIN stay as they are), then by its sum (L1), and
 * projected on the six tonal-centroid axes phi (float64):
 *   phi[p][k] = R_p cos(pi * V_p(k)), V = scale_p * k (minus 0.5 on rows 0, 2, 4: sines),
 *   scale = 7/6, 7/6, 3/2, 3/2, 2/3, 2/3 and R = 1, 1, 1, 1, 0.5, 0.5
 * (fifths, minor thirds, major thirds).
 */
#include <float.h>
#include <math.h>
#include <pthread.h>

#include "af_internal.h"

static double phi[6][AF_NCHROMA];
static pthread_once_t phi_once = PTHREAD_ONCE_INIT;

static void build_phi(void) {
  const double scale[6] = {7.0 / 6, 7.0 / 6, 3.0 / 2, 3.0 / 2, 2.0 / 3, 2.0 / 3};
  const double R[6] = {1, 1, 1, 1, 0.5, 0.5};
  for (int p = 0; p < 6; p++)
    for (int k = 0; k < AF_NCHROMA; k++) {
      double dim = k * (12.0 / AF_NCHROMA); /* linspace(0, 12, 12, endpoint=False) */
      double V = scale[p] * dim;
      if (p % 2 == 0) V -= 0.5;
      phi[p][k] = R[p] * cos(M_PI * V);
    }
}

void af_tonnetz_mean(const float *C, int n_frames, double out[6]) {
  pthread_once(&phi_once, build_phi);
  double sum[6] = {0};
  for (int t = 0; t < n_frames; t++) {
    float chroma[AF_NCHROMA];
    double mx = 0.0;
    for (int c = 0; c < AF_NCHROMA; c++) {
      const int b[3] = {(3 * c + 35) % 36, 3 * c, 3 * c + 1};
      float acc = 0.0f;
      for (int o = 0; o < AF_CQT_OCTAVES; o++)
        for (int i = 0; i < 3; i++) acc += C[(long)(36 * o + b[i]) * n_frames + t];
      chroma[c] = acc;
      if (fabs((double)acc) > mx) mx = fabs((double)acc);
    }
    if (mx < FLT_MIN) mx = 1.0;
    double l1 = 0.0;
    for (int c = 0; c < AF_NCHROMA; c++) {
      chroma[c] = (float)(chroma[c] / mx);
      l1 += fabs((double)chroma[c]);
    }
    if (l1 < FLT_MIN) l1 = 1.0;
    double cn[AF_NCHROMA];
    for (int c = 0; c < AF_NCHROMA; c++) cn[c] = (float)(chroma[c] / l1);
    for (int p = 0; p < 6; p++) {
      double acc = 0.0;
      for (int c = 0; c < AF_NCHROMA; c++) acc += phi[p][c] * cn[c];
      sum[p] += acc;
    }
  }
  for (int p = 0; p < 6; p++) out[p] = sum[p] / n_frames;
}
