/*
 * cmact label FILE START END ACTIVITY: adds or corrects one label interval of a finished
 * session file. Relative times count from the start of the recording in reference time: the
 * earliest first capture time of any stream, plus chronyd's correction at the first answer
 * (the same rule `cmact record --label` uses). The arithmetic is rec_labels.c; the rewrite is
 * cm_session_rewrite_labels().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_session.h"
#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "rec_activities.h"
#include "rec_labels.h"

/* The recording's start in reference time, and its labels (malloc'd). */
static int read_file(const char *path, int64_t *origin, cm_label_row **labels, size_t *n) {
  cm_session *s = cm_session_open(path);
  if (!s) return -1;
  const cm_session_meta *m = cm_session_get_meta(s);
  int64_t first = INT64_MAX;
  for (int i = 0; i < m->n_streams; i++) {
    cm_stream_info si;
    if (cm_session_stream_info(s, i, &si) < 0) goto fail;
    if (si.count <= 0) continue;
    int64_t t = INT64_MAX;
    if (si.kind == CM_STREAM_VIDEO) {
      cm_packet_row r;
      if (cm_session_read_packet_index(s, i, 0, 1, &r) < 0) goto fail;
      t = r.t_host_ns;
    } else if (si.kind == CM_STREAM_AUDIO) {
      cm_audio_block_row b;
      if (si.n_blocks <= 0) continue;
      if (cm_session_read_audio_blocks(s, i, 0, 1, &b) < 0) goto fail;
      t = b.t_host_ns;
    } else {
      float xyz[6];
      int64_t td, th;
      if (cm_session_read_imu(s, i, 0, 1, xyz, &td, &th) < 0) goto fail;
      t = th;
    }
    if (t < first) first = t;
  }
  if (first == INT64_MAX) first = 0;
  if (m->n_chrony > 0) {
    cm_chrony_row c;
    if (cm_session_read_chrony(s, 0, 1, &c) < 0) goto fail;
    first += (int64_t)llround(c.current_correction * 1e9);
  }
  *origin = first;
  *n = (size_t)m->n_labels;
  *labels = cm_xcalloc(*n + 2, sizeof **labels);
  if (*n && cm_session_read_labels(s, 0, (int64_t)*n, *labels) < 0) {
    free(*labels);
    goto fail;
  }
  cm_session_close(s);
  return 0;
fail:
  cm_session_close(s);
  return -1;
}

int cmd_label(int argc, char **argv) {
  /* no options: the parser still answers an unknown one as such (a negative START is a value) */
  const cm_opt opts[] = {CM_OPT_END};
  int npos = cm_opts_parse(opts, argc, argv, CM_OPTS_ANY);
  if (npos < 0) return cmact_help_exit("label", 1, "%s", cm_error());
  if (npos != 4)
    return cmact_help_exit("label", 1, "expected FILE START END ACTIVITY (%d arguments given)", npos);
  const char *path = argv[1], *activity = argv[4];
  int remove = strcmp(activity, "none") == 0;
  if (!remove && !cm_activity_valid(activity))
    return cmact_help_exit("label", 1, "ACTIVITY '%s': expected one of %s, or none", activity,
                           cm_activity_list());
  int64_t origin;
  cm_label_row *labels;
  size_t n;
  /* Parse the times first with a dummy origin, so a typo is a usage error before any I/O. */
  int64_t t;
  if (rec_labels_parse_time(argv[2], 0, "START", &t) < 0 ||
      rec_labels_parse_time(argv[3], 0, "END", &t) < 0)
    return cmact_help_exit("label", 1, "%s", cm_error());
  if (read_file(path, &origin, &labels, &n) < 0) return cm_fail_error("label");
  cm_label_row add = {0};
  rec_labels_parse_time(argv[2], origin, "START", &add.start_ns);
  rec_labels_parse_time(argv[3], origin, "END", &add.end_ns);
  if (add.end_ns <= add.start_ns) {
    free(labels);
    return cmact_help_exit("label", 1, "END (%s) must be after START (%s)", argv[3], argv[2]);
  }
  snprintf(add.activity, sizeof add.activity, "%s", remove ? "" : activity);
  cm_label_row *out = cm_xcalloc(n + 2, sizeof *out);
  size_t k = rec_labels_apply(labels, n, &add, remove, out);
  int rc = cm_session_rewrite_labels(path, out, k);
  if (rc == 0) {
    printf("%-12s %-12s %s\n", "start_s", "end_s", "activity");
    for (size_t i = 0; i < k; i++)
      printf("%-12.3f %-12.3f %s\n", (out[i].start_ns - origin) / 1e9,
             (out[i].end_ns - origin) / 1e9, out[i].activity);
  }
  free(labels);
  free(out);
  return rc == 0 ? CM_EXIT_OK : cm_fail_error("label");
}
