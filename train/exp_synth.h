/* A small synthetic dataset with the study's six splits (see exp_synth.c): for the tests, and
 * for `cmact demo` when the simulator or sync is not built in. */
#ifndef EXP_SYNTH_H
#define EXP_SYNTH_H

#include <stdint.h>

#include "cm_dataset.h"

typedef struct {
  uint64_t seed;
  int frames, side;            /* video */
  float noise;                 /* spread of the hidden state around its class mean */
  int n_pretrain, n_transfer, n_limited, n_test, n_personal_train, n_personal_test;
} exp_synth_spec;

int exp_synth_write(const char *path, const exp_synth_spec *spec);

#endif
