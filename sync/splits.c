/*
 * The split file and the seeded deal of sessions and windows; see splits.h. Every draw is a
 * Fisher-Yates shuffle driven by splitmix64 from the spec's seed (mixed with a constant per
 * draw), over inputs the caller has put in a canonical order, so a dataset rebuilt from the
 * same sessions and seed is split identically on any machine and at any thread count.
 */
#include "splits.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"

const char *const cm_split_names[CM_SPLIT_COUNT] = {"pretrain", "transfer",       "limited",
                                                    "test",     "personal_train", "personal_test"};

static const char *const study_classes[] = {"downstairs", "upstairs",    "run",     "jump",
                                            "walk",       "handwashing", "exercise"};

uint64_t cm_split_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void shuffle(size_t *v, size_t n, uint64_t seed) {
  uint64_t st = seed;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)(cm_split_rand(&st) % i);
    size_t t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}

static void list_add(cm_name_list *l, const char *s) {
  if (l->n < CM_SPLIT_MAX_NAMES) snprintf(l->v[l->n++], CM_SPLIT_NAME_LEN, "%s", s);
}

int cm_name_list_has(const cm_name_list *l, const char *name) {
  for (int i = 0; i < l->n; i++)
    if (strcmp(l->v[i], name) == 0) return 1;
  return 0;
}

void cm_split_spec_default(cm_split_spec *s) {
  memset(s, 0, sizeof *s);
  s->seed = 1;
  s->n_classes = 7;
  for (int i = 0; i < 7; i++) snprintf(s->classes[i], CM_CLASS_NAME_LEN, "%s", study_classes[i]);
  s->personal_train_fraction = 475.0 / 1592.0;
  list_add(&s->personal_exclude_classes, "downstairs");
  list_add(&s->personal_exclude_classes, "upstairs");
  s->test_fraction = 71.0 / 695.0;
  s->train_share[0] = 5000, s->train_share[1] = 6000, s->train_share[2] = 976;
}

int cm_split_class_index(const cm_split_spec *s, const char *name) {
  for (int i = 0; i < s->n_classes; i++)
    if (strcmp(s->classes[i], name) == 0) return i;
  return -1;
}

static int read_names(const char *path, const cJSON *obj, const char *key, cm_name_list *l, int *given) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!a) return 0;
  if (!cJSON_IsArray(a)) return cm_set_error("%s: '%s' must be an array of strings", path, key);
  l->n = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, a) {
    if (!cJSON_IsString(e)) return cm_set_error("%s: '%s' must be an array of strings", path, key);
    if (l->n == CM_SPLIT_MAX_NAMES) return cm_set_error("%s: '%s' has more than %d names", path, key, CM_SPLIT_MAX_NAMES);
    list_add(l, e->valuestring);
  }
  if (given) *given = 1;
  return 0;
}

static int read_num(const char *path, const cJSON *obj, const char *key, double lo, double hi, double *v) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!x) return 0;
  if (!cJSON_IsNumber(x) || !(x->valuedouble >= lo && x->valuedouble <= hi))
    return cm_set_error("%s: '%s' must be a number in [%g, %g]", path, key, lo, hi);
  *v = x->valuedouble;
  return 0;
}

