/* Whether a model file loads and holds usable weights (see nn_check.c). */
#ifndef NN_CHECK_H
#define NN_CHECK_H

/* 0 when PATH loads into its network with finite weights and consistent class names;
 * -1 with the error line set (naming PATH) otherwise. */
int nn_model_file_check(const char *path);

#endif
