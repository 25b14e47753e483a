/* `cmact validate FILE...` and `cmact schema KIND`: the schema-driven checker and its docs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cm_util.h"
#include "cmds.h"
#include "schema.h"

int cmd_validate(int argc, char **argv) {
  int quiet = 0;
  static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'}, {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
    if (c == 'q') quiet = 1;
    else return cmact_help_exit("validate", 1, "unknown option '%s'", argv[optind - 1]);
  }
  if (optind >= argc) return cmact_help_exit("validate", 1, "give at least one FILE");
  int bad = 0;
  for (int i = optind; i < argc; i++) {
    int unfinished;
    int n = cm_validate_file(argv[i], stdout, &unfinished);
    if (n) {
      bad++;
      printf("%s: INVALID (%d violation%s)\n", argv[i], n, n == 1 ? "" : "s");
    } else if (!quiet) {
      printf("%s: valid%s\n", argv[i], unfinished ? " (unfinished recording)" : "");
    }
  }
  return bad ? CM_EXIT_FAIL : CM_EXIT_OK;
}

int cmd_schema(int argc, char **argv) {
  if (argc < 2) {
    for (const char *const *k = cm_schema_kinds(); *k; k++)
      if (cm_schema_markdown(*k, stdout) < 0) return cm_fail_error("schema");
    return CM_EXIT_OK;
  }
  for (int i = 1; i < argc; i++)
    if (cm_schema_markdown(argv[i], stdout) < 0) return cmact_help_exit("schema", 1, "%s", cm_error());
  return CM_EXIT_OK;
}
