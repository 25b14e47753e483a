/*
 * cm_opts: the one command-line option parser of cmact's subcommands (git's parse-options,
 * small).
 *
 * A command describes its options as a table of cm_opt entries, ended by CM_OPT_END: the long
 * name (without the dashes), an optional one-letter alias, what kind of value it takes and
 * where the value goes, optionally a range. cm_opts_parse() walks argv once, in order:
 *
 *   --name value, --name=value, -a value   a value-taking option (the next argument is always
 *                                          its value, even when it starts with '-', as getopt
 *                                          does: --offsets -4,0,4 works)
 *   --name, -a                             a flag
 *   --                                     every later argument is positional
 *   -, -1.5, anything else                 a positional argument (a lone '-' and negative
 *                                          numbers are values, not options)
 *
 * The first problem ends the walk, in argv order, and is reported as one line in cm_error():
 *
 *   unknown option '--x'                   whatever comes after it, so a typo given last is
 *                                          never mistaken for a missing value
 *   option '--x' needs a value
 *   option '--force' takes no value        (--force=1)
 *   option '--steps': 'ten' is not an integer
 *   option '--lr': 'x' is not a number     (nan and inf are not numbers here either)
 *   option '--threads': '0' is out of range: must be >= 1 and <= 256
 *   unexpected argument 'x'                (more positional arguments than max_pos allows)
 *
 * The parser knows nothing of the cmact program, so that the util library stays free of it:
 * the command turns the line into its usage error, `return cmact_help_exit(CMD, 1, "%s",
 * cm_error())` (exit 2, "cmact CMD: line (see 'cmact help CMD')").
 *
 * Values that need more than a number (an enumeration, NAME=SPEC, a repeated option) take a
 * callback, which stores the value itself and returns -1 with its own complete error line on a
 * bad one. A value is stored the moment its option is read, so the last of repeated options
 * wins, as with getopt.
 *
 * Positional arguments are moved, in order, to argv[1..n] (argv[0], the command's name, stays
 * where it is; argv[n + 1] is NULL afterwards); the return value is n, or -1 on an error.
 */
#ifndef CM_OPTS_H
#define CM_OPTS_H

#include <stddef.h>

typedef enum {
  CM_OPT_KIND_END = 0,  /* the entry that ends a table */
  CM_OPT_KIND_FLAG,     /* no value: *(int *)dest = flag_value */
  CM_OPT_KIND_STRING,   /* *(const char **)dest = the value (a pointer into argv) */
  CM_OPT_KIND_LONG,     /* *(long *)dest, a base-10 integer */
  CM_OPT_KIND_INT,      /* *(int *)dest, a base-10 integer within int's range */
  CM_OPT_KIND_DOUBLE,   /* *(double *)dest, a finite number */
  CM_OPT_KIND_CALLBACK, /* fn(value, dest) */
  CM_OPT_KIND_ACTION,   /* no value: fn(NULL, dest) */
} cm_opt_kind;

/* Which bounds apply to a number (cm_opt.range). */
enum {
  CM_OPT_MIN = 1,      /* value >= min */
  CM_OPT_MAX = 2,      /* value <= max */
  CM_OPT_MIN_OPEN = 4, /* with CM_OPT_MIN: value > min */
  CM_OPT_MAX_OPEN = 8, /* with CM_OPT_MAX: value < max */
};

/* Unlimited positional arguments (max_pos of cm_opts_parse). */
#define CM_OPTS_ANY (-1)

typedef struct cm_opt {
  const char *name; /* long name without "--"; NULL ends the table */
  char alias;       /* one-letter short form ("-o"), or 0 */
  cm_opt_kind kind;
  void *dest;
  unsigned range; /* CM_OPT_MIN|CM_OPT_MAX|..., numbers only */
  double min, max;
  int flag_value; /* what a FLAG stores */
  /* CALLBACK/ACTION: store the value; 0, or -1 with a complete error line (cm_set_error). */
  int (*fn)(const char *value, void *dest);
} cm_opt;

