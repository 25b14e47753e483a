/*
 * cmact: one program, one dispatch table of subcommands (git's design). Each entry names the
 * function in its stage's cmd_<name>.c, a one-line summary for `cmact --help`, and the usage
 * text shown by `cmact help CMD` and `cmact CMD --help`. Adding a command is one line here and
 * one prototype in cmds.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cm_util.h"
#include "cmds.h"

struct command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
  const char *usage;
};

static const struct command commands[] = {
    {"sync", cmd_sync, "align session files on one timeline and build the windowed dataset",
     "usage: cmact sync [OPTIONS] SESSION.h5|FOLDER... --out DATASET.h5\n"
     "\n"
     "Aligns every session's streams on the reference timeline (sensor clock -> host clock on the\n"
     "lower envelope of arrival times, host -> NTP time from the chrony answers, then a cross-modal\n"
     "refinement of each wrist against the camera where the cross-correlation is confident), cuts\n"
     "windows, splits them and writes the dataset. Files sharing a session_id are one session.\n"
     "\n"
     "  --out, -o PATH        dataset file to write (required; PATH.report.json gets the report)\n"
     "  --force               overwrite an existing dataset\n"
     "  --split FILE          split file (JSON, see README); default: the study's split\n"
     "  --seed N              seed of every draw (overrides the split file's)\n"
     "  --threads, -j N       worker threads (default 2); output is identical for any N\n"
     "  --window S, --hop S   window length and hop in seconds (default 2.0, 0.4)\n"
     "  --frames N --size PX  video frames per window and frame side (default 45, 64)\n"
     "  --imu-steps N         IMU steps per window (default 40)\n"
     "  --keep-straddling     keep windows across an activity change, labelled by majority\n"
     "  --no-refine           no cross-modal refinement (clock model only)\n"
     "  --max-gap S           a hole longer than this drops the windows over it (default 0.25)\n"
     "  --inject-offset MOD=S shift stream MOD (video, audio, imu, imu_left, imu_right) by S seconds\n"
     "                        after alignment, on purpose (experiments on sync error)\n"
     "  --inject-drift MOD=PPM  the same as a drift, counted from the stream's first sample\n"
     "  --report FILE         where to write the JSON report\n"},
    /* ENTRIES */
    {NULL, NULL, NULL, NULL},
};


static const struct command *find_command(const char *name) {
  for (size_t i = 0; commands[i].name; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

const char *cmact_usage(const char *cmd) {
  const struct command *c = find_command(cmd);
  return c ? c->usage : "";
}

int cmact_help_exit(const char *cmd, int is_error, const char *fmt, ...) {
  if (!is_error) {
    fputs(cmact_usage(cmd), stdout);
    return CM_EXIT_OK;
  }
  char line[1024] = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
  }
  fprintf(stderr, "cmact %s: %s (see 'cmact help %s')\n", cmd, line, cmd);
  return CM_EXIT_USAGE;
}

int cmact_wants_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
  }
  return 0;
}

static void print_overview(FILE *f) {
  fprintf(f,
          "usage: cmact [--version] [--help] COMMAND [ARGS]\n"
          "\n"
          "Record, align and window multimodal activity data (video, audio, wrist IMU) and run\n"
          "cross-modal knowledge transfer on it (the RecycleML study on CMActivity).\n"
          "\n"
          "Commands:\n");
  for (size_t i = 0; commands[i].name; i++)
    fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n'cmact help COMMAND' or 'cmact COMMAND --help' shows a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    print_overview(stderr);
    return CM_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
    print_overview(stdout);
    return CM_EXIT_OK;
  }
  if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
    printf("cmact %s\n", CMACT_VERSION);
    return CM_EXIT_OK;
  }
  if (strcmp(name, "help") == 0) {
    if (argc < 3) {
      print_overview(stdout);
      return CM_EXIT_OK;
    }
    const struct command *c = find_command(argv[2]);
    if (!c) {
      fprintf(stderr, "cmact help: '%s' is not a cmact command (see 'cmact --help')\n", argv[2]);
      return CM_EXIT_USAGE;
    }
    fputs(c->usage, stdout);
    return CM_EXIT_OK;
  }
  const struct command *c = find_command(name);
  if (!c) {
    fprintf(stderr, "cmact: '%s' is not a cmact command (see 'cmact --help')\n", name);
    return CM_EXIT_USAGE;
  }
  if (cmact_wants_help(argc - 1, argv + 1)) {
    fputs(c->usage, stdout);
    return CM_EXIT_OK;
  }
  return c->fn(argc - 1, argv + 1);
}
