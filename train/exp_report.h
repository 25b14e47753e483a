/* Helpers for the experiments' output files (see exp.h): a growing string, atomic writes. */
#ifndef EXP_REPORT_H
#define EXP_REPORT_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct {
  char *s;
  size_t n, cap;
} strbuf;

void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(strbuf *b);
int exp_write_text(const char *path, const strbuf *b);
int exp_write_json(const char *path, cJSON *root);  /* does not free root */
cJSON *exp_json_array(const double *v, int n);       /* NaN -> null */
/* 0.9123 -> "91.23"; NaN -> "–" */
const char *exp_pct(double v, char *buf, size_t n);
const char *exp_p(double p, char *buf, size_t n);

#endif