/* Table entries. The dest argument's type is checked at compile time. */
#define CM_OPT_DEST_(type, d) ((void *)(1 ? (d) : (type *)0))
#define CM_OPT_FLAG(n, a, d) \
  {.name = (n), .alias = (a), .kind = CM_OPT_KIND_FLAG, .dest = CM_OPT_DEST_(int, d), .flag_value = 1}
#define CM_OPT_SET_INT(n, a, d, v) \
  {.name = (n), .alias = (a), .kind = CM_OPT_KIND_FLAG, .dest = CM_OPT_DEST_(int, d), .flag_value = (v)}
#define CM_OPT_STRING(n, a, d) \
  {.name = (n), .alias = (a), .kind = CM_OPT_KIND_STRING, .dest = CM_OPT_DEST_(const char *, d)}
#define CM_OPT_LONG(n, a, d) {.name = (n), .alias = (a), .kind = CM_OPT_KIND_LONG, .dest = CM_OPT_DEST_(long, d)}
#define CM_OPT_INT(n, a, d) {.name = (n), .alias = (a), .kind = CM_OPT_KIND_INT, .dest = CM_OPT_DEST_(int, d)}
#define CM_OPT_DOUBLE(n, a, d) \
  {.name = (n), .alias = (a), .kind = CM_OPT_KIND_DOUBLE, .dest = CM_OPT_DEST_(double, d)}
/* A number within [lo, hi]; `flags` picks the bounds (CM_OPT_MIN|CM_OPT_MAX|...). */
#define CM_OPT_LONG_RANGE(n, a, d, flags, lo, hi)                                                     \
  {.name = (n), .alias = (a), .kind = CM_OPT_KIND_LONG, .dest = CM_OPT_DEST_(long, d), .range = (flags), \
   .min = (lo), .max = (hi)}
#define CM_OPT_INT_RANGE(n, a, d, flags, lo, hi)                                                    \
  {.name = (n), .alias = (a), .kind = CM_OPT_KIND_INT, .dest = CM_OPT_DEST_(int, d), .range = (flags), \
   .min = (lo), .max = (hi)}
#define CM_OPT_DOUBLE_RANGE(n, a, d, flags, lo, hi)                                                       \
  {.name = (n), .alias = (a), .kind = CM_OPT_KIND_DOUBLE, .dest = CM_OPT_DEST_(double, d), .range = (flags), \
   .min = (lo), .max = (hi)}
/* A number within [lo, hi], both bounds included. */
#define CM_OPT_LONG_IN(n, a, d, lo, hi) CM_OPT_LONG_RANGE(n, a, d, CM_OPT_MIN | CM_OPT_MAX, lo, hi)
#define CM_OPT_INT_IN(n, a, d, lo, hi) CM_OPT_INT_RANGE(n, a, d, CM_OPT_MIN | CM_OPT_MAX, lo, hi)
#define CM_OPT_DOUBLE_IN(n, a, d, lo, hi) CM_OPT_DOUBLE_RANGE(n, a, d, CM_OPT_MIN | CM_OPT_MAX, lo, hi)
#define CM_OPT_CALLBACK(n, a, f, d) {.name = (n), .alias = (a), .kind = CM_OPT_KIND_CALLBACK, .dest = (d), .fn = (f)}
#define CM_OPT_ACTION(n, a, f, d) {.name = (n), .alias = (a), .kind = CM_OPT_KIND_ACTION, .dest = (d), .fn = (f)}
#define CM_OPT_END {.name = NULL}

/* Parse argv[1..argc-1] against `opts`. Returns the number of positional arguments (now at
 * argv[1..n]), or -1 with the error line set. max_pos: how many positional arguments are
 * allowed (CM_OPTS_ANY: no limit); one more is "unexpected argument". */
int cm_opts_parse(const cm_opt *opts, int argc, char **argv, int max_pos);

#endif
