/*
 * Session labels for the sync-error sweep (see exp_sync_sessions.h).
 *
 * The sweep needs two facts that the windowed dataset alone does not hold: which sessions
 * change activity (a shift only pairs different moments of *different* activities there), and
 * the labels around each window's student span, which for a shift of several seconds lies
 * outside the window's own interval. Both come from the session files' /labels table, read
 * through formats/ (the only code that touches HDF5). The label of a window is its activity on
 * the reference timeline; the student's samples in it were recorded offset_s earlier, so the
 * question per window is how much of [t - offset_s, t - offset_s + window) that activity covers.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "exp_sync_sessions.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int cmp_label(const void *a, const void *b) {
  const cm_label_row *x = a, *y = b;
  return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static exp_session_labels *find_or_add(exp_session_list *l, const char *name) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].name, name) == 0) return &l->v[i];
  l->v = cm_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
  exp_session_labels *s = &l->v[l->n++];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  return s;
}

static int count_activities(const cm_label_row *r, size_t n) {
  int k = 0;
  for (size_t i = 0; i < n; i++) {
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = strcmp(r[j].activity, r[i].activity) == 0;
    k += !seen;
  }
  return k;
}

int exp_sessions_scan(const char *dir, exp_session_list *out) {
  memset(out, 0, sizeof *out);
  DIR *d = opendir(dir);
  if (!d) return cm_set_error("%s: cannot open the sessions folder", dir);
  char **names = NULL;
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 3, ".h5") != 0) continue;
    names = cm_xrealloc(names, (n + 1) * sizeof *names);
    names[n++] = cm_xstrdup(e->d_name);
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_str);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    cm_session *s = cm_session_open(path);
    if (!s) continue; /* not a session file (a dataset, a report): not ours to judge */
    const cm_session_meta *m = cm_session_get_meta(s);
    exp_session_labels *x = find_or_add(out, m->session_id);
    x->files = cm_xrealloc(x->files, (size_t)(x->n_files + 1) * sizeof *x->files);
    x->files[x->n_files++] = cm_xstrdup(path);
    if (m->n_labels > 0) {
      x->labels = cm_xrealloc(x->labels, (x->n_labels + (size_t)m->n_labels) * sizeof *x->labels);
      if (cm_session_read_labels(s, 0, m->n_labels, x->labels + x->n_labels) < 0) rc = -1;
      else x->n_labels += (size_t)m->n_labels;
    }
    cm_session_close(s);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  for (size_t i = 0; i < out->n; i++) {
    exp_session_labels *x = &out->v[i];
    if (x->n_labels) qsort(x->labels, x->n_labels, sizeof *x->labels, cmp_label);
    /* several hosts' files may carry the same labels: keep one of each */
    size_t k = 0;
    for (size_t j = 0; j < x->n_labels; j++) {
      const cm_label_row *r = &x->labels[j], *p = k ? &x->labels[k - 1] : NULL;
      if (p && p->start_ns == r->start_ns && p->end_ns == r->end_ns && strcmp(p->activity, r->activity) == 0) continue;
      x->labels[k++] = *r;
    }
    x->n_labels = k;
    x->n_activities = count_activities(x->labels, x->n_labels);
  }
  if (rc == 0 && out->n == 0) rc = cm_set_error("%s: no session files", dir);
  if (rc < 0) exp_sessions_free(out);
  return rc;
}

void exp_sessions_free(exp_session_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    for (int f = 0; f < l->v[i].n_files; f++) free(l->v[i].files[f]);
    free(l->v[i].files);
    free(l->v[i].labels);
  }
  free(l->v);
  memset(l, 0, sizeof *l);
}

const exp_session_labels *exp_sessions_find(const exp_session_list *l, const char *name) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].name, name) == 0) return &l->v[i];
  return NULL;
}

int exp_split_session_names(cm_dataset *d, const char *split, char (**names)[CM_SESSION_NAME_LEN], size_t *n) {
  int sp = -1;
  for (int i = 0; i < cm_dataset_n_splits(d); i++)
    if (strcmp(cm_dataset_split_name(d, i), split) == 0) sp = i;
  if (sp < 0) return 0;
  int64_t rows = cm_dataset_split_size(d, sp);
  cm_dataset_session_row *tab = NULL;
  size_t n_tab = 0;
  if (cm_dataset_get_sessions(d, &tab, &n_tab) < 0) return -1;
  int32_t *ses = cm_xmalloc(sizeof(int32_t) * (size_t)(rows ? rows : 1));
  int rc = rows ? cm_dataset_read(d, sp, 0, rows, NULL, NULL, NULL, NULL, ses, NULL, NULL) : 0;
  unsigned char *seen = cm_xcalloc(n_tab ? n_tab : 1, 1);
  for (int64_t i = 0; i < rows && rc == 0; i++) {
    if (ses[i] < 0 || (size_t)ses[i] >= n_tab || seen[ses[i]]) continue;
    seen[ses[i]] = 1;
    *names = cm_xrealloc(*names, (*n + 1) * sizeof **names);
    snprintf((*names)[(*n)++], CM_SESSION_NAME_LEN, "%s", tab[ses[i]].name);
  }
  free(seen);
  free(ses);
  free(tab);
  return rc;
}

/* Time of [a, b) covered by labels named `act`. */
static int64_t covered(const exp_session_labels *x, int64_t a, int64_t b, const char *act) {
  int64_t c = 0;
  for (size_t i = 0; i < x->n_labels; i++) {
    const cm_label_row *r = &x->labels[i];
    if (r->end_ns <= a || r->start_ns >= b || strcmp(r->activity, act) != 0) continue;
    c += (r->end_ns < b ? r->end_ns : b) - (r->start_ns > a ? r->start_ns : a);
  }
  return c;
}

int64_t exp_student_label_cover(const proc_set *s, double offset_s, double window_s,
                                const cm_dataset_session_row *session_names, size_t n_sessions,
                                const char (*class_names)[CM_CLASS_NAME_LEN], const exp_session_list *l,
                                double *cover) {
  const int64_t w = (int64_t)llround(window_s * 1e9), shift = (int64_t)llround(offset_s * 1e9);
  int64_t k = 0;
  for (int64_t i = 0; i < s->n; i++) {
    cover[i] = NAN;
    if (s->session[i] < 0 || (size_t)s->session[i] >= n_sessions || s->y[i] < 0) continue;
    const exp_session_labels *x = exp_sessions_find(l, session_names[s->session[i]].name);
    if (!x || x->n_labels == 0) continue;
    int64_t a = s->t_start_ns[i] - shift;
    double c = (double)covered(x, a, a + w, class_names[s->y[i]]) / (double)w;
    cover[i] = c < 1 ? c : 1; /* overlapping label rows of one activity count once */
    k++;
  }
  return k;
}
