/* Split file parsing and the seeded deal: the study's counts, proportional scaling, session
 * roles by location/user, determinism for a seed, and one-line errors on bad files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "splits.h"
#include "testutil.h"

static void test_study_counts(void **s) {
  cm_split_spec sp;
  cm_split_spec_default(&sp);
  size_t n = 11976;
  int *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  cm_split_assign_train_windows(&sp, n, a);
  size_t c[3] = {0};
  for (size_t i = 0; i < n; i++) c[a[i]]++;
  assert_int_equal(c[0], 5000);
  assert_int_equal(c[1], 6000);
  assert_int_equal(c[2], 976);
  cm_split_assign_train_windows(&sp, n, b);
  assert_memory_equal(a, b, n * sizeof *a);
  sp.seed = 2;
  cm_split_assign_train_windows(&sp, n, b);
  assert_memory_not_equal(a, b, n * sizeof *a);
  /* a smaller corpus: in proportion, adding up exactly */
  n = 1000;
  cm_split_assign_train_windows(&sp, n, a);
  memset(c, 0, sizeof c);
  for (size_t i = 0; i < n; i++) c[a[i]]++;
  assert_int_equal(c[0] + c[1] + c[2], 1000);
  assert_int_equal(c[0], 418); /* 5000/11976 * 1000 = 417.5 */
  assert_int_equal(c[1], 501);
  free(a), free(b);
}

static void test_session_roles(void **s) {
  cm_split_spec sp;
  cm_split_spec_default(&sp);
  enum { N = 60 };
  cm_split_session ss[N];
  char names[N][16], locs[6][8] = {"loc1", "loc2", "loc3", "loc4", "loc5", "loc6"};
  for (int i = 0; i < N; i++) {
    snprintf(names[i], 16, "s%03d", i);
    ss[i].name = names[i], ss[i].user = i % 2 ? "u1" : "u2", ss[i].location = locs[i % 6];
    ss[i].has_excluded_class = 0;
  }
  int role[N];
  char ploc[CM_SPLIT_NAME_LEN];
  cm_split_assign_sessions(&sp, ss, N, role, ploc);
  assert_string_equal(ploc, "loc6");
  int n_role[4] = {0};
  for (int i = 0; i < N; i++) {
    n_role[role[i]]++;
    int personal = role[i] == CM_ROLE_PERSONAL_TRAIN || role[i] == CM_ROLE_PERSONAL_TEST;
    assert_int_equal(personal, strcmp(ss[i].location, "loc6") == 0);
  }
  assert_int_equal(n_role[CM_ROLE_TEST], 5); /* 50 * 71/695 = 5.1 */
  assert_int_equal(n_role[CM_ROLE_PERSONAL_TRAIN], 3); /* 10 * 0.298 */
  /* stairs everywhere but loc3: loc3 is the personalization location, whatever its name's rank */
  for (int i = 0; i < N; i++) ss[i].has_excluded_class = (i / 6) % 2 == 0 && strcmp(ss[i].location, "loc3") != 0;
  cm_split_assign_sessions(&sp, ss, N, role, ploc);
  assert_string_equal(ploc, "loc3");
  for (int i = 0; i < N; i++)
    assert_int_equal(role[i] == CM_ROLE_PERSONAL_TRAIN || role[i] == CM_ROLE_PERSONAL_TEST,
                     strcmp(ss[i].location, "loc3") == 0);
  /* two locations without stairs: no single answer, so the last in sorted order */
  for (int i = 0; i < N; i++) ss[i].has_excluded_class = (i / 6) % 2 == 0 && i % 6 < 4;
  cm_split_assign_sessions(&sp, ss, N, role, ploc);
  assert_string_equal(ploc, "loc6");
  /* a split file naming test users and no personal location */
  char *dir = tu_mkdtemp("splits");
  const char *path = tu_path(dir, "split.json");
  FILE *f = fopen(path, "w");
  fputs("{\"seed\": 9, \"personal\": {\"locations\": []}, \"test\": {\"users\": [\"u1\"]},"
        " \"train\": {\"pretrain\": 0.5, \"transfer\": 0.5, \"limited\": 0}}", f);
  fclose(f);
  assert_int_equal(cm_split_spec_load(path, &sp), 0);
  assert_int_equal(sp.seed, 9);
  cm_split_assign_sessions(&sp, ss, N, role, ploc);
  assert_string_equal(ploc, "");
  for (int i = 0; i < N; i++) assert_int_equal(role[i], strcmp(ss[i].user, "u1") == 0 ? CM_ROLE_TEST : CM_ROLE_TRAIN);
  char *json = cm_split_spec_json(&sp);
  assert_non_null(strstr(json, "\"users\":[\"u1\"]"));
  free(json);
  tu_rmtree(dir);
  free(dir);
}

static void test_bad_files(void **s) {
  char *dir = tu_mkdtemp("splits");
  const char *path = tu_path(dir, "bad.json");
  const char *bad[] = {"[1,2]", "{\"seed\": -1}", "{\"test\": {\"fraction\": 2}}",
                       "{\"classes\": [\"a\"]}", "{\"test\": {\"users\": [1]}}", "{not json"};
  for (int i = 0; i < 6; i++) {
    FILE *f = fopen(path, "w");
    fputs(bad[i], f);
    fclose(f);
    cm_split_spec sp;
    cm_split_spec_default(&sp);
    assert_int_equal(cm_split_spec_load(path, &sp), -1);
    assert_non_null(strstr(cm_error(), "bad.json"));
  }
  cm_split_spec sp;
  assert_int_equal(cm_split_spec_load(tu_path(dir, "missing.json"), &sp), -1);
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_study_counts),
      cmocka_unit_test(test_session_roles),
      cmocka_unit_test(test_bad_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
