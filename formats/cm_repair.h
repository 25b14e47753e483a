/*
 * Repair of a session file whose writer died (crash, power loss, SIGKILL).
 *
 * HDF5's own h5clear is not a repair tool: on a SWMR file `h5clear -s` writes back a stale
 * end-of-allocation address and truncates the data (COMPONENTS.md section 4). cmact instead
 * opens the file as a SWMR reader (which works whatever the status flags say), copies every
 * object into a new file, cuts each table back to the row count recorded in /committed, and
 * renames the new file into place. Rows that were never committed are dropped; nothing that
 * was committed is lost. The original is kept as PATH.unrepaired unless asked otherwise.
 */
#ifndef CM_REPAIR_H
#define CM_REPAIR_H

#include <stdint.h>

typedef struct {
  int was_unfinished;   /* 0: the file was already closed and was left alone */
  int64_t rows_dropped; /* rows past the committed counts, over all tables */
  int n_tables;
} cm_repair_report;

int cm_session_repair(const char *path, int keep_backup, cm_repair_report *rep);

#endif
