/*
 * The CMActivity raw layout, as cmact reads it (README "cmact import"):
 *
 *   DIR/raw3/NAME.csv.gz    right wrist accelerometer   rows timestamp_ms,<unused>,x,y,z
 *   DIR/raw4/NAME.csv.gz    right wrist gyroscope
 *   DIR/raw11/NAME.csv.gz   left wrist accelerometer
 *   DIR/raw12/NAME.csv.gz   left wrist gyroscope
 *   DIR/.../<activity>/.../NAME.mp4   the videos; the nearest enclosing folder named after an
 *                        activity gives the label (the study's names downstair upstair run
 *                        jump walk handwashing exercise, or the class names)
 *   DIR/manifest.csv     optional: video,user,location[,session_id]
 *
 * One log file covers many sessions; each video later takes the rows inside its own span.
 * This file only finds things: the walk over the folders, the activity names, the manifest.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cm_util.h"
#include "import.h"

static const char *folder_names[][2] = {
    {"downstair", "downstairs"}, {"upstair", "upstairs"},       {"run", "run"},
    {"jump", "jump"},           {"walk", "walk"},               {"handwashing", "handwashing"},
    {"exercise", "exercise"},   {"downstairs", "downstairs"},   {"upstairs", "upstairs"},
};

const char *imp_activity_from_folder(const char *name) {
  for (size_t i = 0; i < sizeof folder_names / sizeof folder_names[0]; i++)
    if (strcasecmp(name, folder_names[i][0]) == 0) return folder_names[i][1];
  return NULL;
}

static int has_ext(const char *name, const char *ext) {
  size_t a = strlen(name), b = strlen(ext);
  return a > b && strcasecmp(name + a - b, ext) == 0;
}

static int is_raw_folder(const char *name) {
  return strcmp(name, "raw3") == 0 || strcmp(name, "raw4") == 0 || strcmp(name, "raw11") == 0 ||
         strcmp(name, "raw12") == 0;
}

typedef struct {
  imp_video_entry *v;
  size_t n, cap;
  size_t root_len;
} walk_state;

static int walk(walk_state *w, const char *dir, const char *activity, int depth) {
  if (depth > 16) return 0;
  DIR *d = opendir(dir);
  if (!d) return cm_set_error("%s: cannot read folder: %s", dir, strerror(errno));
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d)) && rc == 0) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth == 0 && is_raw_folder(e->d_name)) continue;
      const char *a = imp_activity_from_folder(e->d_name);
      rc = walk(w, path, a ? a : activity, depth + 1);
    } else if (S_ISREG(st.st_mode) &&
               (has_ext(e->d_name, ".mp4") || has_ext(e->d_name, ".mov") || has_ext(e->d_name, ".m4v"))) {
      if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->v = cm_xrealloc(w->v, w->cap * sizeof *w->v);
      }
      w->v[w->n].path = cm_xstrdup(path);
      w->v[w->n].rel = cm_xstrdup(path + w->root_len);
      w->v[w->n].activity = activity;
      w->n++;
    }
  }
  closedir(d);
  return rc;
}

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const imp_video_entry *)a)->path, ((const imp_video_entry *)b)->path);
}

int imp_find_videos(const char *dir, imp_video_entry **out, size_t *n) {
  walk_state w = {0};
  w.root_len = strlen(dir) + 1;
  if (walk(&w, dir, NULL, 0) < 0) {
    imp_free_videos(w.v, w.n);
    return -1;
  }
  qsort(w.v, w.n, sizeof *w.v, cmp_entry);
  *out = w.v;
  *n = w.n;
  return 0;
}

void imp_free_videos(imp_video_entry *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].path);
    free(v[i].rel);
  }
  free(v);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int imp_list_logs(const char *folder, char ***files, size_t *n) {
  DIR *d = opendir(folder);
  if (!d) return cm_set_error("%s: cannot read folder: %s", folder, strerror(errno));
  char **f = NULL;
  size_t k = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (!has_ext(e->d_name, ".csv.gz") && !has_ext(e->d_name, ".csv") && !has_ext(e->d_name, ".gz")) continue;
    if (k == cap) {
      cap = cap ? cap * 2 : 16;
      f = cm_xrealloc(f, cap * sizeof *f);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
    f[k++] = cm_xstrdup(path);
  }
  closedir(d);
  qsort(f, k, sizeof *f, cmp_str);
  *files = f;
  *n = k;
  return 0;
}

/* Split a manifest line on commas (no quoting: names hold no commas), trimming spaces. */
static int split_csv(char *line, char **f, int max) {
  int n = 0;
  char *p = line;
  while (n < max) {
    char *c = strchr(p, ',');
    if (c) *c = 0;
    while (*p == ' ' || *p == '"') p++;
    size_t l = strlen(p);
    while (l && (p[l - 1] == ' ' || p[l - 1] == '"' || p[l - 1] == '\r' || p[l - 1] == '\n')) p[--l] = 0;
    f[n++] = p;
    if (!c) break;
    p = c + 1;
  }
  return n;
}

