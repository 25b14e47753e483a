/* Loading the embedded schemas and rendering them as Markdown; see schema.h. */
#include "schema.h"

#include <pthread.h>
#include <string.h>

#include "cm_util.h"

extern const struct {
  const char *name;
  const char *json;
} cm_schema_texts[];

#define N_KINDS 3
static const char *const kinds[N_KINDS + 1] = {"cmact.session", "cmact.dataset", "cmact.model", NULL};
static cJSON *parsed[N_KINDS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void parse_all(void) {
  for (int i = 0; cm_schema_texts[i].name; i++) {
    cJSON *j = cJSON_Parse(cm_schema_texts[i].json);
    if (!j) {
      fprintf(stderr, "cmact: built-in schema %s does not parse\n", cm_schema_texts[i].name);
      continue;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "kind");
    for (int n = 0; n < N_KINDS; n++)
      if (cJSON_IsString(k) && strcmp(k->valuestring, kinds[n]) == 0) parsed[n] = j;
  }
}

const cJSON *cm_schema_get(const char *kind) {
  pthread_once(&once, parse_all);
  for (int n = 0; n < N_KINDS; n++)
    if (strcmp(kind, kinds[n]) == 0 || strcmp(kind, kinds[n] + 6) == 0) return parsed[n];
  return NULL;
}

const char *const *cm_schema_kinds(void) { return kinds; }

static const char *str(const cJSON *o, const char *key, const char *dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : dflt;
}

static int required(const cJSON *o) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "required");
  return !cJSON_IsFalse(v);
}

static void shape_text(const cJSON *o, char *buf, size_t n) {
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(o, "shape");
  buf[0] = 0;
  if (!cJSON_IsArray(sh)) return;
  strcat(buf, "(");
  const cJSON *d;
  int first = 1;
  cJSON_ArrayForEach(d, sh) {
    char part[32];
    snprintf(part, sizeof part, "%s%s", first ? "" : ", ", cJSON_IsNumber(d) ? "" : "N");
    if (cJSON_IsNumber(d)) snprintf(part, sizeof part, "%s%d", first ? "" : ", ", d->valueint);
    if (strlen(buf) + strlen(part) + 2 < n) strcat(buf, part);
    first = 0;
  }
  strcat(buf, ")");
}

static void attrs_markdown(const cJSON *list, FILE *out, const char *indent) {
  const cJSON *a;
  cJSON_ArrayForEach(a, list) {
    fprintf(out, "%s- attribute `%s` (%s%s%s)%s: %s\n", indent, str(a, "name", "?"), str(a, "type", "?"),
            str(a, "units", NULL) ? ", " : "", str(a, "units", ""), required(a) ? "" : " optional",
            str(a, "doc", ""));
  }
}

int cm_schema_markdown(const char *kind, FILE *out) {
  const cJSON *s = cm_schema_get(kind);
  if (!s) return cm_set_error("unknown file kind '%s' (session, dataset, model)", kind);
  fprintf(out, "## %s (version %d)\n\n%s\n\n", str(s, "kind", "?"),
          cJSON_GetObjectItemCaseSensitive(s, "version")->valueint, str(s, "description", ""));
  fprintf(out, "Root attributes:\n\n");
  attrs_markdown(cJSON_GetObjectItemCaseSensitive(s, "attributes"), out, "");
  fprintf(out, "\nObjects (`*` matches any name):\n\n");
  const cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(s, "objects")) {
    char shape[128];
    shape_text(o, shape, sizeof shape);
    const char *when = str(o, "when_kind", NULL);
    fprintf(out, "- `%s` %s", str(o, "path", "?"), str(o, "type", "?"));
    if (str(o, "dtype", NULL)) fprintf(out, " %s%s", str(o, "dtype", ""), shape);
    if (when) fprintf(out, " (streams of kind %s)", when);
    if (!required(o)) fprintf(out, " (optional)");
    if (str(o, "units", NULL)) fprintf(out, " [%s]", str(o, "units", ""));
    fprintf(out, ": %s\n", str(o, "doc", ""));
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "fields");
    if (cJSON_IsArray(f)) {
      fprintf(out, "  - fields:");
      const cJSON *x;
      cJSON_ArrayForEach(x, f) fprintf(out, " `%s`", x->valuestring);
      fprintf(out, "\n");
    }
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "attributes");
    if (cJSON_IsArray(at)) attrs_markdown(at, out, "  ");
  }
  fprintf(out, "\n");
  return 0;
}
