/*
 * exp_sync_build: how the sweeps over injected clock offsets (exp_sync.c, exp_fusion.c) get
 * their windows: by running the cmact binary's own `sync --inject-offset MOD=S` on session
 * files (the shift is applied to the raw stream by timestamp before windowing, never by
 * splicing finished windows), with a split file that puts every window into the one split
 * 'transfer', and by bringing the windows read from such a dataset onto the aligned study
 * dataset's standardisation.
 */
#ifndef EXP_SYNC_BUILD_H
#define EXP_SYNC_BUILD_H

#include <stddef.h>

#include "exp.h"
#include "exp_sync_sessions.h"

/* Write DIR/sync/transfer_only_split.json (DIR = o->out): every window of every session into
 * 'transfer' (no test draw, no personalisation location). Its path goes to path. */
int exp_sync_split_file(const exp_opts *o, char *path, size_t n);

/* Run `cmact sync` (o->cmact, or this program) on the files of sessions l->v[idx[0..n_idx)]
 * with `--inject-offset MOD=OFF --split SPLIT` and o->sync_args into OUT_H5; its output goes
 * to OUT_H5 with .h5 replaced by .log. -1 with the error line naming the log on failure. */
int exp_sync_run(const exp_opts *o, const exp_session_list *l, const size_t *idx, size_t n_idx, const char *mod,
                 double off, const char *split, const char *out_h5);

/* Bring a set read with dataset `from_path`'s standardisation onto dataset `to`'s (IMU and audio
 * are standardised per channel with each file's own /stats; video is not). */
void exp_restandardise(proc_set *s, const char *from_path, cm_dataset *to, const cm_dataset_desc *desc);

#endif
