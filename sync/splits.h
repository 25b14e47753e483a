/*
 * splits: which session and which window goes to which part of the dataset.
 *
 * The study's split (DESIGN.md section 1) is two-level:
 *   - by session: the personalization location's sessions (the 6th location) form the
 *     personalization set; a seeded share of the remaining sessions (71 of 695) is the test
 *     set; the rest are training sessions. Test and personalization sessions never share a
 *     window with training.
 *   - by window: the training windows are shuffled (seeded) and dealt into pretrain / transfer
 *     / limited (5000 / 6000 / 976 of 11976 in the study). Counts are scaled in proportion when
 *     a corpus has a different number of windows, so the study's file works on any corpus;
 *     values <= 1 are read as fractions.
 *   - personalization sessions are dealt by session (not window: overlapping windows of one
 *     clip on both sides would leak) into personal_train / personal_test, 475 / 1592 of them
 *     to train; the study's personalization set has 5 classes, so stair windows there are left
 *     out by default.
 *
 * The split file is small JSON (every key optional; missing keys keep the study's default):
 *   { "seed": 1,
 *     "classes": ["downstairs","upstairs","run","jump","walk","handwashing","exercise"],
 *     "personal": {"locations": ["loc6"], "train_fraction": 0.2984,
 *                  "exclude_classes": ["downstairs","upstairs"]},
 *     "test": {"fraction": 0.10216, "sessions": [], "users": [], "locations": []},
 *     "train": {"pretrain": 5000, "transfer": 6000, "limited": 976} }
 * With no personal location named, the personalization location is the one location whose
 * sessions never hold an excluded class (the study's 6th location has no stairs); when no single
 * location is like that, the last location in sorted order. "locations": [] means no
 * personalization set at all.
 * Listing test sessions, users or locations replaces the random draw.
 */
#ifndef CM_SPLITS_H
#define CM_SPLITS_H

#include <stddef.h>
#include <stdint.h>

#include "cm_dataset.h"

#define CM_SPLIT_MAX_NAMES 64
#define CM_SPLIT_NAME_LEN 64

enum { CM_SPLIT_PRETRAIN, CM_SPLIT_TRANSFER, CM_SPLIT_LIMITED, CM_SPLIT_TEST,
       CM_SPLIT_PERSONAL_TRAIN, CM_SPLIT_PERSONAL_TEST, CM_SPLIT_COUNT };
extern const char *const cm_split_names[CM_SPLIT_COUNT];

/* A session's role before its windows are dealt. */
enum { CM_ROLE_TRAIN, CM_ROLE_TEST, CM_ROLE_PERSONAL_TRAIN, CM_ROLE_PERSONAL_TEST };

typedef struct {
  int n;
  char v[CM_SPLIT_MAX_NAMES][CM_SPLIT_NAME_LEN];
} cm_name_list;

typedef struct {
  uint64_t seed;
  int n_classes;
  char classes[CM_MAX_CLASSES][CM_CLASS_NAME_LEN];
  int personal_locations_given; /* 0: the location without excluded classes, else the last */
  cm_name_list personal_locations;
  double personal_train_fraction;
  cm_name_list personal_exclude_classes;
  double test_fraction;
  cm_name_list test_sessions, test_users, test_locations;
  double train_share[3]; /* pretrain, transfer, limited: counts or fractions (all <= 1) */
} cm_split_spec;

void cm_split_spec_default(cm_split_spec *s);
/* Read a split file over the defaults. Errors name the file and the key. */
int cm_split_spec_load(const char *path, cm_split_spec *s);
/* The resolved spec as JSON (malloc'd), stored in the dataset for provenance. */
char *cm_split_spec_json(const cm_split_spec *s);

int cm_split_class_index(const cm_split_spec *s, const char *name); /* -1 when unknown */
int cm_name_list_has(const cm_name_list *l, const char *name);

/* Give each of n sessions (sorted by name by the caller) a role. `personal_location` receives
 * the location used (or "" when none). */
typedef struct {
  const char *name, *user, *location;
  int has_excluded_class; /* a label names one of personal_exclude_classes */
} cm_split_session;
void cm_split_assign_sessions(const cm_split_spec *s, const cm_split_session *ss, size_t n, int *role,
                              char personal_location[CM_SPLIT_NAME_LEN]);

/* Deal n training windows into pretrain/transfer/limited: out[i] is the split of window i. */
void cm_split_assign_train_windows(const cm_split_spec *s, size_t n, int *out);

/* splitmix64, the seeded generator every draw uses (so draws never depend on libc). */
uint64_t cm_split_rand(uint64_t *state);

#endif
