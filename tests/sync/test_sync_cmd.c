/* `cmact sync` end to end on synthetic two-host sessions: windows with the right labels and
 * shapes, the clock model plus refinement recovering the offset chrony cannot see, identical
 * datasets with 1 and 2 threads, and --inject-offset moving a stream on purpose. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_dataset.h"
#include "cm_util.h"
#include "sessgen.h"
#include "testutil.h"

static char out[1 << 16];
static char *dir;

static int setup(void **s) {
  dir = tu_mkdtemp("sync_cmd");
  char sid[32];
  for (int i = 0; i < 3; i++) {
    sg_params p;
    snprintf(sid, sizeof sid, "s%02d", i);
    sg_defaults(&p, dir, sid);
    p.duration_s = 5;
    p.seed = 100 + i;
    p.location = i == 2 ? "loc2" : "loc1";
    p.two_activities = i == 1;
    p.imu_unknown_s = -0.015 - 0.01 * i;
    if (sg_write(&p)) fail_msg("sessgen: %s", cm_error());
  }
  return 0;
}
static int teardown(void **s) {
  tu_rmtree(dir);
  free(dir);
  return 0;
}

/* The number after `key` in the report text after position `from`. */
static double num_after(const char *txt, const char *key) {
  const char *p = strstr(txt, key);
  if (!p) return NAN;
  return atof(p + strlen(key));
}

static void test_build_and_align(void **s) {
  char split[4096];
  snprintf(split, sizeof split, "%s/split.json", dir);
  FILE *f = fopen(split, "w");
  fputs("{\"test\": {\"sessions\": [\"s00\"]}, \"personal\": {\"locations\": [\"loc2\"], \"train_fraction\": 0,"
        " \"exclude_classes\": []}, \"train\": {\"pretrain\": 0.4, \"transfer\": 0.4, \"limited\": 0.2}}", f);
  fclose(f);
  int rc = tu_run(out, sizeof out, "$CMACT sync %s --split %s --out %s/d1.h5 --threads 1", dir, split, dir);
  print_message("%s", out);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "sessions: 3 used, 0 skipped"));
  cm_dataset *d = cm_dataset_open(tu_path(dir, "d1.h5"));
  assert_non_null(d);
  const cm_dataset_desc *desc = cm_dataset_get_desc(d);
  assert_int_equal(desc->video_frames, 45);
  assert_int_equal(desc->imu_steps, 40);
  assert_int_equal(desc->audio_dim, 193);
  /* 5 s sessions: (5 - 2) / 0.4 + 1 = 8 windows at most, minus the span the clocks trim */
  int test = cm_dataset_find_split(d, "test");
  int64_t nt = cm_dataset_split_size(d, test);
  assert_true(nt >= 6 && nt <= 8);
  int64_t n_pre = cm_dataset_split_size(d, cm_dataset_find_split(d, "pretrain"));
  int64_t n_tr = cm_dataset_split_size(d, cm_dataset_find_split(d, "transfer"));
  int64_t n_lim = cm_dataset_split_size(d, cm_dataset_find_split(d, "limited"));
  assert_true(n_pre > 0 && n_tr > 0 && n_lim > 0);
  assert_true(labs((long)(n_pre - n_tr)) <= 1);
  assert_true(n_pre + n_tr + n_lim >= 3); /* s01 is half walk, half run: windows across the change are dropped */
  int64_t n_pt = cm_dataset_split_size(d, cm_dataset_find_split(d, "personal_test"));
  assert_true(n_pt >= 6);
  /* windows of the test session: label walk (index 4), uncertainty stated and small */
  int32_t lab[8];
  float unc[8];
  uint8_t *video = malloc((size_t)nt * 45 * 64 * 64 * 3);
  float *imu = malloc((size_t)nt * 40 * 12 * sizeof *imu);
  float *audio = malloc((size_t)nt * 193 * sizeof *audio);
  assert_int_equal(cm_dataset_read(d, test, 0, nt, video, audio, imu, lab, NULL, NULL, unc), 0);
  for (int64_t i = 0; i < nt; i++) {
    assert_int_equal(lab[i], 4);
    assert_true(unc[i] > 0 && unc[i] < 0.1);
    /* gravity on both wrists' z axes, on average over the window */
    double zr = 0, zl = 0;
    for (int k = 0; k < 40; k++) zr += imu[i * 480 + 12 * k + 2] / 40, zl += imu[i * 480 + 12 * k + 8] / 40;
    assert_true(fabs(zr - 9.81) < 2 && fabs(zl - 9.81) < 2);
    assert_true(isfinite(audio[i * 193]));
  }
  /* the frames are the test pattern: a bright square on a dark ground */
  int bright = 0, dark = 0;
  for (size_t k = 0; k < 64 * 64 * 3; k++) bright += video[k] > 180, dark += video[k] < 70;
  assert_true(bright > 500 && dark > 5000);
  free(video), free(imu), free(audio);
  cm_dataset_close_reader(d);

  /* The report: refinement found each wrist's residual offset (what chrony did not see plus
   * the BLE floor) and applied it. Session s00: true imu offset relative to the camera is
   * imu_unknown - cam_unknown = -0.035 s; refinement must bring it within 15 ms. */
  char *rep = tu_read_file(tu_path(dir, "d1.h5.report.json"), NULL);
  assert_non_null(rep);
  const char *s0 = strstr(rep, "\"session_id\":\t\"s00\"");
  assert_non_null(s0);
  const char *ir = strstr(s0, "\"imu_right\"");
  assert_non_null(ir);
  assert_non_null(strstr(ir, "\"applied\":\ttrue"));
  double lag = num_after(strstr(ir, "\"lag_s\""), "\"lag_s\":\t");
  print_message("s00 imu_right refinement lag %.4f s\n", lag);
  /* the wrists' clock reads late by (imu_unknown - cam_unknown) + BLE floor: lag undoes it */
  assert_true(fabs(lag - (0.035 - 0.0075)) < 0.015);
  free(rep);
}

