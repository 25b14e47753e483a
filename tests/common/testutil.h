/*
 * Helpers shared by the cmocka tests: running the cmact program and capturing its output,
 * scratch directories that are removed afterwards, and locating reference data.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Run a shell command line; capture stdout+stderr (up to cap bytes) into out. Returns the exit
 * status (or 128+signal). The command may use $CMACT for the program. */
int tu_run(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A fresh scratch directory under $TMPDIR (or /tmp); tu_rmtree removes it. */
char *tu_mkdtemp(const char *tag);
void tu_rmtree(const char *dir);
/* Path join into a static rotating buffer (valid for a few calls). */
const char *tu_path(const char *dir, const char *name);
/* The shared reference folder if present, else NULL (tests then skip with a message). */
const char *tu_shared_dir(void);
int tu_file_exists(const char *path);
/* Read a whole file (malloc'd, NUL-terminated). */
char *tu_read_file(const char *path, size_t *n);
int tu_files_equal(const char *a, const char *b);

#endif
