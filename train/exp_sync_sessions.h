/*
 * exp_sync_sessions: the pieces of the sync-error sweep (exp_sync.c) that look at session files rather
 * than windows: which sessions have activity transitions (only there does a clock offset pair a
 * teacher window with the student's data from a different activity), and, for each window of a
 * shifted dataset, how much of the student's data comes from another activity than the label.
 */
#ifndef EXP_SYNC_SESSIONS_H
#define EXP_SYNC_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "cm_dataset.h"
#include "cm_session.h"
#include "proc.h"

typedef struct {
  char name[CM_SESSION_NAME_LEN];
  char **files;          /* the session's files (one per recording host), malloc'd paths */
  int n_files;
  cm_label_row *labels;  /* reference time, sorted by start */
  size_t n_labels;
  int n_activities;      /* distinct activity names among the labels */
} exp_session_labels;

typedef struct {
  exp_session_labels *v;
  size_t n;
} exp_session_list;

/* Every session file (*.h5 with schema cmact.session) in folder `dir`, grouped by session id,
 * in name order, with its labels. Files that are not session files are left out. */
int exp_sessions_scan(const char *dir, exp_session_list *out);
void exp_sessions_free(exp_session_list *l);
const exp_session_labels *exp_sessions_find(const exp_session_list *l, const char *name);

/* Names of the sessions that have windows in split `split` of dataset d, added to `names`
 * (an array of CM_SESSION_NAME_LEN strings grown with realloc). A missing split adds none. */
int exp_split_session_names(cm_dataset *d, const char *split, char (**names)[CM_SESSION_NAME_LEN], size_t *n);

/* For the windows of s (a split of a dataset built with the student stream shifted by
 * `offset_s`: the student's samples in a window starting at t came from t - offset_s), the
 * fraction of the student's window time covered by the label's own activity, per window
 * (NaN where the session's labels are unknown). `session_names` maps s->session to names;
 * `class_names` maps s->y to activity names. Returns the number of windows with a value. */
int64_t exp_student_label_cover(const proc_set *s, double offset_s, double window_s,
                                const cm_dataset_session_row *session_names, size_t n_sessions,
                                const char (*class_names)[CM_CLASS_NAME_LEN], const exp_session_list *l,
                                double *cover);

#endif
