/*
 * cmact export FILE --mp4 OUT: the command line of rec_export.c (MP4 remux, video copied).
 */
#include <stdio.h>
#include <string.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "rec_export.h"

int cmd_export(int argc, char **argv) {
  const char *in = NULL, *mp4 = NULL;
  int force = 0;
  const cm_opt opts[] = {
      CM_OPT_STRING("mp4", 0, &mp4),
      CM_OPT_FLAG("force", 0, &force),
      CM_OPT_END,
  };
  int n = cm_opts_parse(opts, argc, argv, CM_OPTS_ANY);
  if (n < 0) return cmact_help_exit("export", 1, "%s", cm_error());
  if (n > 1) return cmact_help_exit("export", 1, "one session file at a time ('%s' is extra)", argv[2]);
  if (n == 1) in = argv[1];
  if (!in) return cmact_help_exit("export", 1, "a session file is required");
  if (!mp4) return cmact_help_exit("export", 1, "--mp4 OUT.mp4 is required");
  rec_export_stats st;
  if (rec_export_mp4(in, mp4, force, &st) < 0) return cm_fail_error("export");
  printf("%-16s %s\n", "mp4", mp4);
  printf("%-16s %lld packets (%s, copied), %.2f s\n", "video", (long long)st.video_packets,
         st.video_codec[0] ? st.video_codec : "none", st.video_seconds);
  printf("%-16s %lld frames (AAC), %.2f s\n", "audio", (long long)st.audio_frames,
         st.audio_seconds);
  return CM_EXIT_OK;
}
