/*
 * A small synthetic dataset with the study's six splits, for the tests of the procedures and
 * for `cmact demo` when the simulator or sync is not built in. It is a toy, stated as such
 * wherever it is used: it has none of the simulator's physics.
 *
 * Each window has a hidden state z in R^4 whose mean depends on its class (plus per-window
 * noise); each modality is a different fixed random nonlinear view of the same z plus its own
 * noise, so the modalities are correlated through z and only through z:
 *   video   F x S x S x 3 frames: blob brightness and position driven by z (easy to read)
 *   audio   193 features: tanh of a random linear map of z
 *   imu     40 x 12: sinusoids whose amplitudes and phases are products of z's components
 *           (harder to read: a student learns it far better from many paired windows than
 *           from a few labels)
 * Windows come in sessions of consecutive activity segments (2 s windows, 0.4 s hop), so that a
 * time shift changes the labels of some pairs. The personalisation splits leave out classes 0
 * and 1 (the study's stairs).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "exp_synth.h"
#include "nn_rng.h"

#define Z 4

static float gauss(uint64_t key, uint64_t i) {
  float u1 = nn_uniform(key, 2 * i) + 1e-7f, u2 = nn_uniform(key, 2 * i + 1);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

int exp_synth_write(const char *path, const exp_synth_spec *sp) {
  cm_dataset_desc d;
  memset(&d, 0, sizeof d);
  d.video_frames = sp->frames, d.video_height = d.video_width = sp->side, d.video_channels = 3;
  d.audio_dim = 193, d.imu_steps = 40, d.imu_channels = 12, d.n_classes = 7;
  static const char *names[7] = {"downstairs", "upstairs", "run", "jump", "walk", "handwashing", "exercise"};
  for (int i = 0; i < 7; i++) strcpy(d.class_names[i], names[i]);
  d.window_s = 2, d.hop_s = 0.4, d.seed = sp->seed;
  snprintf(d.command_line, sizeof d.command_line, "exp_synth_write (synthetic toy dataset)");
  cm_dataset *ds = cm_dataset_create(path, &d, 1);
  if (!ds) return -1;
  static const char *splits[6] = {"pretrain", "transfer", "limited", "test", "personal_train", "personal_test"};
  const int counts[6] = {sp->n_pretrain, sp->n_transfer, sp->n_limited, sp->n_test, sp->n_personal_train,
                         sp->n_personal_test};
  const uint64_t world = nn_key(sp->seed, 0x5359, 0, 0);
  /* the world: class means of z and the modalities' fixed maps */
  float mu[7][Z], A[193][Z], P[12][Z];
  for (int c = 0; c < 7; c++)
    for (int k = 0; k < Z; k++) mu[c][k] = 1.6f * gauss(world, (uint64_t)c * Z + k);
  for (int i = 0; i < 193; i++)
    for (int k = 0; k < Z; k++) A[i][k] = gauss(world + 1, (uint64_t)i * Z + k);
  for (int i = 0; i < 12; i++)
    for (int k = 0; k < Z; k++) P[i][k] = gauss(world + 2, (uint64_t)i * Z + k);
  const size_t vsize = (size_t)sp->frames * sp->side * sp->side * 3;
  uint8_t *video = cm_xmalloc(vsize);
  float audio[193], imu[480], z[Z];
  int rc = 0, session = 0;
  uint64_t w = 0;
  for (int s = 0; s < 6 && rc == 0; s++) {
    int id = cm_dataset_add_split(ds, splits[s]);
    if (id < 0) {
      rc = -1;
      break;
    }
    int64_t t = 0;
    int y = 0, seg_left = 0;
    for (int i = 0; i < counts[s] && rc == 0; i++, w++) {
      if (seg_left == 0) { /* a new activity segment; a new session every 5 segments */
        int lo = s >= 4 ? 2 : 0;
        y = lo + (int)(nn_u64(world + 3, w) % (uint64_t)(7 - lo));
        seg_left = 6 + (int)(nn_u64(world + 4, w) % 10);
        if (nn_u64(world + 5, w) % 5 == 0 || i == 0) session++, t = 0;
      }
      seg_left--;
      uint64_t key = nn_key(sp->seed, 0x57494e, w, 0);
      for (int k = 0; k < Z; k++) z[k] = mu[y][k] + sp->noise * gauss(key, (uint64_t)k);
      for (int f = 0; f < sp->frames; f++)
        for (int r = 0; r < sp->side; r++)
          for (int q = 0; q < sp->side; q++)
            for (int ch = 0; ch < 3; ch++) {
              float cx = (0.5f + 0.2f * tanhf(z[0])) * sp->side, cy = (0.5f + 0.2f * tanhf(z[1])) * sp->side;
              float dist = ((r - cy) * (r - cy) + (q - cx) * (q - cx)) / (sp->side * sp->side * 0.05f);
              float v = 110 + 60 * tanhf(z[2 + ch % 2]) * expf(-dist) + 25 * gauss(key + 1, ((((uint64_t)f * sp->side + r) * sp->side + q) * 3 + ch));
              video[(((size_t)f * sp->side + r) * sp->side + q) * 3 + ch] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
      for (int a = 0; a < 193; a++) {
        float s2 = 0;
        for (int k = 0; k < Z; k++) s2 += A[a][k] * z[k];
        audio[a] = tanhf(0.5f * s2) + 0.3f * gauss(key + 2, (uint64_t)a);
      }
      for (int ts = 0; ts < 40; ts++)
        for (int ch = 0; ch < 12; ch++) {
          float amp = 0, ph = 0;
          for (int k = 0; k < Z; k++) amp += P[ch][k] * z[k], ph += P[(ch + 5) % 12][k] * z[(k + 1) % Z];
          imu[ts * 12 + ch] = tanhf(amp) * sinf(0.35f * ts + ph) + 0.25f * gauss(key + 3, (uint64_t)ts * 12 + ch);
        }
      cm_window win = {video, audio, imu, y, session, t, 0.02f};
      t += 400000000LL;
      rc = cm_dataset_append(ds, id, &win);
    }
  }
  free(video);
  if (rc < 0) {
    cm_dataset_abort(ds);
    return -1;
  }
  return cm_dataset_close(ds);
}
