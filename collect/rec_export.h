/*
 * rec_export: a session file's video and audio as an MP4 that any player opens, so a recording
 * can be checked by eye and ear. The video packets are copied, never decoded: the stored H.264
 * Annex B stream (or MJPEG) goes into the MP4 as it is, with its SPS/PPS taken from the first
 * keyframe as the codec's extradata (the MP4 muxer converts Annex B to its length-prefixed form
 * itself). The PCM audio is encoded to AAC, since MP4 players rarely take raw PCM.
 *
 * Both streams are placed on one timeline by their capture times (t_host_ns): time zero is the
 * earlier of the first frame and the first audio block. Video timestamps are the stored ones
 * (1/90000 s); audio runs contiguously from its first block (gaps recorded as events are not
 * filled with silence). A file whose recorder was killed exports up to its committed rows;
 * packets before the first keyframe are skipped, because no player could decode them.
 */
#ifndef REC_EXPORT_H
#define REC_EXPORT_H

#include <stdint.h>

typedef struct {
  int64_t video_packets, audio_frames;
  double video_seconds, audio_seconds;
  char video_codec[16];
} rec_export_stats;

/* 0, or -1 with cm_error() naming the file at fault. */
int rec_export_mp4(const char *session_path, const char *mp4_path, int overwrite,
                   rec_export_stats *st);

#endif
