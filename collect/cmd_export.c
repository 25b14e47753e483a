/*
 * cmact export FILE --mp4 OUT: the command line of rec_export.c (MP4 remux, video copied).
 */
#include <stdio.h>
#include <string.h>

#include "cm_util.h"
#include "cmds.h"
#include "rec_export.h"

int cmd_export(int argc, char **argv) {
  const char *in = NULL, *mp4 = NULL;
  int force = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--mp4") == 0) {
      if (i + 1 >= argc) return cmact_help_exit("export", 1, "--mp4 needs a file name");
      mp4 = argv[++i];
    } else if (strcmp(argv[i], "--force") == 0) {
      force = 1;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return cmact_help_exit("export", 1, "unknown option '%s'", argv[i]);
    } else if (!in) {
      in = argv[i];
    } else {
      return cmact_help_exit("export", 1, "one session file at a time ('%s' is extra)", argv[i]);
    }
  }
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
