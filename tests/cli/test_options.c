/*
 * Every subcommand's answer to a wrong command line. For each command that `cmact --help`
 * lists (and each action of those that take one: train fit, experiment table3, ...) a valid
 * command line is spoiled in one way at a time, and the answer must be exit status 2 and one
 * line naming what is wrong:
 *
 *   an unknown option first, in the middle and last    "unknown option '--no-such-opt'"
 *   a value-taking option last, without its value      "option '--x' needs a value"
 *   a numeric option with a word for its value          the option's name
 *
 * A command added to `cmact --help` without a row here fails the coverage check, so that no new
 * parser escapes these checks. The --opt=value forms are the parser's own test's
 * (test_cm_opts.c).
 *
 * The ~140 command lines run in forked children of this test, which links the program itself
 * (cmact.c, its main renamed cmact_main, and every stage): starting the real binary costs
 * 0.1-0.2 s each (it loads ~160 shared libraries; 0.45 s under ASan), a fork a millisecond.
 * A child is the program in all but its exec: its exit status and its stdout+stderr are read
 * back the same way, an exit() or a crash inside a command ends only the child, and an alarm
 * ends a child that starts real work instead of failing. The real binary answers a few of the
 * same lines too, to show that the two agree.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

int cmact_main(int argc, char **argv); /* cmact.c's main, compiled under this name here */

#define BOGUS "--no-such-opt"

typedef struct {
  const char *cmd;    /* command and action, as typed after `cmact` */
  const char *before; /* a valid rest of the command line, in two halves: */
  const char *after;  /* the middle case puts the unknown option between them */
  const char *value_opt;  /* an option that takes a value, or NULL when there is none */
  const char *number_opt; /* an option that takes a number, or NULL */
} cli_case;

static const cli_case cases[] = {
    {"simulate", "--out /nonexistent/sim", "--seed 3 --preset quick", "--preset", "--threads"},
    {"simulate", "--live --session 0", "--imu-left udp:127.0.0.1:9", "--video-to", "--loss"},
    {"simulate-look", "--out /nonexistent/look", "--seed 2", "--out", "--seed"},
    {"imu-capture", "--imu a=udp:127.0.0.1:9", "--out /nonexistent/x.h5", "--duration", "--rate"},
    {"imu-send", "--to udp:127.0.0.1:9", "--rate 52 --no-realtime", "--to", "--loss"},
    {"record", "--out /nonexistent/x.h5", "--no-video --audio-rate 8000", "--video", "--bitrate"},
    {"label", "/nonexistent/x.h5 1", "2 run", NULL, NULL},
    {"label", "/nonexistent/x.h5 -1.5", "2 run", NULL, NULL},
    {"export", "/nonexistent/x.h5", "--mp4 /nonexistent/x.mp4 --force", "--mp4", NULL},
    {"sync", "/nonexistent/a.h5 --out /nonexistent/d.h5", "--force -j 2", "--split", "--window"},
    {"sync", "/nonexistent/a.h5 -o /nonexistent/d.h5", "--refine best", "--inject-offset", "--frames"},
    {"bench train", "--model imu_cnn", "--steps 1", "--model", "--batch"},
    {"train fit", "--model imu_cnn --data /nonexistent/d.h5", "--out /nonexistent/m.h5 --epochs 1", "--data", "--lr"},
    {"train show", "--model imu_cnn", "--input 9x16x16x3", "--file", NULL},
    {"train fusion", "--data /nonexistent/d.h5", "--out /nonexistent/f.h5 --overwrite", "--splits", "--epochs"},
    {"train teacher", "--modality imu --data /nonexistent/d.h5", "--out /nonexistent/t.h5", "--modality", "--epochs"},
    {"train transfer", "--teacher /nonexistent/t.h5 --student imu", "--data /nonexistent/d.h5 --out /nonexistent/g.h5",
     "--teacher", "--val-fraction"},
    {"train pure", "--teacher /nonexistent/t.h5 --student /nonexistent/g.h5", "--data /nonexistent/d.h5", "--out",
     "--seed"},
    {"train limited", "--student /nonexistent/g.h5 --data /nonexistent/d.h5", "--out /nonexistent/l.h5", "--student",
     "--labels"},
    {"train scratch", "--modality audio --data /nonexistent/d.h5", "--out /nonexistent/s.h5", "--input", "--patience"},
    {"validate", "/nonexistent/a.h5", "--quiet /nonexistent/b.h5", NULL, NULL},
    {"inspect", "/nonexistent/a.h5", "/nonexistent/b.h5", NULL, NULL},
    {"schema", "session", "dataset", NULL, NULL},
    {"repair", "--no-backup", "/nonexistent/a.h5", NULL, NULL},
    {"experiment table3", "--data /nonexistent/d.h5", "--out /nonexistent/e", "--input", "--runs"},
    {"experiment epochs", "--data /nonexistent/d.h5", "--out /nonexistent/e", "--data", "--threads"},
    {"experiment labels", "--data /nonexistent/d.h5", "--out /nonexistent/e --pair video-imu", "--label-counts",
     "--seed"},
    {"experiment related", "--data /nonexistent/d.h5", "--out /nonexistent/e", "--out", "--teacher-epochs"},
    {"experiment sync-error", "--data /nonexistent/d.h5 --sessions /nonexistent/s", "--out /nonexistent/e",
     "--offsets", "--transfer-epochs"},
    {"experiment fusion-sync", "--data /nonexistent/d.h5 --sessions /nonexistent/s", "--out /nonexistent/e",
     "--train-sessions", "--aug-fraction"},
    {"demo", "--out /nonexistent/demo", "--runs 1", "--out", "--threads"},
    {"simulate-probe", "--sessions 10", "--seed 2", "--json", "--width"},
    {"import cmactivity-raw", "/nonexistent/raw", "--out /nonexistent/s", "--manifest", "--pad"},
    {"import video", "/nonexistent/v.mp4", "--out /nonexistent/v.h5 --time-unit ms", "--imu", "--mtime-uncertainty"},
    {"features audio", "/nonexistent/a.wav", "", "--csv", NULL},
    {"features bench", "", "", "--seconds", "--seconds"},
};

