/*
 * The sync-error sweep's view of session files (train/exp_sync_sessions.c): sessions are found
 * and grouped by id across hosts' files, multi-activity sessions are told from one-activity
 * clips, and the share of a shifted student window that lies in the label's activity is what
 * the labels say, computed by hand here for windows before, across and after a transition.
 * End to end on the simulator's quick preset (seven 4 s clips and one multi-activity session):
 * `cmact experiment sync-error` takes only the multi-activity session, pairs no window with
 * another activity at offset 0 and some at +-2 s, and refuses a folder without activity changes.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_session.h"
#include "cm_util.h"
#include "exp_sync_sessions.h"
#include "testutil.h"

#define S_NS 1000000000LL

/* One file of session `id` with the given labels (start s, end s, activity). */
static void write_session(const char *dir, const char *file, const char *id, const char *host, int n,
                          const double *a, const double *b, const char *const *act) {
  cm_session_info info = {.session_id = id, .user = "u1", .location = "lab", .host = host};
  cm_session *s = cm_session_create(tu_path(dir, file), &info, 1);
  assert_non_null(s);
  assert_int_equal(cm_session_start(s), 0);
  for (int i = 0; i < n; i++) {
    cm_label_row r = {.start_ns = (int64_t)(a[i] * S_NS), .end_ns = (int64_t)(b[i] * S_NS)};
    snprintf(r.activity, sizeof r.activity, "%s", act[i]);
    assert_int_equal(cm_session_append_label(s, &r), 0);
  }
  assert_int_equal(cm_session_close(s), 0);
}

static void test_scan_and_cover(void **st) {
  (void)st;
  char *dir = tu_mkdtemp("expsync");
  /* session M: walk 100-110 s, run 110-120 s, in both hosts' files (the labels must count once);
   * session C: one 10 s walking clip; and a file that is not a session at all */
  static const double ma[2] = {100, 110}, mb[2] = {110, 120}, ca[1] = {0}, cb[1] = {10};
  static const char *const mact[2] = {"walk", "run"}, *const cact[1] = {"walk"};
  write_session(dir, "M_camera.h5", "M", "phone", 2, ma, mb, mact);
  write_session(dir, "M_wrist.h5", "M", "wrist", 2, ma, mb, mact);
  write_session(dir, "C_camera.h5", "C", "phone", 1, ca, cb, cact);
  FILE *f = fopen(tu_path(dir, "notes.h5"), "w");
  assert_non_null(f);
  fputs("not hdf5", f);
  fclose(f);
  exp_session_list l;
  assert_int_equal(exp_sessions_scan(dir, &l), 0);
  assert_int_equal((int)l.n, 2);
  const exp_session_labels *m = exp_sessions_find(&l, "M"), *c = exp_sessions_find(&l, "C");
  assert_non_null(m);
  assert_non_null(c);
  assert_int_equal(m->n_files, 2);
  assert_int_equal((int)m->n_labels, 2);
  assert_int_equal(m->n_activities, 2);
  assert_int_equal(c->n_activities, 1);
  assert_null(exp_sessions_find(&l, "X"));

  /* windows of 2 s labelled walk at 106 s and 108 s, run at 110 s, in session M (index 0 of the
   * dataset's table), and one in an unknown session */
  cm_dataset_session_row tab[2] = {{.name = "M"}, {.name = "nobody"}};
  char classes[CM_MAX_CLASSES][CM_CLASS_NAME_LEN] = {"run", "walk"};
  int32_t y[4] = {1, 1, 0, 1}, ses[4] = {0, 0, 0, 1};
  int64_t t[4] = {106 * S_NS, 108 * S_NS, 110 * S_NS, 5 * S_NS};
  proc_set s = {.n = 4, .y = y, .session = ses, .t_start_ns = t};
  double cover[4];
  struct { double off, want[3]; } cases[] = {
      {0, {1, 1, 1}},       /* aligned: each window within its activity */
      {0.5, {1, 1, 0.75}},  /* student from 0.5 s earlier: the run window reaches back into walk */
      {-0.5, {1, 0.75, 1}}, /* from 0.5 s later: the last walk window reaches into run */
      {-2, {1, 0, 1}},      /* 2 s later: the walk window at 108 s is all run */
      {3, {1, 1, 0}},       /* 3 s earlier: the run window is all walk */
      {-3, {0.5, 0, 1}},    /* 3 s later: [109, 111) half walk; [111, 113) and [113, 115) run */
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    int64_t have = exp_student_label_cover(&s, cases[k].off, 2.0, tab, 2,
                                           (const char(*)[CM_CLASS_NAME_LEN])classes, &l, cover);
    assert_int_equal((int)have, 3);
    for (int i = 0; i < 3; i++) {
      if (fabs(cover[i] - cases[k].want[i]) > 1e-9)
        fail_msg("offset %g s, window %d: cover %g, expected %g", cases[k].off, i, cover[i], cases[k].want[i]);
    }
    assert_true(isnan(cover[3]));
  }
  exp_sessions_free(&l);
  /* a folder without session files is an error naming it */
  char *empty = tu_mkdtemp("expsync_empty");
  assert_int_equal(exp_sessions_scan(empty, &l), -1);
  assert_non_null(strstr(cm_error(), empty));
  tu_rmtree(empty);
  free(empty);
  tu_rmtree(dir);
  free(dir);
}

