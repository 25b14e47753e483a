/* Offset datasets for the sweeps (see exp_sync_build.h). */
#include "exp_sync_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_util.h"
#include "exp_report.h"

int exp_sync_split_file(const exp_opts *o, char *path, size_t n) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/sync", o->out);
  if (exp_mkdir(dir) < 0) return -1;
  snprintf(path, n, "%s/transfer_only_split.json", dir);
  strbuf b = {0};
  sb_printf(&b, "{\"seed\": %llu, \"personal\": {\"locations\": [\"(none)\"]}, \"test\": {\"fraction\": 0},"
                " \"train\": {\"pretrain\": 0, \"transfer\": 1, \"limited\": 0}}\n",
            (unsigned long long)(o->seed + 1));
  int rc = exp_write_text(path, &b);
  sb_free(&b);
  return rc;
}

int exp_sync_run(const exp_opts *o, const exp_session_list *l, const size_t *idx, size_t n_idx, const char *mod,
                 double off, const char *split, const char *out_h5) {
  char exe[4096], log[4200];
  snprintf(log, sizeof log, "%s", out_h5);
  size_t len = strlen(log);
  if (len > 3 && strcmp(log + len - 3, ".h5") == 0) log[len - 3] = 0;
  strcat(log, ".log");
  if (o->cmact) {
    snprintf(exe, sizeof exe, "%s", o->cmact);
  } else {
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) return cm_set_error("cannot find the cmact program (give --cmact)");
    exe[k] = 0;
  }
  strbuf cmd = {0};
  sb_printf(&cmd, "'%s' sync", exe);
  for (size_t i = 0; i < n_idx; i++) {
    const exp_session_labels *x = &l->v[idx[i]];
    for (int f = 0; f < x->n_files; f++) sb_printf(&cmd, " '%s'", x->files[f]);
  }
  sb_printf(&cmd, " --out '%s' --force --split '%s' --inject-offset %s=%.6f %s > '%s' 2>&1", out_h5, split, mod, off,
            o->sync_args ? o->sync_args : "", log);
  int st = system(cmd.s);
  sb_free(&cmd);
  if (st != 0) return cm_set_error("cmact sync --inject-offset %s=%g failed (exit %d); see %s", mod, off, st, log);
  return 0;
}

void exp_restandardise(proc_set *s, const char *from_path, cm_dataset *to, const cm_dataset_desc *desc) {
  if (s->mod == NN_MOD_VIDEO || s->n == 0) return;
  const char *name = s->mod == NN_MOD_IMU ? "imu" : "audio";
  size_t n = s->mod == NN_MOD_IMU ? (size_t)desc->imu_channels : (size_t)desc->audio_dim;
  char mn[32], sn[32];
  snprintf(mn, sizeof mn, "%s_mean", name), snprintf(sn, sizeof sn, "%s_std", name);
  float *mf = cm_xmalloc(sizeof(float) * n * 4), *sf = mf + n, *mt = mf + 2 * n, *st = mf + 3 * n;
  cm_dataset *from = cm_dataset_open(from_path);
  int ok = from && cm_dataset_get_stats(from, mn, mf, n) == 0 && cm_dataset_get_stats(from, sn, sf, n) == 0 &&
           cm_dataset_get_stats(to, mn, mt, n) == 0 && cm_dataset_get_stats(to, sn, st, n) == 0;
  if (from) cm_dataset_close_reader(from);
  if (ok && s->dim % n == 0) {
    for (size_t i = 0; i < s->dim * (size_t)s->n; i++) {
      size_t ch = i % n;
      float raw = s->x[i] * (sf[ch] > 1e-12f ? sf[ch] : 1.0f) + mf[ch];
      s->x[i] = (raw - mt[ch]) / (st[ch] > 1e-12f ? st[ch] : 1.0f);
    }
  }
  free(mf);
}
