/*
 * video_decode: the encoded video of a session file (H.264 Annex B or MJPEG packets as the
 * camera sent them) decoded with libavcodec and scaled with libswscale to the small frames
 * the dataset holds (64x64 RGB) or the motion signal needs (grey).
 *
 * The decoder starts at any keyframe of the packet index and hands frames back in
 * presentation order with their pts, so a caller working through windows in time order keeps
 * only the frames it still needs: memory stays bounded whatever the length of the recording.
 * One decoder thread per decoder (thread_count 1): sessions are decoded in parallel instead,
 * and the output never depends on how libavcodec splits its work.
 */
#ifndef CM_VIDEO_DECODE_H
#define CM_VIDEO_DECODE_H

#include <stdint.h>

#include "cm_session.h"

typedef struct cm_vdec cm_vdec;

/* Open a decoder for `stream` of an open session. Frames come out out_w x out_h, 3 bytes per
 * pixel (RGB24) or 1 (grey) when gray is set. The packet index is read once here. */
cm_vdec *cm_vdec_open(cm_session *s, int stream, int out_w, int out_h, int gray);
void cm_vdec_close(cm_vdec *d);

/* The packet index (decode order) read at open. */
int64_t cm_vdec_n_packets(const cm_vdec *d);
const cm_packet_row *cm_vdec_packets(const cm_vdec *d);

/* Restart decoding at the latest keyframe whose pts is <= pts (or the first packet). */
int cm_vdec_seek_pts(cm_vdec *d, int64_t pts);

/* The next frame in presentation order: 1 with *pts and the pixels in out, 0 at the end of
 * the stream, -1 on an error that stops decoding (with cm_error() set). Packets the decoder
 * rejects are counted and skipped, not fatal. */
int cm_vdec_next(cm_vdec *d, int64_t *pts, uint8_t *out);
int64_t cm_vdec_n_bad_packets(const cm_vdec *d);

#endif
