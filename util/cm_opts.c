/*
 * The option parser declared in cm_opts.h. One pass over argv: each argument is classified
 * (the "--" separator, an option, a positional argument), an option is looked up by name
 * BEFORE anything else is asked of it, so that an unknown option is reported as unknown
 * wherever it stands, and only then is its value taken, converted and range-checked.
 * Positional arguments are compacted into argv[1..n] as the walk goes; the write position
 * never passes the read position, so nothing unread is overwritten.
 */
#include "cm_opts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"

/* "-1", "-0.5", "-.5": a negative number is a value (label's START, a coordinate), not an
 * option; no cmact option has a digit for its alias. */
static int is_negative_number(const char *a) {
  return a[0] == '-' && (isdigit((unsigned char)a[1]) || (a[1] == '.' && isdigit((unsigned char)a[2])));
}

static int takes_value(const cm_opt *o) {
  return o->kind != CM_OPT_KIND_FLAG && o->kind != CM_OPT_KIND_ACTION;
}

/* The bounds of o as words: "must be >= 1 and <= 256". */
static void describe_range(const cm_opt *o, char *buf, size_t cap) {
  size_t k = (size_t)snprintf(buf, cap, "must be");
  if (o->range & CM_OPT_MIN)
    k += (size_t)snprintf(buf + k, k < cap ? cap - k : 0, " %s %.15g", o->range & CM_OPT_MIN_OPEN ? ">" : ">=", o->min);
  if (o->range & CM_OPT_MAX)
    snprintf(buf + k, k < cap ? cap - k : 0, "%s %s %.15g", o->range & CM_OPT_MIN ? " and" : "",
             o->range & CM_OPT_MAX_OPEN ? "<" : "<=", o->max);
}

static int in_range(const cm_opt *o, double v) {
  if (o->range & CM_OPT_MIN) {
    if (o->range & CM_OPT_MIN_OPEN ? !(v > o->min) : !(v >= o->min)) return 0;
  }
  if (o->range & CM_OPT_MAX) {
    if (o->range & CM_OPT_MAX_OPEN ? !(v < o->max) : !(v <= o->max)) return 0;
  }
  return 1;
}

/* Convert and store one value; `spelled` is the option as the user wrote it ("-j", "--out"). */
static int store(const cm_opt *o, const char *spelled, const char *v) {
  char *end;
  char why[128];
  switch (o->kind) {
  case CM_OPT_KIND_STRING:
    *(const char **)o->dest = v;
    return 0;
  case CM_OPT_KIND_CALLBACK:
    return o->fn(v, o->dest) < 0 ? -1 : 0;
  case CM_OPT_KIND_LONG:
  case CM_OPT_KIND_INT: {
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || isspace((unsigned char)*v))
      return cm_set_error("option '%s': '%s' is not an integer", spelled, v);
    if (errno == ERANGE || (o->kind == CM_OPT_KIND_INT && (n < -2147483647L - 1 || n > 2147483647L)) ||
        !in_range(o, (double)n)) {
      describe_range(o, why, sizeof why);
      return cm_set_error("option '%s': '%s' is out of range%s%s", spelled, v, o->range ? ": " : "",
                          o->range ? why : "");
    }
    if (o->kind == CM_OPT_KIND_LONG) *(long *)o->dest = n;
    else *(int *)o->dest = (int)n;
    return 0;
  }
  case CM_OPT_KIND_DOUBLE: {
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || isspace((unsigned char)*v) || !isfinite(d))
      return cm_set_error("option '%s': '%s' is not a number", spelled, v);
    if (!in_range(o, d)) {
      describe_range(o, why, sizeof why);
      return cm_set_error("option '%s': '%s' is out of range: %s", spelled, v, why);
    }
    *(double *)o->dest = d;
    return 0;
  }
  default:
    return cm_set_error("option '%s': bad option table entry", spelled);
  }
}

static const cm_opt *find_long(const cm_opt *opts, const char *name, size_t len) {
  for (const cm_opt *o = opts; o->name; o++)
    if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return o;
  return NULL;
}

static const cm_opt *find_alias(const cm_opt *opts, char c) {
  for (const cm_opt *o = opts; o->name; o++)
    if (o->alias && o->alias == c) return o;
  return NULL;
}

int cm_opts_parse(const cm_opt *opts, int argc, char **argv, int max_pos) {
  int npos = 0, only_positional = 0;
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (!only_positional && strcmp(a, "--") == 0) {
      only_positional = 1;
      continue;
    }
    if (only_positional || a[0] != '-' || a[1] == 0 || is_negative_number(a)) {
      if (max_pos != CM_OPTS_ANY && npos >= max_pos) return cm_set_error("unexpected argument '%s'", a);
      argv[1 + npos++] = a;
      continue;
    }
    /* Name first: what the option is decides everything else. */
    const cm_opt *o;
    const char *inline_value = NULL;
    char spelled[128];
    if (a[1] == '-') {
      const char *name = a + 2, *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      snprintf(spelled, sizeof spelled, "--%.*s", (int)(len < 100 ? len : 100), name);
      o = find_long(opts, name, len);
      if (eq) inline_value = eq + 1;
    } else {
      snprintf(spelled, sizeof spelled, "%.100s", a);
      o = a[2] == 0 ? find_alias(opts, a[1]) : NULL;
    }
    if (!o) return cm_set_error("unknown option '%s'", spelled);
    if (!takes_value(o)) {
      if (inline_value) return cm_set_error("option '%s' takes no value", spelled);
      if (o->kind == CM_OPT_KIND_FLAG) *(int *)o->dest = o->flag_value;
      else if (o->fn(NULL, o->dest) < 0) return -1;
      continue;
    }
    const char *v = inline_value;
    if (!v) {
      if (i + 1 >= argc) return cm_set_error("option '%s' needs a value", spelled);
      v = argv[++i];
    }
    if (store(o, spelled, v) < 0) return -1;
  }
  if (npos + 1 < argc) argv[npos + 1] = NULL;
  return npos;
}
