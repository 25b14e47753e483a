/*
 * nn_fusion: the supervised audio+IMU fusion model (Sandha et al., IoTDI 2020, measured how
 * such a model degrades when the two streams are shifted; cmact rebuilds it to put its own
 * curve beside theirs).
 *
 *   imu branch     the study's IMU CNN (nn_arch.h imu_cnn) up to DENSE_1_relu: 128 features
 *   audio branch   the study's audio MLP up to DENSE_1_relu: 128 features
 *   head           concatenation [imu | audio] (256) -> dense `output` (n_classes) -> softmax
 *
 * Three sequential nn_models rather than a graph: each branch runs its own forward and
 * backward exactly as a single-modality model does (same layers, same kernels, same dropout
 * keys), and the only new code is the concatenation, which in backward is a split of the
 * head's input gradient. The optimizer steps the three models in turn; Adam is elementwise, so
 * that is the same update as one optimizer over all parameters.
 *
 * Initialisation: branch imu from `seed`, audio from seed + 1, head from seed + 2 (each Glorot
 * keyed by its own seed and layer index, as every cmact model), so a fusion model is a pure
 * function of its seed and the PyTorch reference (tests/train/make_reference.py) rebuilds it.
 *
 * On disk (formats/cm_model.h): architecture "fusion_imu_audio", tensors imu.LAYER/...,
 * audio.LAYER/..., head.LAYER/..., the three layer lists as attributes fusion_imu_layers,
 * fusion_audio_layers, fusion_head_layers, the input shapes as imu_input_shape and
 * audio_input_shape ("40x12", "193"), and input_shape = the IMU's (the file kind has one).
 */
#ifndef NN_FUSION_H
#define NN_FUSION_H

#include <stdint.h>

#include "nn_io.h"
#include "nn_model.h"
#include "nn_optim.h"

#define NN_FUSION_ARCH "fusion_imu_audio"

typedef struct {
  nn_model *imu, *audio, *head;
  int cap;                       /* batch capacity of the buffers below */
  float *cat, *dcat, *dimu, *daudio;
} nn_fusion;

/* A new fusion model for IMU windows (steps, channels), audio vectors of audio_dim. */
nn_fusion *nn_fusion_new(int imu_steps, int imu_channels, int audio_dim, int n_classes, uint64_t seed);
/* Assemble from three models (taken over): branches ending in equal-width flat outputs is not
 * required, the head's input must be their sum. NULL with the error line set otherwise. */
nn_fusion *nn_fusion_assemble(nn_model *imu, nn_model *audio, nn_model *head);
void nn_fusion_free(nn_fusion *f);
size_t nn_fusion_params(const nn_fusion *f);
int nn_fusion_classes(const nn_fusion *f);
void nn_fusion_print(const nn_fusion *f, FILE *out);

/* Forward a batch (x_imu [B * imu in_size], x_audio [B * audio in_size]); the logits
 * [B * n_classes] are owned by the model. Both inputs must stay valid until backward. */
float *nn_fusion_forward(nn_fusion *f, const float *x_imu, const float *x_audio, int B, int training);
/* Backward from dLoss/dlogits of the last forward: fills every model's grads, and the
 * gradients with respect to the inputs where dx_imu / dx_audio are non-NULL. */
void nn_fusion_backward(nn_fusion *f, const float *dlogits, float *dx_imu, float *dx_audio);
/* One optimizer update of all three models. */
void nn_fusion_step(const nn_optimizer *o, nn_fusion *f);
/* Copy all parameters out of / into one buffer of nn_fusion_params floats (best weights). */
void nn_fusion_get_params(const nn_fusion *f, float *buf);
void nn_fusion_set_params(nn_fusion *f, const float *buf);

/* Model files. info->architecture is ignored (always NN_FUSION_ARCH). */
int nn_fusion_save(const nn_fusion *f, const char *path, const nn_save_info *info, int overwrite);
nn_fusion *nn_fusion_load(const char *path, char class_names[][24], int max_classes, int *n_classes);

#endif
