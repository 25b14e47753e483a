/*
 * nn_arch: the three networks of the study (DESIGN.md section 1), by name.
 *
 *   imu_cnn    input (40, 12): conv1d 16 k5 same + ReLU, maxpool 2, dropout .5, conv1d 16 k5
 *              same + ReLU, maxpool 2, dropout .5, flatten (160), dense 128 + ReLU,
 *              DENSE_2 128 + ReLU, DENSE_1 128 + ReLU, output. 56,807 parameters at 7 classes.
 *              (The second convolution must be 'same' for the flatten to be 160 wide and the
 *              count to be the paper's 57K; 'valid' would give 128 and 52.7K.)
 *   audio_mlp  input 193: 32, 1024, dropout, 596, dropout, 128, dropout, 128, 128, 128,
 *              DENSE_2 128, DENSE_1 128, output; ReLU after each hidden dense. Dropout rate
 *              0.5 (the paper does not state it). 810,779 parameters at 7 classes.
 *   video_c3d  input (frames, side, side, channels), default 45x64x64x3: four modules of
 *              conv3d 3x3x3 same + ReLU + max pooling (1x2x2 after the first, 2x2x2 after the
 *              others), widths 32, 64, 128, 128; flatten; fc 372 + ReLU + dropout .5;
 *              DENSE_2 128 + ReLU; DENSE_1 128 + ReLU; output. 4,596,603 parameters at
 *              45x64x64x3 and 7 classes (the paper's 4.6M); widths and input are parameters.
 *
 * The output layer gives logits (softmax is in the loss).
 */
#ifndef NN_ARCH_H
#define NN_ARCH_H

#include "nn_model.h"

typedef struct {
  int frames, side, channels; /* input */
  int conv[4];                /* widths of the four conv modules */
  int fc;                     /* width of the first dense layer */
} nn_video_cfg;

nn_video_cfg nn_video_default(void); /* 45x64x64x3, 32/64/128/128, fc 372 */
/* Parse "FxSxSxC" (or "FxS" meaning 3 channels) into cfg; -1 with error on garbage. */
int nn_video_parse_input(nn_video_cfg *cfg, const char *s);

nn_model *nn_arch_imu_cnn(int steps, int channels, int n_classes, uint64_t seed);
nn_model *nn_arch_audio_mlp(int dim, int n_classes, uint64_t seed);
nn_model *nn_arch_video_c3d(const nn_video_cfg *cfg, int n_classes, uint64_t seed);

/* By name ("imu_cnn", "audio_mlp", "video_c3d") with the input shape given (NULL: the
 * default). NULL with the error line set for an unknown name or shape. */
nn_model *nn_arch_build(const char *name, const int *in_shape, int in_ndim, int n_classes,
                        uint64_t seed);

#endif
