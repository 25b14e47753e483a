/*
 * rec_capture: the GStreamer half of `cmact record`. It turns a video source description and an
 * audio source description (anything gst-launch accepts: "v4l2src device=/dev/video0",
 * "videotestsrc is-live=true", "pulsesrc", "udpsrc ... ! rtpvrawdepay", ...) into one pipeline
 *
 *   VIDEO-SRC ! queue(leaky) ! videoconvert ! videoscale ! video/x-raw,format=I420[,size,rate]
 *             ! x264enc (byte-stream, AU-aligned) | jpegenc ! appsink
 *   AUDIO-SRC ! queue(leaky) ! audioconvert ! audioresample ! audio/x-raw,S16LE[,rate,channels]
 *             ! appsink
 *
 * and hands the caller a stream of items: encoded video packets exactly as the encoder made
 * them, and PCM blocks at the device's own rate. The format=I420 caps matter: without them
 * x264enc negotiates Y444 and writes High 4:4:4 Predictive, which most players refuse.
 *
 * Threads: appsink callbacks run on GStreamer's streaming threads; they only copy the buffer,
 * stamp it and queue it. Everything else (HDF5, chrony, status line) happens on the caller's
 * thread, which pulls items with rec_capture_next(). The queue is bounded in bytes; if the
 * caller falls that far behind, items are dropped and counted (the recorder turns the counts
 * into events), so a slow disk never stalls the capture threads.
 *
 * Time: a live source stamps each buffer with its running time. running time + the pipeline's
 * base time is a reading of the pipeline clock (the system clock, or an audio device's clock
 * when the audio source provides one); it is mapped to CLOCK_REALTIME by reading both clocks
 * back to back when the buffer arrives: t_host = realtime_now - (clock_now - clock_at_capture).
 * The capture latency (buffer in the source to appsink) is therefore kept, not lost.
 */
#ifndef REC_CAPTURE_H
#define REC_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rec_capture rec_capture;

typedef struct {
  const char *video_src;   /* NULL: no video; "" or "auto": v4l2src */
  const char *audio_src;   /* NULL: no audio; "" or "auto": pulsesrc if a server answers, else alsasrc */
  const char *video_codec; /* "h264" (default) or "mjpeg" */
  int width, height;       /* 0: as the source delivers */
  int fps_num, fps_den;    /* 0: as the source delivers */
  int bitrate_kbps;        /* h264; 0: 2000 */
  int jpeg_quality;        /* mjpeg; 0: 85 */
  int audio_rate;          /* 0: the device's rate */
  int audio_channels;      /* 0: the device's channel count */
} rec_capture_opts;

typedef enum { REC_ITEM_VIDEO = 1, REC_ITEM_AUDIO = 2 } rec_item_kind;

typedef struct {
  rec_item_kind kind;
  uint8_t *data; /* malloc'd; the caller frees it */
  size_t size;
  int64_t pts_ns, dts_ns, duration_ns; /* running time; -1 when the buffer had none */
  int64_t t_host_ns;                   /* capture time, CLOCK_REALTIME */
  int key;                             /* video: not a delta unit */
  int discont;                         /* the buffer follows a discontinuity */
} rec_item;

typedef struct {
  int width, height, fps_num, fps_den; /* video */
  char codec[16];                       /* "h264" or "mjpeg" */
  int rate, channels;                   /* audio */
} rec_formats;

typedef struct {
  uint64_t queue_dropped_video, queue_dropped_audio; /* the caller fell behind */
} rec_capture_stats;

/* The pipeline description that rec_capture_start would run (for --dry-run and messages).
 * Returns a malloc'd string or NULL with cm_error() set. */
char *rec_capture_describe(const rec_capture_opts *o);

/* Build the pipeline and set it playing. NULL with cm_error() on a bad description. */
rec_capture *rec_capture_start(const rec_capture_opts *o);

/* Wait until every enabled stream has delivered its first buffer (so that its negotiated
 * format is known), at most timeout_ms. 0 and *f filled, or -1 with cm_error(). */
int rec_capture_wait_formats(rec_capture *c, int timeout_ms, rec_formats *f);

/* The next item, waiting at most timeout_ms. Returns 1 (an item), 0 (timeout), 2 (every
 * stream has ended: end of stream after rec_capture_stop or from the sources), -1 (pipeline
 * error, cm_error() holds GStreamer's message). */
int rec_capture_next(rec_capture *c, rec_item *it, int timeout_ms);

/* Ask every source to end (end-of-stream): items keep coming until rec_capture_next returns 2. */
void rec_capture_stop(rec_capture *c);

void rec_capture_get_stats(rec_capture *c, rec_capture_stats *s);

/* Stop the pipeline at once and free everything (queued items are discarded). */
void rec_capture_free(rec_capture *c);

#endif
