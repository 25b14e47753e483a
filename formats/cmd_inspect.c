/*
 * `cmact inspect FILE...`: a human summary of any cmact file, through the typed readers, so
 * what it shows is what the rest of the suite will read (committed rows only).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_dataset.h"
#include "cm_h5probe.h"
#include "cm_model.h"
#include "cm_session.h"
#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"

static const char *kind_str(cm_stream_kind k) {
  return k == CM_STREAM_VIDEO ? "video" : k == CM_STREAM_AUDIO ? "audio" : "imu";
}

static int inspect_session(const char *path) {
  cm_session *s = cm_session_open(path);
  if (!s) return -1;
  const cm_session_meta *m = cm_session_get_meta(s);
  printf("%s: session '%s' user '%s' location '%s' host '%s'%s\n", path, m->session_id, m->user, m->location,
         m->host, m->unfinished ? "  [UNFINISHED: run cmact repair]" : "");
  printf("  written by cmact %s at %s\n", m->software_version, m->created_utc);
  /* events summarised per stream and kind */
  cm_event_row *ev = cm_xcalloc((size_t)m->n_events + 1, sizeof *ev);
  if (m->n_events) cm_session_read_events(s, 0, m->n_events, ev);
  printf("  %-12s %-6s %10s %10s %10s %8s %8s\n", "stream", "kind", "count", "duration_s", "rate_hz", "gaps", "dropped");
  for (int i = 0; i < m->n_streams; i++) {
    cm_stream_info in;
    cm_session_stream_info(s, i, &in);
    double dur = 0, rate = 0;
    int64_t gaps = 0;
    if (in.kind == CM_STREAM_IMU && in.count > 1) {
      int64_t *th = cm_xmalloc(sizeof(int64_t) * (size_t)in.count);
      if (cm_session_read_imu(s, i, 0, in.count, NULL, NULL, th) == 0) {
        dur = (th[in.count - 1] - th[0]) * 1e-9;
        rate = dur > 0 ? (in.count - 1) / dur : 0;
        double nominal = in.nominal_rate > 0 ? 1.0 / in.nominal_rate : 0;
        for (int64_t k = 1; k < in.count; k++)
          if (nominal > 0 && (th[k] - th[k - 1]) * 1e-9 > 3 * nominal) gaps++;
      }
      free(th);
    } else if (in.kind == CM_STREAM_VIDEO && in.count > 1) {
      cm_packet_row a, b;
      if (cm_session_read_packet_index(s, i, 0, 1, &a) == 0 && cm_session_read_packet_index(s, i, in.count - 1, 1, &b) == 0) {
        dur = (b.t_host_ns - a.t_host_ns) * 1e-9;
        rate = dur > 0 ? (in.count - 1) / dur : 0;
      }
    } else if (in.kind == CM_STREAM_AUDIO && in.sample_rate > 0) {
      dur = (double)in.count / in.sample_rate;
      rate = in.sample_rate;
    }
    double dropped = 0;
    for (int64_t k = 0; k < m->n_events; k++)
      if (strcmp(ev[k].stream, in.name) == 0) {
        if (strstr(ev[k].kind, "drop") || strstr(ev[k].kind, "lost")) dropped += ev[k].value;
        if (strcmp(ev[k].kind, "gap") == 0) gaps++;
      }
    printf("  %-12s %-6s %10lld %10.2f %10.2f %8lld %8.0f\n", in.name, kind_str(in.kind), (long long)in.count, dur, rate,
           (long long)gaps, dropped);
  }
  if (m->n_chrony > 0) {
    cm_chrony_row *c = cm_xmalloc(sizeof *c * (size_t)m->n_chrony);
    if (cm_session_read_chrony(s, 0, m->n_chrony, c) == 0) {
      double mn = INFINITY, mx = -INFINITY, sum = 0, unc = 0;
      int unsynced = 0;
      for (int64_t k = 0; k < m->n_chrony; k++) {
        double o = c[k].current_correction;
        mn = o < mn ? o : mn;
        mx = o > mx ? o : mx;
        sum += o;
        double u = c[k].root_delay / 2 + c[k].root_dispersion;
        unc = u > unc ? u : unc;
        unsynced += c[k].leap_status == 3;
      }
      printf("  clock: %lld chrony records, offset mean %+.6f s (min %+.6f, max %+.6f), max uncertainty %.6f s%s\n",
             (long long)m->n_chrony, sum / m->n_chrony, mn, mx, unc, unsynced ? ", UNSYNCHRONISED at times" : "");
    }
    free(c);
  } else {
    printf("  clock: no chrony records (clock metadata missing)\n");
  }
  if (m->n_labels > 0) {
    cm_label_row *l = cm_xmalloc(sizeof *l * (size_t)m->n_labels);
    if (cm_session_read_labels(s, 0, m->n_labels, l) == 0) {
      printf("  labels:");
      for (int64_t k = 0; k < m->n_labels && k < 8; k++) printf(" %s(%.1fs)", l[k].activity, (l[k].end_ns - l[k].start_ns) * 1e-9);
      if (m->n_labels > 8) printf(" ... (%lld intervals)", (long long)m->n_labels);
      printf("\n");
    }
    free(l);
  }
  printf("  events: %lld", (long long)m->n_events);
  for (int64_t k = 0; k < m->n_events && k < 5; k++) printf("%s %s/%s %s", k ? ";" : ":", ev[k].stream, ev[k].kind, ev[k].detail);
  printf("\n");
  if (cm_session_has_truth(s)) printf("  ground truth: present (/truth)\n");
  free(ev);
  cm_session_close(s);
  return 0;
}

