/*
 * The schemas of cmact's three file kinds (session.json, dataset.json, model.json in this
 * folder) are compiled into the program. The validator checks files against them and
 * `cmact schema` prints them as Markdown (docs/formats.md is that output, and a test keeps it
 * equal), so the documentation and the checks read one text and cannot drift apart.
 */
#ifndef SCHEMA_H
#define SCHEMA_H

#include <stdio.h>

#include <cjson/cJSON.h>

/* The parsed schema of a kind ("cmact.session", or the short "session"); NULL if unknown.
 * Parsed once per process; never freed. */
const cJSON *cm_schema_get(const char *kind);
/* Names of all kinds, NULL-terminated. */
const char *const *cm_schema_kinds(void);
/* Print a kind's schema as Markdown. */
int cm_schema_markdown(const char *kind, FILE *out);

/* Validate one file: every violation is printed to `out` as "FILE: PATH: problem". Returns
 * the number of violations (0 = valid). *unfinished is set for a recording whose writer never
 * closed it (not a violation: it is reported, with what it holds, as a note). */
int cm_validate_file(const char *path, FILE *out, int *unfinished);

#endif
