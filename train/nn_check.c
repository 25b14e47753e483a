/*
 * Whether a model file loads into the network it describes, for `cmact validate`. The schema
 * sees groups, types and attributes; only the engine knows that the layer list and the stored
 * tensors agree (every shape follows from the input shape, layer by layer), that the output
 * layer has one unit per class name, and (formats/ refuses them on reading) that no weight is
 * NaN or infinite. Fusion models (two inputs, no single layer list) are loaded by their own
 * reader, which checks its parts the same way.
 */
#include "nn_check.h"

#include <string.h>

#include "cm_model.h"
#include "cm_util.h"
#include "nn_fusion.h"

#define MAX_NAMES 64

int nn_model_file_check(const char *path) {
  cm_modelfile *f = cm_modelfile_open(path);
  if (!f) return -1;
  char buf[4096];
  int fusion = cm_modelfile_get_attr(f, "inputs", buf, sizeof buf) == 0;
  /* class names are optional (a model cut for transfer may have none) */
  int named = cm_modelfile_get_attr(f, "class_names", buf, sizeof buf) == 0;
  cm_modelfile_close_reader(f);
  char names[MAX_NAMES][24];
  int n_classes = 0;
  if (fusion) {
    nn_fusion *fu = nn_fusion_load(path, named ? names : NULL, MAX_NAMES, &n_classes);
    int ok = fu != NULL;
    nn_fusion_free(fu);
    return ok ? 0 : -1;
  }
  nn_model *m = nn_model_load(path, NULL, 0, named ? names : NULL, MAX_NAMES, &n_classes);
  if (!m) return -1;
  int rc = 0;
  if (m->n_layers > 0 && strcmp(m->layers[m->n_layers - 1].name, "output") == 0 && n_classes > 0 &&
      (size_t)n_classes != nn_output_size(m))
    rc = cm_set_error("%s: %d class names but the output layer has %zu units", path, n_classes,
                      nn_output_size(m));
  nn_model_free(m);
  return rc;
}