static int inspect_dataset(const char *path) {
  cm_dataset *d = cm_dataset_open(path);
  if (!d) return -1;
  const cm_dataset_desc *x = cm_dataset_get_desc(d);
  printf("%s: dataset, windows %.2f s every %.2f s, video %dx%dx%dx%d, audio %d, imu %dx%d, seed %llu\n", path,
         x->window_s, x->hop_s, x->video_frames, x->video_height, x->video_width, x->video_channels, x->audio_dim,
         x->imu_steps, x->imu_channels, (unsigned long long)x->seed);
  printf("  built by: %s\n", x->command_line);
  printf("  %-16s %8s", "split", "windows");
  for (int c = 0; c < x->n_classes; c++) printf(" %11.11s", x->class_names[c]);
  printf("\n");
  for (int sp = 0; sp < cm_dataset_n_splits(d); sp++) {
    int64_t n = cm_dataset_split_size(d, sp);
    int32_t *lab = cm_xmalloc(sizeof(int32_t) * (size_t)(n + 1));
    int64_t counts[CM_MAX_CLASSES] = {0};
    if (n > 0 && cm_dataset_read(d, sp, 0, n, NULL, NULL, NULL, lab, NULL, NULL, NULL) == 0)
      for (int64_t k = 0; k < n; k++)
        if (lab[k] >= 0 && lab[k] < CM_MAX_CLASSES) counts[lab[k]]++;
    printf("  %-16s %8lld", cm_dataset_split_name(d, sp), (long long)n);
    for (int c = 0; c < x->n_classes; c++) printf(" %11lld", (long long)counts[c]);
    printf("\n");
    free(lab);
  }
  cm_dataset_close_reader(d);
  return 0;
}

static int inspect_model(const char *path) {
  cm_modelfile *m = cm_modelfile_open(path);
  if (!m) return -1;
  char arch[64] = "?", proc[64] = "", buf[128];
  cm_modelfile_architecture(m, arch, sizeof arch);
  cm_modelfile_get_attr(m, "procedure", proc, sizeof proc);
  int dims[8], nd = 0;
  char shape[64] = "?";
  if (cm_modelfile_input_shape(m, dims, 8, &nd) == 0) {
    shape[0] = 0;
    for (int i = 0; i < nd; i++) snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%d", i ? "x" : "", dims[i]);
  }
  int64_t params = 0;
  for (int i = 0; i < cm_modelfile_n_tensors(m); i++) {
    int64_t td[8];
    int tn;
    if (cm_modelfile_tensor_name(m, i, buf, sizeof buf) == 0 && cm_modelfile_tensor_shape(m, buf, td, 8, &tn) == 0) {
      int64_t p = 1;
      for (int k = 0; k < tn; k++) p *= td[k];
      params += p;
    }
  }
  printf("%s: model %s, input %s, %lld parameters in %d tensors%s%s\n", path, arch, shape, (long long)params,
         cm_modelfile_n_tensors(m), proc[0] ? ", procedure " : "", proc);
  char inputs[128];
  if (cm_modelfile_get_attr(m, "inputs", inputs, sizeof inputs) == 0) printf("  inputs: %s\n", inputs);
  char names[CM_MAX_CLASSES][24];
  int nc;
  if (cm_modelfile_classes(m, names, CM_MAX_CLASSES, &nc) == 0) {
    printf("  classes:");
    for (int i = 0; i < nc; i++) printf(" %s", names[i]);
    printf("\n");
  }
  char cols[256];
  double *rows;
  int nr, ncol;
  if (cm_modelfile_get_history(m, cols, sizeof cols, &rows, &nr, &ncol) == 0) {
    printf("  history: %d epochs (%s)", nr, cols);
    if (nr > 0) {
      printf("; last:");
      for (int k = 0; k < ncol; k++) printf(" %g", rows[(size_t)(nr - 1) * ncol + k]);
    }
    printf("\n");
    free(rows);
  }
  cm_modelfile_close_reader(m);
  return 0;
}

int cmd_inspect(int argc, char **argv) {
  /* no options, but an option-looking word is a mistyped option, not a file name */
  const cm_opt opts[] = {CM_OPT_END};
  int n_files = cm_opts_parse(opts, argc, argv, CM_OPTS_ANY); /* now argv[1..n_files] */
  if (n_files < 0) return cmact_help_exit("inspect", 1, "%s", cm_error());
  if (n_files == 0) return cmact_help_exit("inspect", 1, "give at least one FILE");
  int bad = 0;
  for (int i = 1; i <= n_files; i++) {
    int unfinished;
    cm_h5file *h = cm_h5_open(argv[i], &unfinished);
    if (!h) {
      cm_fail_error("inspect");
      bad++;
      continue;
    }
    cm_h5_ainfo ai;
    int have = cm_h5_attr(h, "/", "schema", &ai) == 0;
    cm_h5_close(h);
    int r;
    if (!have) r = cm_set_error("%s: not a cmact file (no schema attribute)", argv[i]);
    else if (strcmp(ai.str, "cmact.session") == 0) r = inspect_session(argv[i]);
    else if (strcmp(ai.str, "cmact.dataset") == 0) r = inspect_dataset(argv[i]);
    else if (strcmp(ai.str, "cmact.model") == 0) r = inspect_model(argv[i]);
    else r = cm_set_error("%s: unknown kind '%s'", argv[i], ai.str);
    if (r < 0) {
      cm_fail_error("inspect");
      bad++;
    }
  }
  return bad ? CM_EXIT_FAIL : CM_EXIT_OK;
}