/* Commands that take an action first: an option before the action is unknown to them. */
static const char *const dispatchers[] = {"train", "experiment", "bench", "features", "import"};

static char out[65536];
static int failures; /* every wrong answer is listed before the test fails */

/* Run `cmact LINE` (words split at spaces) in a forked child; its stdout and stderr go to out.
 * Returns the exit status, or 128 + the signal that ended it. */
static int run_cmact(const char *line, char *buf, size_t cap) {
  char copy[1024], *args[64];
  int argc = 0;
  snprintf(copy, sizeof copy, "cmact %s", line);
  for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && argc < 63; t = strtok_r(NULL, " ", &save))
    args[argc++] = t;
  args[argc] = NULL;
  int fd[2];
  if (pipe(fd) < 0) return -1;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(fd[0]);
    dup2(fd[1], 1);
    dup2(fd[1], 2);
    close(fd[1]);
    alarm(30); /* a command that gets past its usage checks must not run on */
    int rc = cmact_main(argc, args);
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
  }
  close(fd[1]);
  size_t n = 0;
  ssize_t k;
  char chunk[4096];
  while ((k = read(fd[0], chunk, sizeof chunk)) > 0) {
    size_t take = (size_t)k < cap - 1 - n ? (size_t)k : cap - 1 - n;
    memcpy(buf + n, chunk, take);
    n += take;
  }
  buf[n] = 0;
  close(fd[0]);
  int st;
  if (waitpid(pid, &st, 0) < 0) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

/* Run `cmact LINE`; it must exit 2 with one line on stdout+stderr holding every fragment. */
static void expect_usage_error(const char *line, const char *frag1, const char *frag2) {
  int rc = run_cmact(line, out, sizeof out);
  size_t n = strlen(out);
  char why[256] = "";
  if (rc != 2) snprintf(why, sizeof why, "exit status %d, not 2", rc);
  else if (n == 0 || out[n - 1] != '\n' || strchr(out, '\n') != out + n - 1) snprintf(why, sizeof why, "not one line");
  else if (frag1 && !strstr(out, frag1)) snprintf(why, sizeof why, "no '%s'", frag1);
  else if (frag2 && !strstr(out, frag2)) snprintf(why, sizeof why, "no '%s'", frag2);
  if (!why[0]) return;
  failures++;
  print_error("cmact %s: %s; output: %s%s", line, why, out, n && out[n - 1] == '\n' ? "" : "\n");
}