int cm_split_spec_load(const char *path, cm_split_spec *s) {
  FILE *f = fopen(path, "rb");
  if (!f) return cm_set_error("%s: cannot open split file", path);
  char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  int too_big = !feof(f);
  fclose(f);
  if (too_big) return cm_set_error("%s: split file larger than 64 KiB", path);
  buf[n] = 0;
  cJSON *root = cJSON_Parse(buf);
  if (!root || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return cm_set_error("%s: not a JSON object", path);
  }
  int rc = -1;
  double seed = (double)s->seed;
  if (read_num(path, root, "seed", 0, 9007199254740991.0, &seed)) goto out;
  s->seed = (uint64_t)seed;
  const cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "classes");
  if (cls) {
    cm_name_list l = {0};
    if (read_names(path, root, "classes", &l, NULL)) goto out;
    if (l.n < 2 || l.n > CM_MAX_CLASSES) {
      cm_set_error("%s: 'classes' needs 2 to %d names", path, CM_MAX_CLASSES);
      goto out;
    }
    s->n_classes = l.n;
    for (int i = 0; i < l.n; i++) snprintf(s->classes[i], CM_CLASS_NAME_LEN, "%.23s", l.v[i]);
  }
  const cJSON *per = cJSON_GetObjectItemCaseSensitive(root, "personal");
  if (per) {
    if (read_names(path, per, "locations", &s->personal_locations, &s->personal_locations_given) ||
        read_num(path, per, "train_fraction", 0, 1, &s->personal_train_fraction) ||
        read_names(path, per, "exclude_classes", &s->personal_exclude_classes, NULL))
      goto out;
  }
  const cJSON *test = cJSON_GetObjectItemCaseSensitive(root, "test");
  if (test) {
    if (read_num(path, test, "fraction", 0, 1, &s->test_fraction) ||
        read_names(path, test, "sessions", &s->test_sessions, NULL) ||
        read_names(path, test, "users", &s->test_users, NULL) ||
        read_names(path, test, "locations", &s->test_locations, NULL))
      goto out;
  }
  const cJSON *train = cJSON_GetObjectItemCaseSensitive(root, "train");
  if (train) {
    static const char *keys[3] = {"pretrain", "transfer", "limited"};
    for (int i = 0; i < 3; i++)
      if (read_num(path, train, keys[i], 0, 1e12, &s->train_share[i])) goto out;
    if (s->train_share[0] + s->train_share[1] + s->train_share[2] <= 0) {
      cm_set_error("%s: 'train' shares are all zero", path);
      goto out;
    }
  }
  rc = 0;
out:
  cJSON_Delete(root);
  return rc;
}

static cJSON *names_json(const cm_name_list *l) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < l->n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
  return a;
}

