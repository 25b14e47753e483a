/* `cmact validate FILE...` and `cmact schema KIND`: the schema-driven checker and its docs. */
#include <stdio.h>
#include <string.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "schema.h"

int cmd_validate(int argc, char **argv) {
  int quiet = 0;
  const cm_opt opts[] = {CM_OPT_FLAG("quiet", 'q', &quiet), CM_OPT_END};
  int npos = cm_opts_parse(opts, argc, argv, CM_OPTS_ANY);
  if (npos < 0) return cmact_help_exit("validate", 1, "%s", cm_error());
  if (npos == 0) return cmact_help_exit("validate", 1, "give at least one FILE");
  int bad = 0;
  for (int i = 1; i <= npos; i++) {
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
  const cm_opt opts[] = {CM_OPT_END};
  int npos = cm_opts_parse(opts, argc, argv, CM_OPTS_ANY);
  if (npos < 0) return cmact_help_exit("schema", 1, "%s", cm_error());
  if (npos == 0) {
    for (const char *const *k = cm_schema_kinds(); *k; k++)
      if (cm_schema_markdown(*k, stdout) < 0) return cm_fail_error("schema");
    return CM_EXIT_OK;
  }
  for (int i = 1; i <= npos; i++)
    if (cm_schema_markdown(argv[i], stdout) < 0) return cmact_help_exit("schema", 1, "%s", cm_error());
  return CM_EXIT_OK;
}