static void setup_failures(void) { failures = 0; }
static void check_failures(void) {
  if (failures) fail_msg("%d wrong answer(s), listed above", failures);
}

static void test_unknown_option_first_middle_last(void **state) {
  char line[1024];
  setup_failures();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const cli_case *c = &cases[i];
    snprintf(line, sizeof line, "%s " BOGUS " %s %s", c->cmd, c->before, c->after);
    expect_usage_error(line, "unknown option", "'" BOGUS "'");
    snprintf(line, sizeof line, "%s %s " BOGUS " %s", c->cmd, c->before, c->after);
    expect_usage_error(line, "unknown option", "'" BOGUS "'");
    snprintf(line, sizeof line, "%s %s %s " BOGUS, c->cmd, c->before, c->after);
    expect_usage_error(line, "unknown option", "'" BOGUS "'");
  }
  for (size_t i = 0; i < sizeof dispatchers / sizeof dispatchers[0]; i++) {
    snprintf(line, sizeof line, "%s " BOGUS, dispatchers[i]);
    expect_usage_error(line, "unknown option", "'" BOGUS "'");
  }
  check_failures();
}

static void test_missing_value(void **state) {
  char line[1024], want[128];
  setup_failures();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const cli_case *c = &cases[i];
    if (!c->value_opt) continue;
    snprintf(line, sizeof line, "%s %s %s %s", c->cmd, c->before, c->after, c->value_opt);
    snprintf(want, sizeof want, "'%s' needs a value", c->value_opt);
    expect_usage_error(line, want, NULL);
  }
  check_failures();
}

static void test_bad_number(void **state) {
  char line[1024], want[128];
  setup_failures();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const cli_case *c = &cases[i];
    if (!c->number_opt) continue;
    snprintf(line, sizeof line, "%s %s %s %s ten", c->cmd, c->before, c->after, c->number_opt);
    snprintf(want, sizeof want, "%s", c->number_opt);
    expect_usage_error(line, want, "'ten'");
  }
  check_failures();
}

/* Every command of `cmact --help` has a row above (or a stated reason not to). */
static void test_every_command_is_covered(void **state) {
  assert_int_equal(tu_run(out, sizeof out, "$CMACT --help"), 0);
  char *p = strstr(out, "Commands:\n");
  assert_non_null(p);
  int listed = 0;
  for (char *l = strchr(p, '\n') + 1; l && strncmp(l, "  ", 2) == 0; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
    char name[64];
    if (sscanf(l, " %63s", name) != 1) break;
    listed++;
    int found = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !found; i++) {
      size_t n = strlen(name);
      found = strncmp(cases[i].cmd, name, n) == 0 && (cases[i].cmd[n] == 0 || cases[i].cmd[n] == ' ');
    }
    if (!found) fail_msg("'cmact %s' (listed by --help) has no row in test_options.c", name);
  }
  assert_true(listed >= 19);
}

/* The real program gives the same answers as its forked copy. */
static void test_real_binary_agrees(void **state) {
  static const char *const lines[] = {
      "train fit --model imu_cnn " BOGUS,
      "sync /nonexistent/a.h5 --out",
      "simulate --out /nonexistent/sim --seed ten",
  };
  char child[4096];
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    int rc_child = run_cmact(lines[i], child, sizeof child);
    int rc = tu_run(out, sizeof out, "$CMACT %s", lines[i]);
    assert_int_equal(rc, 2);
    assert_int_equal(rc_child, 2);
    assert_string_equal(out, child);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_command_is_covered),
      cmocka_unit_test(test_unknown_option_first_middle_last),
      cmocka_unit_test(test_missing_value),
      cmocka_unit_test(test_bad_number),
      cmocka_unit_test(test_real_binary_agrees),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
