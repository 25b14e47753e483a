/*
 * Parity of the audio 193-vector with librosa 0.9.2, on every reference clip and window copied
 * into tests/data/librosa (see audio_ref.h for the error measure). Targets, per block and window:
 * mel and MFCC 1e-4, chroma and contrast 1e-3, tonnetz 1e-2. The test prints, per clip, the
 * largest error of each block and whether both tuning votes came out as librosa's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "audio_ref.h"
#include "testutil.h"

static const double target[AR_NBLOCKS] = {1e-4, 1e-3, 1e-4, 1e-3, 1e-2};

static void check_clip(const char *name) {
  ar_clip c;
  assert_int_equal(ar_load(name, &c), 0);
  cm_audiofeat *ex = cm_audiofeat_create(22050, 44100);
  assert_non_null(ex);
  double worst[AR_NBLOCKS] = {0};
  int tuning_miss_stft = 0, tuning_miss_cqt = 0;
  int fail = 0;
  for (int w = 0; w < c.n_windows; w++) {
    assert_int_equal(c.end[w] - c.start[w], 44100);
    float out[CM_AUDIOFEAT_DIM];
    assert_int_equal(cm_audiofeat_compute(ex, c.samples + c.start[w], out), CM_AUDIOFEAT_OK);
    cm_audiofeat_diag d;
    cm_audiofeat_last_diag(ex, &d);
    int ms = fabs(d.tuning_stft - c.tuning_stft[w]) > 1e-9;
    int mc = fabs(d.tuning_cqt - c.tuning_cqt[w]) > 1e-9;
    tuning_miss_stft += ms;
    tuning_miss_cqt += mc;
    if (ms || mc)
      printf("  %s window %d: tuning stft %.2f (librosa %.2f, margin %d), cqt %.2f (librosa %.2f, "
             "margin %d)\n", name, w, d.tuning_stft, c.tuning_stft[w], c.margin_stft[w],
             d.tuning_cqt, c.tuning_cqt[w], c.margin_cqt[w]);
    for (int b = 0; b < AR_NBLOCKS; b++) {
      double e = ar_block_error(out, c.vec[w], b);
      if (!(e <= worst[b])) worst[b] = e;
      if (!(e <= target[b])) {
        printf("  %s window %d: %s error %.3g over target %.0e\n", name, w, ar_block_name[b], e,
               target[b]);
        fail = 1;
      }
    }
  }
  printf("%-28s %2d windows  mfcc %.2e  chroma %.2e  mel %.2e  contrast %.2e  tonnetz %.2e"
         "  tuning misses %d/%d\n", name, c.n_windows, worst[AR_MFCC], worst[AR_CHROMA],
         worst[AR_MEL], worst[AR_CONTRAST], worst[AR_TONNETZ], tuning_miss_stft,
         tuning_miss_cqt);
  cm_audiofeat_destroy(ex);
  ar_free(&c);
  assert_false(fail);
}

static void test_speech(void **state) { check_clip("speech_apollo11"); }
static void test_alarm(void **state) { check_clip("tones_alarm_clock"); }
static void test_beat(void **state) { check_clip("beat_909"); }
static void test_flute(void **state) { check_clip("flute"); }
static void test_footsteps(void **state) { check_clip("synth_footsteps"); }
static void test_edge(void **state) { check_clip("synth_edge_silence_dc_clip"); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_speech), cmocka_unit_test(test_alarm),
      cmocka_unit_test(test_beat),   cmocka_unit_test(test_flute),
      cmocka_unit_test(test_footsteps), cmocka_unit_test(test_edge),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