static double offset_field(const cJSON *root, double off, const char *field) {
  const cJSON *row;
  cJSON_ArrayForEach(row, cJSON_GetObjectItem(root, "by_offset")) {
    if (fabs(cJSON_GetObjectItem(row, "offset_s")->valuedouble - off) < 1e-9)
      return cJSON_GetObjectItem(row, field)->valuedouble;
  }
  fail_msg("no row for offset %g", off);
  return NAN;
}

static void test_sweep_command(void **st) {
  (void)st;
  static char out[1 << 16];
  char *dir = tu_mkdtemp("expsync_cmd");
  char ses[4200], split[4200], base[4200], res[4200], clips[4200];
  snprintf(ses, sizeof ses, "%s/s", dir);
  snprintf(split, sizeof split, "%s/split.json", dir);
  snprintf(base, sizeof base, "%s/base.h5", dir);
  snprintf(res, sizeof res, "%s/res", dir);
  snprintf(clips, sizeof clips, "%s/clips", dir);
  int rc = tu_run(out, sizeof out, "$CMACT simulate --out %s --preset quick --seed 1 --threads 2", ses);
  if (rc != 0) fail_msg("simulate: %s", out);
  /* the quick preset is too small for the study's test draw: name the test sessions */
  FILE *f = fopen(split, "w");
  assert_non_null(f);
  fputs("{\"test\": {\"sessions\": [\"S0001\", \"S0005\", \"S0007\"]}, \"personal\": {\"locations\": [\"none\"]}}\n", f);
  fclose(f);
  rc = tu_run(out, sizeof out, "$CMACT sync %s --out %s --split %s --frames 3 --size 8", ses, base, split);
  if (rc != 0) fail_msg("sync: %s", out);
  rc = tu_run(out, sizeof out,
              "$CMACT experiment sync-error --data %s --sessions %s --out %s --pair imu-audio --offsets 2,0,-2 "
              "--runs 1 --threads 2 --teacher-epochs 2 --transfer-epochs 2 --limited-epochs 2 --scratch-epochs 2 "
              "--labels 20 --batch 16 --sync-args '--frames 3 --size 8'",
              base, ses, res);
  if (rc != 0) fail_msg("sync-error: %s", out);
  assert_non_null(strstr(out, "1 sessions with an activity change"));
  size_t n;
  char *js = tu_read_file(tu_path(res, "sync_error.json"), &n);
  assert_non_null(js);
  cJSON *root = cJSON_Parse(js);
  free(js);
  assert_non_null(root);
  const cJSON *names = cJSON_GetObjectItem(root, "transfer_sessions");
  assert_int_equal(cJSON_GetArraySize(names), 1);
  assert_string_equal(cJSON_GetArrayItem(names, 0)->valuestring, "S0008");
  assert_true(offset_field(root, 0, "student_other_activity_fraction") == 0);
  assert_true(offset_field(root, 2, "student_other_activity_fraction") > 0.1);
  assert_true(offset_field(root, -2, "student_other_activity_fraction") > 0.1);
  assert_true(offset_field(root, 0, "transfer_windows") > 0);
  cJSON_Delete(root);
  assert_true(tu_file_exists(tu_path(res, "sync_error.png")));
  assert_true(tu_file_exists(tu_path(res, "sync_error.csv")));
  /* one-activity clips only: a clear error, no report */
  rc = tu_run(out, sizeof out, "mkdir -p %s && cp %s/S0003_*.h5 %s/", clips, ses, clips);
  assert_int_equal(rc, 0);
  rc = tu_run(out, sizeof out,
              "$CMACT experiment sync-error --data %s --sessions %s --out %s/res2 --pair imu-audio --offsets 0,1 --runs 1",
              base, clips, dir);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "no session with an activity change"));
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_scan_and_cover), cmocka_unit_test(test_sweep_command)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