char *cm_split_spec_json(const cm_split_spec *s) {
  cJSON *r = cJSON_CreateObject();
  cJSON_AddNumberToObject(r, "seed", (double)s->seed);
  cJSON *cls = cJSON_AddArrayToObject(r, "classes");
  for (int i = 0; i < s->n_classes; i++) cJSON_AddItemToArray(cls, cJSON_CreateString(s->classes[i]));
  cJSON *per = cJSON_AddObjectToObject(r, "personal");
  if (s->personal_locations_given) cJSON_AddItemToObject(per, "locations", names_json(&s->personal_locations));
  cJSON_AddNumberToObject(per, "train_fraction", s->personal_train_fraction);
  cJSON_AddItemToObject(per, "exclude_classes", names_json(&s->personal_exclude_classes));
  cJSON *test = cJSON_AddObjectToObject(r, "test");
  cJSON_AddNumberToObject(test, "fraction", s->test_fraction);
  cJSON_AddItemToObject(test, "sessions", names_json(&s->test_sessions));
  cJSON_AddItemToObject(test, "users", names_json(&s->test_users));
  cJSON_AddItemToObject(test, "locations", names_json(&s->test_locations));
  cJSON *train = cJSON_AddObjectToObject(r, "train");
  cJSON_AddNumberToObject(train, "pretrain", s->train_share[0]);
  cJSON_AddNumberToObject(train, "transfer", s->train_share[1]);
  cJSON_AddNumberToObject(train, "limited", s->train_share[2]);
  char *out = cJSON_PrintUnformatted(r);
  cJSON_Delete(r);
  char *copy = cm_xstrdup(out);
  cJSON_free(out);
  return copy;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void cm_split_assign_sessions(const cm_split_spec *s, const cm_split_session *ss, size_t n, int *role,
                              char personal_location[CM_SPLIT_NAME_LEN]) {
  personal_location[0] = 0;
  if (!s->personal_locations_given && n > 0) {
    const char **locs = cm_xmalloc(n * sizeof *locs);
    for (size_t i = 0; i < n; i++) locs[i] = ss[i].location;
    qsort(locs, n, sizeof *locs, cmp_str);
    /* Only a corpus with more than one location has a location to set apart. */
    if (strcmp(locs[0], locs[n - 1]) != 0) {
      /* The location none of whose sessions holds an excluded class, when exactly one is
       * (a location with stairs would lose its stair sessions from the personalization set). */
      const char *clean = NULL;
      int n_clean = 0;
      for (size_t k = 0; k < n; k++) {
        if (k > 0 && strcmp(locs[k], locs[k - 1]) == 0) continue;
        int dirty = 0;
        for (size_t i = 0; i < n && !dirty; i++)
          dirty = ss[i].has_excluded_class && strcmp(ss[i].location, locs[k]) == 0;
        if (!dirty) clean = locs[k], n_clean++;
      }
      snprintf(personal_location, CM_SPLIT_NAME_LEN, "%s", n_clean == 1 ? clean : locs[n - 1]);
    }
    free(locs);
  } else if (s->personal_locations.n > 0) {
    snprintf(personal_location, CM_SPLIT_NAME_LEN, "%s", s->personal_locations.v[0]);
  }
  size_t *personal = cm_xmalloc((n + 1) * sizeof *personal), *rest = cm_xmalloc((n + 1) * sizeof *rest);
  size_t np = 0, nr = 0;
  for (size_t i = 0; i < n; i++) {
    int is_personal = s->personal_locations_given ? cm_name_list_has(&s->personal_locations, ss[i].location)
                                                  : (personal_location[0] && strcmp(ss[i].location, personal_location) == 0);
    if (is_personal)
      personal[np++] = i;
    else
      rest[nr++] = i;
  }
  /* Personalization: by session. */
  shuffle(personal, np, s->seed ^ 0x5045525355ULL);
  size_t n_ptrain = (size_t)llround(s->personal_train_fraction * (double)np);
  for (size_t k = 0; k < np; k++) role[personal[k]] = k < n_ptrain ? CM_ROLE_PERSONAL_TRAIN : CM_ROLE_PERSONAL_TEST;
  /* Test: listed sessions/users/locations, else a seeded draw. */
  int listed = s->test_sessions.n || s->test_users.n || s->test_locations.n;
  if (listed) {
    for (size_t k = 0; k < nr; k++) {
      const cm_split_session *x = &ss[rest[k]];
      int t = cm_name_list_has(&s->test_sessions, x->name) || cm_name_list_has(&s->test_users, x->user) ||
              cm_name_list_has(&s->test_locations, x->location);
      role[rest[k]] = t ? CM_ROLE_TEST : CM_ROLE_TRAIN;
    }
  } else {
    shuffle(rest, nr, s->seed ^ 0x54455354ULL);
    size_t n_test = (size_t)llround(s->test_fraction * (double)nr);
    for (size_t k = 0; k < nr; k++) role[rest[k]] = k < n_test ? CM_ROLE_TEST : CM_ROLE_TRAIN;
  }
  free(personal);
  free(rest);
}

void cm_split_assign_train_windows(const cm_split_spec *s, size_t n, int *out) {
  const double *sh = s->train_share;
  double total = sh[0] + sh[1] + sh[2];
  int fractions = sh[0] <= 1 && sh[1] <= 1 && sh[2] <= 1;
  size_t cnt[3];
  if (!fractions && total == (double)n) {
    for (int i = 0; i < 3; i++) cnt[i] = (size_t)sh[i];
  } else {
    /* Largest remainder, so the counts add up to exactly n. */
    double want[3];
    size_t sum = 0;
    for (int i = 0; i < 3; i++) {
      want[i] = (double)n * sh[i] / total;
      cnt[i] = (size_t)floor(want[i]);
      sum += cnt[i];
    }
    while (sum < n) {
      int best = 0;
      for (int i = 1; i < 3; i++)
        if (want[i] - (double)cnt[i] > want[best] - (double)cnt[best]) best = i;
      cnt[best]++, sum++;
      want[best] = (double)cnt[best]; /* no second helping */
    }
  }
  size_t *idx = cm_xmalloc((n + 1) * sizeof *idx);
  for (size_t i = 0; i < n; i++) idx[i] = i;
  shuffle(idx, n, s->seed ^ 0x5452414953ULL);
  for (size_t k = 0; k < n; k++)
    out[idx[k]] = k < cnt[0] ? CM_SPLIT_PRETRAIN : k < cnt[0] + cnt[1] ? CM_SPLIT_TRANSFER : CM_SPLIT_LIMITED;
  free(idx);
}
