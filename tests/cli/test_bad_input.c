/*
 * Every subcommand that reads a cmact file, fed every kind of bad file (issue 2, "Bad input"):
 * not HDF5, empty, plain HDF5 that is not a cmact file, truncated at 10/50/90 %, bit-flipped,
 * missing its main array, holding it with the wrong dtype, stripped of its attributes, a model
 * with a NaN weight, and a good file of the wrong kind (a dataset where a session belongs, a
 * transferred student where a teacher belongs, ...).
 *
 * The files are made by tests/cli/make_bad_inputs.py (h5py, as an outside tool would) from a
 * small simulated corpus that this test builds with cmact itself. For each command and file:
 *   - no crash: no signal, no sanitizer report;
 *   - a deterministic fault gets exit status 1 and exactly one line on stderr, naming the file;
 *   - a bit-flipped file may happen to be harmless (the flips can land in unused bytes), so it
 *     may succeed, but when it fails it fails the same way;
 *   - a failed command leaves no output behind (no OUT, no OUT.partial, no empty OUT folder)
 *     and does not touch its input (`label` and `repair` write into theirs).
 * Found by this test and fixed with it: `cmact validate` called a model valid whose weights did
 * not fit its layer list or were NaN; `train limited` given a whole classifier failed with
 * "layer name 'DENSE_1_relu' is empty or already used"; `train transfer` took a transferred
 * student as its teacher; a NaN teacher failed as "loss is not finite (learning rate too
 * high?)"; `experiment` left an empty output folder; a dataset read error named its file twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Under the sanitizers each cmact run costs about 0.6 s, so there the matrix keeps one file of
 * each fault (one truncation, one bit-flip pattern, the camera session only): the same code
 * paths in 183 runs instead of 309. */
#if defined(__SANITIZE_ADDRESS__)
static const int sanitized = 1;
#else
static const int sanitized = 0;
#endif

static char out[1 << 16];
static char *dir;       /* scratch: good files, bad/, case folders */
static char *listing;   /* make_bad_inputs.py's NAME<TAB>KIND lines */

/* Roles a command reads its file in; a bad file is fed to the commands whose role covers its kind. */
enum { R_SESSION = 1, R_DATASET = 2, R_MODEL = 4 };

typedef struct {
  const char *args;  /* F: the file under test, O: the output path, G: the good-file folder */
  int roles;
  int may_succeed_on_closed_session;  /* repair: "already closed, nothing to repair" */
  int writes_input;                   /* label, repair: the input must be unchanged on failure */
} command;

static const command commands[] = {
    {"inspect F", R_SESSION | R_DATASET | R_MODEL, 0, 0},
    {"validate F", R_SESSION | R_DATASET | R_MODEL, 0, 0},
    {"repair --no-backup F", R_SESSION, 1, 1},
    {"export F --mp4 O.mp4", R_SESSION, 0, 0},
    {"label F 0 1 walk", R_SESSION, 0, 1},
    {"sync F --out O.h5", R_SESSION, 0, 0},
    {"train fit --model imu_cnn --data F --out O.h5 --epochs 1", R_DATASET, 0, 0},
    {"train teacher --modality imu --data F --out O.h5 --epochs 1", R_DATASET, 0, 0},
    {"train fusion --data F --out O.h5 --epochs 1", R_DATASET, 0, 0},
    {"experiment labels --data F --out O --runs 1 --pair audio-imu --label-counts 10 --teacher-epochs 1 "
     "--transfer-epochs 1 --limited-epochs 1 --scratch-epochs 1",
     R_DATASET, 0, 0},
    {"train transfer --teacher F --student imu --data G/ds.h5 --out O.h5 --epochs 1", R_MODEL, 0, 0},
    {"train pure --teacher G/teacher.h5 --student F --data G/ds.h5 --out O.h5", R_MODEL, 0, 0},
    {"train limited --student F --data G/ds.h5 --out O.h5 --epochs 1", R_MODEL, 0, 0},
    {"train show --file F", R_MODEL, 0, 0},
};

/* The kinds each bad file stands for; "any" files (not HDF5, empty, plain HDF5) go to every command. */
static int roles_of(const char *kind) {
  if (!strcmp(kind, "any")) return R_SESSION | R_DATASET | R_MODEL;
  if (!strcmp(kind, "session") || !strcmp(kind, "wrist")) return R_SESSION;
  if (!strcmp(kind, "dataset")) return R_DATASET;
  if (!strcmp(kind, "model")) return R_MODEL;
  return 0;
}

