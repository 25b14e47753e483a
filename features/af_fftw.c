/*
 * af_fftw: the one lock around FFTW's planner (cm_fftw.h, for every stage). FFTW executes plans
 * concurrently without harm, but fftw_plan_* and fftw_destroy_plan touch global planner state,
 * so every plan in the process is made and freed under this mutex. Plans are made with FFTW_ESTIMATE: a measured
 * plan could pick a different algorithm from run to run and change the last bits of results.
 */
#include <pthread.h>

#include "af_internal.h"

static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

void cm_fftw_lock(void) { pthread_mutex_lock(&planner_lock); }
void cm_fftw_unlock(void) { pthread_mutex_unlock(&planner_lock); }
