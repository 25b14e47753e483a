/*
 * The option parser (util/cm_opts.h) on its own: every form of option it accepts, every error
 * line it gives, and where positional arguments end up. Each case builds a fresh argv (the
 * parser rearranges it) and checks both the return value and what was stored.
 */
#include <string.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "testutil.h"

/* The destinations of the test table, reset before every parse. */
static const char *out_s, *name_s;
static long steps;
static int threads, force, color;
static double lr, frac;
static char seen_enum[16];
static int actions;

static int parse_mode(const char *v, void *dest) {
  if (strcmp(v, "fast") && strcmp(v, "slow")) return cm_set_error("--mode '%s' must be fast or slow", v);
  snprintf(dest, sizeof seen_enum, "%s", v);
  return 0;
}

static int count_action(const char *v, void *dest) {
  assert_null(v);
  ++*(int *)dest;
  return 0;
}

static const cm_opt table[] = {
    CM_OPT_STRING("out", 'o', &out_s),
    CM_OPT_STRING("name", 0, &name_s),
    CM_OPT_LONG("steps", 0, &steps),
    CM_OPT_INT_RANGE("threads", 'j', &threads, CM_OPT_MIN | CM_OPT_MAX, 1, 256),
    CM_OPT_DOUBLE_RANGE("lr", 0, &lr, CM_OPT_MIN | CM_OPT_MIN_OPEN, 0, 0),
    CM_OPT_DOUBLE_RANGE("frac", 0, &frac, CM_OPT_MIN | CM_OPT_MAX | CM_OPT_MAX_OPEN, 0, 1),
    CM_OPT_FLAG("force", 'f', &force),
    CM_OPT_SET_INT("color", 0, &color, 1),
    CM_OPT_SET_INT("no-color", 0, &color, 0),
    CM_OPT_CALLBACK("mode", 0, parse_mode, seen_enum),
    CM_OPT_ACTION("tick", 0, count_action, &actions),
    CM_OPT_END,
};

static char *argv_buf[32];
static char arg_store[32][64];

/* Parse a space-separated command line (argv[0] = "cmd"). */
static int parse(const char *line, int max_pos) {
  out_s = name_s = NULL;
  steps = -7, threads = -7, force = 0, color = -1, lr = -7, frac = -7, actions = 0;
  seen_enum[0] = 0;
  int argc = 0;
  char copy[1024];
  snprintf(copy, sizeof copy, "cmd %s", line);
  for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    snprintf(arg_store[argc], sizeof arg_store[argc], "%s", strcmp(t, "''") ? t : "");
    argv_buf[argc] = arg_store[argc];
    argc++;
  }
  argv_buf[argc] = NULL;
  return cm_opts_parse(table, argc, argv_buf, max_pos);
}

static void expect_error(const char *line, const char *msg) {
  if (parse(line, CM_OPTS_ANY) != -1) fail_msg("'%s' parsed, expected error '%s'", line, msg);
  if (strcmp(cm_error(), msg) != 0) fail_msg("'%s': error '%s', expected '%s'", line, cm_error(), msg);
}

static void test_values_in_every_form(void **state) {
  assert_int_equal(parse("--out a.h5 --steps 12 --threads=4 --lr 1e-3 --frac=0.25 --name=x=y", 0), 0);
  assert_string_equal(out_s, "a.h5");
  assert_int_equal(steps, 12);
  assert_int_equal(threads, 4);
  assert_true(lr == 1e-3 && frac == 0.25);
  assert_string_equal(name_s, "x=y"); /* only the first '=' separates */
  assert_int_equal(parse("-o b.h5 -j 3 -f", 0), 0);
  assert_string_equal(out_s, "b.h5");
  assert_int_equal(threads, 3);
  assert_int_equal(force, 1);
  /* the next argument is the value even when it looks like an option */
  assert_int_equal(parse("--name --force --steps -5 --out=", 0), 0);
  assert_string_equal(name_s, "--force");
  assert_int_equal(force, 0);
  assert_int_equal(steps, -5);
  assert_string_equal(out_s, "");
  /* the last of a repeated option wins; flags set their own value */
  assert_int_equal(parse("--steps 1 --steps 2 --color --no-color", 0), 0);
  assert_int_equal(steps, 2);
  assert_int_equal(color, 0);
  assert_int_equal(parse("--mode slow --tick --tick", 0), 0);
  assert_string_equal(seen_enum, "slow");
  assert_int_equal(actions, 2);
  /* nothing given: nothing stored */
  assert_int_equal(parse("", 0), 0);
  assert_int_equal(steps, -7);
  assert_null(out_s);
}

