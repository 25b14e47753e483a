/* `cmact repair FILE`: close a recording that was cut off (see cm_repair.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cm_repair.h"
#include "cm_util.h"
#include "cmds.h"

int cmd_repair(int argc, char **argv) {
  int keep = 1;
  static const struct option opts[] = {{"no-backup", no_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == 'n') keep = 0;
    else return cmact_help_exit("repair", 1, "unknown option '%s'", argv[optind - 1]);
  }
  if (optind != argc - 1) return cmact_help_exit("repair", 1, "give exactly one FILE");
  const char *path = argv[optind];
  cm_repair_report rep;
  if (cm_session_repair(path, keep, &rep) < 0) return cm_fail_error("repair");
  if (!rep.was_unfinished) {
    printf("%s: already a closed file; nothing to repair\n", path);
    return CM_EXIT_OK;
  }
  printf("%s: repaired: %d tables kept up to their committed rows, %lld uncommitted rows dropped%s\n",
         path, rep.n_tables, (long long)rep.rows_dropped, keep ? "; original kept as FILE.unrepaired" : "");
  return CM_EXIT_OK;
}