static void test_threads_identical(void **s) {
  /* same relative command line in two folders (the command line is stored, less --threads) */
  assert_int_equal(tu_run(out, sizeof out, "mkdir -p %s/a %s/b && cd %s/a && $CMACT sync .. --out t.h5 --threads 1 --seed 5 --window 1 --hop 0.5 --frames 9"
                          " && cd ../b && $CMACT sync .. --out t.h5 --threads 2 --seed 5 --window 1 --hop 0.5 --frames 9 && cp t.h5 ../t2.h5", dir, dir, dir), 0);
  assert_true(tu_files_equal(tu_path(dir, "a/t.h5"), tu_path(dir, "b/t.h5")));
  assert_int_equal(tu_run(out, sizeof out, "cp %s/a/t.h5 %s/t1.h5 && rm -r %s/a %s/b", dir, dir, dir, dir), 0);
  /* an existing dataset is not overwritten without --force */
  assert_int_equal(tu_run(out, sizeof out, "$CMACT sync %s --out %s/t2.h5 --window 1 --hop 0.5", dir, dir), 1);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT sync %s --out %s/t2.h5 --force --seed 6 --window 1 --hop 0.5 --frames 9", dir, dir), 0);
  assert_false(tu_files_equal(tu_path(dir, "t1.h5"), tu_path(dir, "t2.h5")));
}

static void test_inject_offset(void **s) {
  assert_int_equal(tu_run(out, sizeof out, "$CMACT sync %s --out %s/i.h5 --inject-offset imu=0.25 --inject-drift audio=100 --window 1 --hop 0.5 --frames 9", dir, dir), 0);
  char *rep = tu_read_file(tu_path(dir, "i.h5.report.json"), NULL);
  assert_non_null(strstr(rep, "\"injected_offset_s\":\t0.25"));
  assert_non_null(strstr(rep, "\"injected_drift_ppm\":\t100"));
  free(rep);
  cm_dataset *d = cm_dataset_open(tu_path(dir, "i.h5"));
  cm_dataset_session_row *rows;
  size_t n;
  assert_int_equal(cm_dataset_get_sessions(d, &rows, &n), 0);
  assert_int_equal(n, 3);
  assert_true(fabs(rows[0].injected_offset_s - 0.25) < 1e-9);
  free(rows);
  cm_dataset_close_reader(d);
}

static void test_usage(void **s) {
  assert_int_equal(tu_run(out, sizeof out, "$CMACT sync %s", dir), 2);
  assert_non_null(strstr(out, "--out"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT sync --out x.h5"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT sync %s --out x.h5 --inject-offset foo=1", dir), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT sync %s --out x.h5 --threads 0", dir), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT sync %s/none.h5 --out %s/x.h5", dir, dir), 1);
  assert_non_null(strstr(out, "none.h5"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT sync --help"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_build_and_align),
      cmocka_unit_test(test_threads_identical),
      cmocka_unit_test(test_inject_offset),
      cmocka_unit_test(test_usage),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