int imp_manifest_load(imp_manifest *m, const char *path) {
  memset(m, 0, sizeof *m);
  FILE *f = fopen(path, "r");
  if (!f) return cm_set_error("manifest %s: cannot open: %s", path, strerror(errno));
  char line[2048];
  int col[4] = {-1, -1, -1, -1}; /* video user location session_id */
  static const char *names[4] = {"video", "user", "location", "session_id"};
  long lineno = 0;
  size_t cap = 0;
  int rc = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *fl[64];
    int nf = split_csv(line, fl, 64);
    if (nf == 1 && !fl[0][0]) continue;
    if (col[0] < 0) {
      for (int j = 0; j < nf; j++) {
        for (int k = 0; k < 4; k++)
          if (strcmp(fl[j], names[k]) == 0) col[k] = j;
        if (strcmp(fl[j], "file") == 0 && col[0] < 0) col[0] = j; /* the simulator's export */
      }
      for (int k = 0; k < 3; k++)
        if (col[k] < 0) {
          rc = cm_set_error("manifest %s:%ld: header has no '%s' column (need video (or file),user,location)", path, lineno, names[k]);
          break;
        }
      if (rc) break;
      continue;
    }
    int need = col[0];
    for (int k = 1; k < 4; k++) need = col[k] > need ? col[k] : need;
    if (nf <= need) {
      rc = cm_set_error("manifest %s:%ld: %d fields, expected %d", path, lineno, nf, need + 1);
      break;
    }
    if (m->n == cap) {
      cap = cap ? cap * 2 : 64;
      m->video = cm_xrealloc(m->video, cap * sizeof(char *));
      m->user = cm_xrealloc(m->user, cap * sizeof(char *));
      m->location = cm_xrealloc(m->location, cap * sizeof(char *));
      m->session_id = cm_xrealloc(m->session_id, cap * sizeof(char *));
    }
    m->video[m->n] = cm_xstrdup(fl[col[0]]);
    m->user[m->n] = cm_xstrdup(fl[col[1]]);
    m->location[m->n] = cm_xstrdup(fl[col[2]]);
    m->session_id[m->n] = col[3] >= 0 && fl[col[3]][0] ? cm_xstrdup(fl[col[3]]) : NULL;
    m->n++;
  }
  fclose(f);
  if (rc == 0 && col[0] < 0) rc = cm_set_error("manifest %s: empty", path);
  if (rc) imp_manifest_free(m);
  return rc;
}

long imp_manifest_find(const imp_manifest *m, const char *rel) {
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->video[i], rel) == 0) return (long)i;
  const char *base = strrchr(rel, '/');
  base = base ? base + 1 : rel;
  for (size_t i = 0; i < m->n; i++) {
    const char *b = strrchr(m->video[i], '/');
    if (strcmp(b ? b + 1 : m->video[i], base) == 0) return (long)i;
  }
  return -1;
}

void imp_manifest_free(imp_manifest *m) {
  for (size_t i = 0; i < m->n; i++) {
    free(m->video[i]);
    free(m->user[i]);
    free(m->location[i]);
    free(m->session_id[i]);
  }
  free(m->video);
  free(m->user);
  free(m->location);
  free(m->session_id);
  memset(m, 0, sizeof *m);
}