/* Replace F, O and G in a command template. */
static void expand(char *dst, size_t cap, const char *tpl, const char *f, const char *o, const char *g) {
  size_t k = 0;
  for (const char *p = tpl; *p && k + 1 < cap; p++) {
    const char *rep = *p == 'F' ? f : *p == 'O' ? o : *p == 'G' ? g : NULL;
    /* only a lone capital (an argument of its own, or O.h5) is a placeholder */
    if (rep && (p == tpl || p[-1] == ' ') && (p[1] == ' ' || p[1] == '.' || p[1] == '/' || !p[1]))
      k += (size_t)snprintf(dst + k, cap - k, "%s", rep);
    else
      dst[k++] = *p;
    if (k >= cap) k = cap - 1;
  }
  dst[k] = 0;
}

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

static void build_corpus(void) {
  dir = tu_mkdtemp("badinput");
  int rc = tu_run(out, sizeof out,
                  "cd '%s' && $CMACT simulate --out sim --preset quick --sessions 8 >/dev/null && "
                  "$CMACT sync sim --out ds.h5 --frames 3 --size 8 >/dev/null && "
                  "$CMACT train fit --model imu_cnn --data ds.h5 --out model.h5 --epochs 1 >/dev/null && "
                  "$CMACT train teacher --modality audio --data ds.h5 --out teacher.h5 --epochs 1 >/dev/null && "
                  "$CMACT train transfer --teacher teacher.h5 --student imu --data ds.h5 --out student.h5 --epochs 1 >/dev/null && "
                  "mkdir bad && /usr/bin/python3 '%s/tests/cli/make_bad_inputs.py' bad session=sim/S0001_camera.h5 "
                  "wrist=sim/S0001_wrist.h5 dataset=ds.h5 model=model.h5 > bad.txt && "
                  /* good files of the wrong kind for some role */
                  "cp ds.h5 bad/kind_dataset.h5 && cp model.h5 bad/kind_model.h5 && cp sim/S0002_camera.h5 bad/kind_session.h5 && "
                  "cp student.h5 bad/kind_student.h5 && cp teacher.h5 bad/kind_teacher.h5",
                  dir, CMACT_SRC);
  if (rc != 0) fail_msg("building the corpus failed (%d): %s", rc, out);
  listing = tu_read_file(tu_path(dir, "bad.txt"), NULL);
}

/* Which roles a good file of one kind is wrong for, per command: a session is no dataset or
 * model; a dataset no session or model; a model no session or dataset; a whole classifier is
 * no transferred student and a student no teacher. */
static int wrong_kind_for(const char *name, const command *c) {
  if (!strncmp(c->args, "inspect", 7) || !strncmp(c->args, "validate", 8)) return 0; /* any good file is fine */
  if (!strcmp(name, "kind_session")) return c->roles & (R_DATASET | R_MODEL);
  if (!strcmp(name, "kind_dataset")) return c->roles & (R_SESSION | R_MODEL);
  if (!strncmp(c->args, "train show", 10)) return 0; /* every good model is fine */
  if (!strcmp(name, "kind_model") || !strcmp(name, "kind_teacher"))
    return (c->roles & (R_SESSION | R_DATASET)) || strstr(c->args, "--student F");
  if (!strcmp(name, "kind_student")) return (c->roles & (R_SESSION | R_DATASET)) || strstr(c->args, "--teacher F");
  return 0;
}

typedef struct {
  int runs, failed_cleanly, harmless;
} tally;

