/*
 * `cmact train fusion` and `cmact experiment fusion-sync` end to end on a tiny simulated
 * corpus (26 clips of the cmactivity preset at 32x24 and 2 multi-activity schedules, seconds
 * to make): the fusion model trains and its file is what `cmact inspect` shows; the 2-offset
 * sweep writes its table, CSV, JSON and plots, the aligned fusion model beats always answering
 * the most common class at 0 s, a 2 s IMU offset pairs some windows with another activity's
 * IMU data while 0 s pairs none, the shift-trained model saw more windows than the aligned one;
 * bad arguments are one-line usage errors (exit 2) and leave no report behind.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static double offset_acc(const cJSON *root, double off, const char *field) {
  const cJSON *row;
  cJSON_ArrayForEach(row, cJSON_GetObjectItem(root, "by_offset")) {
    if (fabs(cJSON_GetObjectItem(row, "offset_s")->valuedouble - off) > 1e-9) continue;
    const cJSON *v = cJSON_GetObjectItem(row, field);
    return cJSON_IsArray(v) ? cJSON_GetArrayItem(v, 0)->valuedouble : v->valuedouble;
  }
  fail_msg("no offset %g in the report", off);
  return NAN;
}

static int one_line(const char *s) {
  const char *nl = strchr(s, '\n');
  return nl && nl[1] == 0;
}

static void test_fusion_commands(void **st) {
  (void)st;
  static char out[1 << 16];
  char *dir = tu_mkdtemp("expfusion");
  char ses[4200], multi[4200], base[4200], res[4200], model[4200];
  snprintf(ses, sizeof ses, "%s/s", dir);
  snprintf(multi, sizeof multi, "%s/m", dir);
  snprintf(base, sizeof base, "%s/base.h5", dir);
  snprintf(res, sizeof res, "%s/res", dir);
  snprintf(model, sizeof model, "%s/fusion.h5", dir);
  int rc = tu_run(out, sizeof out,
                  "$CMACT simulate --out %s --preset cmactivity --every 30 --schedules 60 --width 32 --height 24 "
                  "--seed 3 --threads 2 && mkdir -p %s && for x in $(awk -F, '$7==\"schedule\"{print $1}' "
                  "%s/sessions.csv); do mv %s/${x}_* %s/; done && ls %s | grep -c _wrist.h5",
                  ses, multi, ses, ses, multi, multi);
  if (rc != 0) fail_msg("simulate: %s", out);
  assert_int_equal(atoi(out + strlen(out) - 2), 2); /* two multi-activity sessions moved */
  rc = tu_run(out, sizeof out, "$CMACT sync %s --out %s --frames 3 --size 8", ses, base);
  if (rc != 0) fail_msg("sync: %s", out);

  rc = tu_run(out, sizeof out, "$CMACT train fusion --data %s --out %s --epochs 3 --batch 32", base, model);
  if (rc != 0) fail_msg("train fusion: %s", out);
  assert_non_null(strstr(out, "test accuracy"));
  rc = tu_run(out, sizeof out, "$CMACT inspect %s", model);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "model fusion_imu_audio"));
  assert_non_null(strstr(out, "inputs: imu 40x12, audio 193"));
  assert_non_null(strstr(out, "history: 3 epochs"));

  rc = tu_run(out, sizeof out,
              "$CMACT experiment fusion-sync --data %s --sessions %s --train-sessions %s --out %s --offsets 2,0 "
              "--runs 1 --threads 2 --teacher-epochs 5 --batch 32 --aug-offsets -1,1 --sync-args '--frames 3 --size 8'",
              base, multi, ses, res);
  if (rc != 0) fail_msg("fusion-sync: %s", out);
  assert_non_null(strstr(out, "2 test sessions with an activity change"));
  static const char *const files[5] = {"fusion_sync.md", "fusion_sync.csv", "fusion_sync.json", "fusion_sync.png",
                                       "fusion_sync.svg"};
  for (int i = 0; i < 5; i++)
    if (!tu_file_exists(tu_path(res, files[i]))) fail_msg("%s was not written", files[i]);
  size_t n;
  /* the settings describe this experiment's models, not the transfer procedures' video network */
  char *md = tu_read_file(tu_path(res, "fusion_sync.md"), &n);
  assert_non_null(strstr(md, "Inputs: audio 193, IMU 40x12; video not used. 1 run (seeds 1..1)"));
  assert_non_null(strstr(md, "train 5 epochs each"));
  assert_null(strstr(md, "video_c3d"));
  free(md);
  char *js = tu_read_file(tu_path(res, "fusion_sync.json"), &n);
  cJSON *root = cJSON_Parse(js);
  free(js);
  assert_non_null(root);
  const double majority = cJSON_GetObjectItem(root, "majority_class_fraction")->valuedouble;
  const double acc0 = offset_acc(root, 0, "fusion_aligned");
  printf("fusion at 0 s: %.3f (most common class: %.3f); at 2 s: %.3f\n", acc0, majority,
         offset_acc(root, 2, "fusion_aligned"));
  assert_true(majority > 0 && majority < 1);
  assert_true(acc0 > majority + 0.05);
  assert_true(offset_acc(root, 0, "imu_other_activity_fraction") == 0);
  assert_true(offset_acc(root, 2, "imu_other_activity_fraction") > 0.05);
  assert_true(offset_acc(root, 0, "test_windows") > 100);
  assert_true(cJSON_GetObjectItem(root, "shift_trained_windows")->valuedouble >
              1.5 * cJSON_GetObjectItem(root, "training_windows")->valuedouble);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "test_sessions")), 2);
  cJSON_Delete(root);

  /* bad arguments: one line, exit 2, nothing written */
  char res2[4300];
  snprintf(res2, sizeof res2, "%s/res2", dir);
  const char *bad[3] = {"--aug-fraction 2", "--runs zero", "--bogus 1"};
  for (int i = 0; i < 3; i++) {
    rc = tu_run(out, sizeof out, "$CMACT experiment fusion-sync --data %s --sessions %s --train-sessions %s --out %s %s",
                base, multi, ses, res2, bad[i]);
    assert_int_equal(rc, 2);
    if (!one_line(out)) fail_msg("not one line: %s", out);
  }
  rc = tu_run(out, sizeof out, "$CMACT experiment fusion-sync --data %s --sessions %s --out %s", base, multi, res2);
  assert_int_equal(rc, 2);
  assert_true(one_line(out) && strstr(out, "--train-sessions"));
  rc = tu_run(out, sizeof out, "$CMACT train fusion --data %s --out %s/x.h5 --epochs abc", base, dir);
  assert_int_equal(rc, 2);
  assert_true(one_line(out));
  assert_false(tu_file_exists(res2));
  /* an offset list without 0 is refused at run time, naming the option */
  rc = tu_run(out, sizeof out, "$CMACT experiment fusion-sync --data %s --sessions %s --train-sessions %s --out %s "
                               "--offsets 1,2", base, multi, ses, res2);
  assert_int_equal(rc, 1);
  assert_true(one_line(out) && strstr(out, "--offsets"));
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_fusion_commands)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
