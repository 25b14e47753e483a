/*
 * af_resample: the 2 -> 1 downsampling between CQT octaves, as librosa 0.9.2 does it:
 * resample(y, orig_sr=2, target_sr=1, res_type='kaiser_fast', scale=True), i.e. resampy 0.4's
 * kaiser_fast filter (24 zero crossings, 512 table points per crossing, roll-off 0.868212, Kaiser
 * beta 9.90322), output length int(n / 2) padded with one zero to ceil(n / 2) (librosa's
 * fix_length), divided by sqrt(0.5) in float32.
 *
 * For a ratio of exactly 1/2 resampy's interpolation always lands on table points (the fractional
 * offset is 0 on the left wing and exactly 256 on the right), so it is a plain symmetric FIR:
 *     y[t] = sum_{j=-47..47} h[|j|] x[2t + j],  h[m] = 0.5 * half_window[256 m]
 * (x = 0 outside the signal). resampy adds the left wing (j = 0, -1, ..., -47) then the right wing
 * (j = 1 .. 47) into a float32 output slot, each addition rounded to float32; the same order and
 * rounding are kept here, eight outputs at a time so that the compiler can vectorise across them.
 * The 48 taps are resampy's own table values (data/kaiser_fast.npz, half_window[256 m]).
 */
#include <math.h>

#include "af_internal.h"

static const double half_window_256[48] = {
    0.86821203883777842,
    0.62175927668881192,
    0.12701514580907763,
    -0.16944367584481376,
    -0.11346911784041055,
    0.061759595727013124,
    0.093294093643631351,
    -0.009987639270093801,
    -0.069534207813702481,
    -0.017258390867329786,
    0.045489691968870344,
    0.029263910586418009,
    -0.024068423409117017,
    -0.031050784971504385,
    0.0072903361299386975,
    0.02652062138420852,
    0.003952025723775442,
    -0.018963018956684872,
    -0.0098523023133255568,
    0.010955932009031066,
    0.011421069135621065,
    -0.0042143491137581063,
    -0.010093405797582814,
    -0.00043099149624201664,
    0.0073328612840178132,
    0.0028962567309195244,
    -0.0043295602201738493,
    -0.0035974685192183731,
    0.0018443990117809755,
    0.0031729192009752652,
    -0.00019983671323778749,
    -0.0022484592186111205,
    -0.00062236734336271497,
    0.0012904683022665483,
    0.00083494601490631884,
    -0.00055542150154442498,
    -0.0007054634185978707,
    0.00011545982342244846,
    0.0004590974023646989,
    7.5666847163875567e-05,
    -0.00023527986864544563,
    -0.00011144427337959396,
    8.9272538343757697e-05,
    7.9990914119226926e-05,
    -1.9090646844881906e-05,
    -3.8606737915486815e-05,
    -2.2372636024482524e-06,
    1.1553978785066268e-05,
};

int af_resample_half(const float *x, int n, float *y) {
  const int n_out = n / 2, n_fix = (n + 1) / 2;
  double h[48];
  for (int m = 0; m < 48; m++) h[m] = 0.5 * half_window_256[m];
  const float inv_scale = (float)sqrt(0.5);
  for (int t0 = 0; t0 < n_out; t0 += 8) {
    float acc[8] = {0};
    int lanes = n_out - t0 < 8 ? n_out - t0 : 8;
    for (int i = 0; i < 48; i++) /* left wing: x[n - i], available while n - i >= 0 */
      for (int l = 0; l < lanes; l++) {
        long s = 2L * (t0 + l) - i;
        if (s >= 0) acc[l] = (float)((double)acc[l] + h[i] * (double)x[s]);
      }
    for (int k = 0; k < 47; k++) /* right wing: x[n + k + 1] while inside the signal */
      for (int l = 0; l < lanes; l++) {
        long s = 2L * (t0 + l) + k + 1;
        if (s < n) acc[l] = (float)((double)acc[l] + h[k + 1] * (double)x[s]);
      }
    for (int l = 0; l < lanes; l++) y[t0 + l] = acc[l] / inv_scale;
  }
  for (int t = n_out; t < n_fix; t++) y[t] = 0.0f;
  return n_fix;
}
