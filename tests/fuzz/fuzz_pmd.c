/*
 * libFuzzer target: the Polar PMD decoder, fed whatever bytes the fuzzer invents.
 *
 * The first input byte picks a factor and a sample rate, the rest is one PMD notification.
 * Besides the sanitizers' memory checks, the target asserts the decoder's own promises: a
 * decoded frame has between 1 and cm_pmd_max_samples() samples, and its sample times never go
 * backwards and end exactly at the frame's time stamp. The same bytes are also read as a
 * control-point response and as a settings list, the other two parsers that see radio data.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmd_decode.h"

static const float factors[] = {1.0f, 0.5f, 2.44140625e-4f, 0.061035156f, -3.0f, 0.0f};
static const double rates[] = {0, 26, 52, 200, 416, 1e9};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t sel = data[0];
  data++, size--;

  cm_pmd_frame f;
  if (cm_pmd_frame_parse(data, size, &f) == 0) {
    size_t cap = cm_pmd_max_samples(&f);
    cm_pmd_value *v = malloc(cap * sizeof *v);
    long n = cm_pmd_decode_values(&f, factors[sel % 6], v, cap);
    if (n == 0 || (n > 0 && (size_t)n > cap)) abort();
    if (n > 0) {
      uint64_t *t = malloc(n * sizeof *t);
      uint64_t prev = (sel & 0x80) ? f.t_sensor_ns / 2 : 0;
      if (cm_pmd_sample_times(prev, f.t_sensor_ns, n, rates[(sel >> 3) % 6], t) == 0) {
        for (long i = 1; i < n; i++)
          if (t[i] < t[i - 1]) abort();
        if (t[n - 1] != f.t_sensor_ns) abort();
      }
      free(t);
    }
    free(v);
  }

  cm_pmd_cp_response r;
  if (cm_pmd_cp_parse_response(data, size, &r) == 0 && r.n_params) {
    cm_pmd_settings s;
    if (cm_pmd_settings_parse(r.params, r.n_params, &s) == 0) (void)cm_pmd_settings_factor(&s);
  }
  cm_pmd_settings s2;
  (void)cm_pmd_settings_parse(data, size, &s2);
  (void)cm_pmd_parse_features(data, size);
  return 0;
}
