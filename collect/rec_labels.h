/*
 * rec_labels: the arithmetic of `cmact label`, kept apart from files so that it is tested on
 * its own. A new interval replaces whatever it overlaps: existing labels are cut around it
 * (one may split in two), then it is inserted; the result is sorted by start. Removing is the
 * same cut without the insertion.
 */
#ifndef REC_LABELS_H
#define REC_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "cm_session.h"

/* Apply [add->start_ns, add->end_ns) to labels in[0..n): out must hold n + 2 rows. With
 * remove != 0 the interval is only cleared. Returns the number of rows in out. */
size_t rec_labels_apply(const cm_label_row *in, size_t n, const cm_label_row *add, int remove,
                        cm_label_row *out);

/* Parse a label time: "2.5" (seconds after origin_ns), "@1795626482.8" (Unix seconds) or
 * "2026-11-25T17:08:02.835Z" (UTC). 0, or -1 with cm_error() naming `what`. */
int rec_labels_parse_time(const char *s, int64_t origin_ns, const char *what, int64_t *out_ns);

#endif
