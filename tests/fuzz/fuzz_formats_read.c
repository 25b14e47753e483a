/*
 * libFuzzer target: mutated bytes as a cmact file, fed to every reader a user can point at a
 * file (validate, the session/dataset/model readers, reading every committed row). Any crash,
 * leak or sanitizer report is a finding; a clean error line is the expected outcome.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_dataset.h"
#include "cm_model.h"
#include "cm_session.h"
#include "schema.h"

static void read_session(const char *path) {
  cm_session *s = cm_session_open(path);
  if (!s) return;
  const cm_session_meta *m = cm_session_get_meta(s);
  for (int i = 0; i < m->n_streams; i++) {
    cm_stream_info in;
    if (cm_session_stream_info(s, i, &in) < 0) continue;
    int64_t n = in.count < 256 ? in.count : 256;
    if (in.kind == CM_STREAM_IMU) {
      float *x = malloc(sizeof(float) * 6 * (size_t)(n + 1));
      int64_t *t = malloc(sizeof(int64_t) * (size_t)(n + 1));
      cm_session_read_imu(s, i, 0, n, x, t, t);
      free(x);
      free(t);
    } else if (in.kind == CM_STREAM_VIDEO) {
      cm_packet_row r[256];
      if (cm_session_read_packet_index(s, i, 0, n, r) == 0)
        for (int64_t k = 0; k < n; k++) {
          if (r[k].size > (1u << 20)) continue;
          uint8_t *b = malloc(r[k].size + 1);
          cm_session_read_packet_bytes(s, i, r[k].offset, r[k].size, b);
          free(b);
        }
    } else if (in.kind == CM_STREAM_AUDIO && in.channels > 0 && in.channels <= 16) {
      int16_t *p = malloc(sizeof(int16_t) * (size_t)(n + 1) * (size_t)in.channels);
      cm_session_read_audio(s, i, 0, n, p);
      free(p);
    }
  }
  cm_label_row l[16];
  cm_session_read_labels(s, 0, m->n_labels < 16 ? m->n_labels : 16, l);
  cm_session_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/dev/shm/cmact-fuzz-%d.h5", (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  FILE *devnull = fopen("/dev/null", "w");
  int unfinished;
  cm_validate_file(path, devnull, &unfinished);
  fclose(devnull);
  read_session(path);
  cm_dataset *d = cm_dataset_open(path);
  if (d) {
    for (int sp = 0; sp < cm_dataset_n_splits(d); sp++) {
      int64_t n = cm_dataset_split_size(d, sp);
      int32_t lab[64];
      cm_dataset_read(d, sp, 0, n < 64 ? n : 64, NULL, NULL, NULL, lab, NULL, NULL, NULL);
    }
    cm_dataset_close_reader(d);
  }
  cm_modelfile *m = cm_modelfile_open(path);
  if (m) cm_modelfile_close_reader(m);
  unlink(path);
  return 0;
}
