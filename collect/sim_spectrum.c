/*
 * sim_spectrum: the power spectra of a clip's audio that simulate-look draws and simulate-probe
 * summarises: Hann-windowed frames, one real FFT each (FFTW, one plan per call made under the
 * process-wide planner lock, so probe threads may call it at once).
 */
#include <fftw3.h>
#include <math.h>

#include "cm_fftw.h"
#include "cm_util.h"
#include "sim.h"

double *sim_power_frames(const int16_t *x, int n, int nfft, int hop, int *frames) {
  int nf = n >= nfft ? (n - nfft) / hop + 1 : 0, bins = nfft / 2;
  double *power = cm_xmalloc(sizeof(double) * (size_t)(nf > 0 ? nf : 1) * (size_t)bins);
  double *in = fftw_malloc(sizeof(double) * (size_t)nfft);
  fftw_complex *out = fftw_malloc(sizeof(fftw_complex) * (size_t)(bins + 1));
  cm_fftw_lock();
  fftw_plan plan = fftw_plan_dft_r2c_1d(nfft, in, out, FFTW_ESTIMATE);
  cm_fftw_unlock();
  for (int f = 0; f < nf; f++) {
    for (int i = 0; i < nfft; i++) in[i] = x[f * hop + i] / 32768.0 * (0.5 - 0.5 * cos(2 * M_PI * i / nfft));
    fftw_execute(plan);
    for (int k = 0; k < bins; k++) power[f * bins + k] = out[k][0] * out[k][0] + out[k][1] * out[k][1];
  }
  cm_fftw_lock();
  fftw_destroy_plan(plan);
  cm_fftw_unlock();
  fftw_free(in);
  fftw_free(out);
  *frames = nf;
  return power;
}