static void test_positionals_are_collected_in_order(void **state) {
  assert_int_equal(parse("a --force b --out o.h5 c", CM_OPTS_ANY), 3);
  assert_string_equal(argv_buf[0], "cmd");
  assert_string_equal(argv_buf[1], "a");
  assert_string_equal(argv_buf[2], "b");
  assert_string_equal(argv_buf[3], "c");
  assert_null(argv_buf[4]);
  assert_string_equal(out_s, "o.h5");
  /* '-', negative numbers and everything after '--' are positional */
  assert_int_equal(parse("- -1.5 -.5 -3 -- --force -x", CM_OPTS_ANY), 6);
  assert_string_equal(argv_buf[1], "-");
  assert_string_equal(argv_buf[2], "-1.5");
  assert_string_equal(argv_buf[3], "-.5");
  assert_string_equal(argv_buf[4], "-3");
  assert_string_equal(argv_buf[5], "--force");
  assert_string_equal(argv_buf[6], "-x");
  assert_int_equal(force, 0);
  /* the limit */
  assert_int_equal(parse("a b", 2), 2);
  assert_int_equal(parse("a b c", 2), -1);
  assert_string_equal(cm_error(), "unexpected argument 'c'");
  assert_int_equal(parse("x", 0), -1);
  assert_string_equal(cm_error(), "unexpected argument 'x'");
}

static void test_unknown_option_wherever_it_stands(void **state) {
  /* first, in the middle, last: always "unknown", never "needs a value" */
  expect_error("--bogus --out a", "unknown option '--bogus'");
  expect_error("--out a --bogus --steps 3", "unknown option '--bogus'");
  expect_error("--out a --bogus", "unknown option '--bogus'");
  expect_error("--bogus=3", "unknown option '--bogus'");
  expect_error("-x", "unknown option '-x'");
  expect_error("-x 3", "unknown option '-x'");
  expect_error("-of", "unknown option '-of'"); /* no clusters */
  expect_error("--=x", "unknown option '--'");
  assert_int_equal(parse("--", 0), 0); /* the separator alone is no argument */
}

static void test_values_missing_or_bad(void **state) {
  expect_error("--out", "option '--out' needs a value");
  expect_error("--force -j", "option '-j' needs a value");
  expect_error("--force=1", "option '--force' takes no value");
  expect_error("--steps ten", "option '--steps': 'ten' is not an integer");
  expect_error("--steps 1.5", "option '--steps': '1.5' is not an integer");
  expect_error("--steps ''", "option '--steps': '' is not an integer");
  expect_error("--steps=", "option '--steps': '' is not an integer");
  expect_error("--steps 99999999999999999999", "option '--steps': '99999999999999999999' is out of range");
  expect_error("-j x", "option '-j': 'x' is not an integer");
  expect_error("--threads 0", "option '--threads': '0' is out of range: must be >= 1 and <= 256");
  expect_error("--threads 257", "option '--threads': '257' is out of range: must be >= 1 and <= 256");
  expect_error("--threads 3000000000", "option '--threads': '3000000000' is out of range: must be >= 1 and <= 256");
  expect_error("--lr abc", "option '--lr': 'abc' is not a number");
  expect_error("--lr nan", "option '--lr': 'nan' is not a number");
  expect_error("--lr inf", "option '--lr': 'inf' is not a number");
  expect_error("--lr 0", "option '--lr': '0' is out of range: must be > 0");
  expect_error("--frac 1", "option '--frac': '1' is out of range: must be >= 0 and < 1");
  expect_error("--frac -0.1", "option '--frac': '-0.1' is out of range: must be >= 0 and < 1");
  expect_error("--mode medium", "--mode 'medium' must be fast or slow");
  /* the first problem in argv order is the one reported */
  expect_error("--steps x --bogus", "option '--steps': 'x' is not an integer");
  expect_error("--bogus --steps x", "unknown option '--bogus'");
  /* the boundaries themselves are accepted */
  assert_int_equal(parse("--threads 1 --frac 0 --lr 1e-300", 0), 0);
  assert_int_equal(parse("--threads 256 --frac 0.999", 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_values_in_every_form),
      cmocka_unit_test(test_positionals_are_collected_in_order),
      cmocka_unit_test(test_unknown_option_wherever_it_stands),
      cmocka_unit_test(test_values_missing_or_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