static void run_case(const command *c, const char *name, int must_fail, tally *t) {
  char casedir[4096], f[4096], o[4096], args[8192];
  snprintf(casedir, sizeof casedir, "%s/case", dir);
  snprintf(f, sizeof f, "%s/%s.h5", casedir, name);
  snprintf(o, sizeof o, "%s/out", casedir);
  expand(args, sizeof args, c->args, f, o, dir);
  int rc = tu_run(out, sizeof out,
                  "rm -rf '%s' && mkdir '%s' && cp '%s/bad/%s.h5' '%s' && cd '%s' && "
                  "timeout 120 $CMACT %s >stdout.txt 2>stderr.txt",
                  casedir, casedir, dir, name, f, casedir, args);
  t->runs++;
  char *err = tu_read_file(tu_path(casedir, "stderr.txt"), NULL);
  char *std = tu_read_file(tu_path(casedir, "stdout.txt"), NULL);
  if (!err || !std) fail_msg("%s on %s: no output captured (%s)", args, name, out);
  if (rc >= 124 || strstr(err, "Sanitizer") || strstr(err, "runtime error") || strstr(err, "HDF5-DIAG"))
    fail_msg("cmact %s\n  on %s: exit %d (a crash, a hang or a library dump):\n%s", c->args, name, rc, err);
  int is_validate = !strncmp(c->args, "validate", 8);
  if (rc == 0) {
    int ok_closed = c->may_succeed_on_closed_session && strstr(std, "already a closed file");
    if (must_fail && !ok_closed)
      fail_msg("cmact %s\n  on %s: succeeded on a bad file:\n%s%s", c->args, name, std, err);
    t->harmless++;
  } else {
    if (rc != 1) fail_msg("cmact %s\n  on %s: exit %d, expected 1:\n%s", c->args, name, rc, err);
    if (is_validate) {
      /* validate lists every violation on stdout, each line naming the file */
      if (!std[0]) fail_msg("validate on %s: exit 1 with no violation listed", name);
      for (char *line = std, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl) break;
        if (strncmp(line, f, strlen(f)) != 0) fail_msg("validate on %s: a line that does not name the file: %.*s", name, (int)(nl - line), line);
      }
    } else {
      if (count_lines(err) != 1 || !strstr(err, name))
        fail_msg("cmact %s\n  on %s: the error is not one line naming the file:\n%s", c->args, name, err);
    }
    /* nothing left behind that could pass for output */
    if (tu_run(out, sizeof out, "ls -d '%s'* 2>/dev/null", o) == 0 && out[0])
      fail_msg("cmact %s\n  on %s: failed but left %s", c->args, name, out);
    if (c->writes_input) {
      char orig[4096];
      snprintf(orig, sizeof orig, "%s/bad/%s.h5", dir, name);
      if (!tu_files_equal(orig, f)) fail_msg("cmact %s\n  on %s: failed but changed its input", c->args, name);
    }
    t->failed_cleanly++;
  }
  free(err);
  free(std);
}

static void test_every_command_on_every_bad_file(void **state) {
  (void)state;
  if (tu_run(out, sizeof out, "/usr/bin/python3 -c 'import h5py'") != 0) {
    print_message("SKIP: Debian's python3-h5py is not installed (scripts/install-deps.sh installs it)\n");
    skip();
  }
  build_corpus();
  tally t = {0};
  int n_cmd = (int)(sizeof commands / sizeof commands[0]);
  for (int ci = 0; ci < n_cmd; ci++) {
    const command *c = &commands[ci];
    char *list = strdup(listing);
    char *save = NULL;
    for (char *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      char *tab = strchr(line, '\t');
      assert_non_null(tab);
      *tab = 0;
      const char *name = line, *kind = tab + 1;
      if (!(roles_of(kind) & c->roles)) continue;
      if (sanitized && (!strcmp(kind, "wrist") || strstr(name, "_truncated_10") || strstr(name, "_truncated_90") ||
                        strstr(name, "_bitflip_1") || strstr(name, "_bitflip_2")))
        continue;
      int harmless_possible = strstr(name, "bitflip") != NULL;
      /* a session's missing or mistyped first array may be one that only validate reads */
      if (c->roles == R_SESSION && strncmp(c->args, "validate", 8) && (strstr(name, "missing_main") || strstr(name, "wrong_dtype")))
        harmless_possible = 1;
      /* inspect summarises what it can read; validate is the checker */
      if (!strncmp(c->args, "inspect", 7) && !strstr(name, "truncated") && strcmp(kind, "any"))
        harmless_possible = 1;
      /* a model's history is not needed to use it */
      run_case(c, name, !harmless_possible, &t);
    }
    free(list);
    const char *kinds[] = {"kind_session", "kind_dataset", "kind_model", "kind_teacher", "kind_student"};
    for (int k = 0; k < 5; k++)
      if (wrong_kind_for(kinds[k], c)) run_case(c, kinds[k], 1, &t);
  }
  print_message("%d runs: %d failed with one line naming the file and left nothing behind, %d harmless "
                "(bit flips in unused bytes, parts a command does not read)\n",
                t.runs, t.failed_cleanly, t.harmless);
  assert_true(t.failed_cleanly > (sanitized ? 100 : 250));
  tu_rmtree(dir);
  free(dir);
  free(listing);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_command_on_every_bad_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
