/*
 * The process-wide lock around FFTW's planner (features/af_fftw.c). FFTW executes plans
 * concurrently without harm, but making and destroying plans touches global planner state, so
 * every user of FFTW in cmact (the audio extractor, the simulator's spectra) plans under it.
 */
#ifndef CM_FFTW_H
#define CM_FFTW_H

void cm_fftw_lock(void);
void cm_fftw_unlock(void);

#endif
