/*
 * rec_capture: the GStreamer capture pipeline of `cmact record`; see rec_capture.h for the
 * design (pipeline shape, threads, time mapping).
 */
#include "rec_capture.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include "cm_util.h"

#define QUEUE_CAP_BYTES (256u << 20)

typedef struct node {
  struct node *next;
  rec_item item;
} node;

struct rec_capture {
  GstElement *pipeline;
  GstAppSink *vsink, *asink;
  GstBus *bus;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  node *head, *tail;
  size_t queued_bytes;
  int video_on, audio_on;
  int video_eos, audio_eos;
  int have_video_format, have_audio_format;
  rec_formats formats;
  rec_capture_stats stats;
  char codec[16];
};

static int gst_ready(void) {
  static int done, ok;
  if (!done) {
    GError *err = NULL;
    ok = gst_init_check(NULL, NULL, &err);
    if (!ok) {
      cm_set_error("GStreamer failed to initialise: %s", err ? err->message : "unknown");
      g_clear_error(&err);
    }
    done = 1;
  }
  return ok ? 0 : cm_set_error("GStreamer failed to initialise");
}

static int is_auto(const char *s) { return !*s || strcmp(s, "auto") == 0; }

/* A PulseAudio (or pipewire-pulse) server this process could talk to. */
static int pulse_server_present(void) {
  if (getenv("PULSE_SERVER")) return 1;
  char path[512];
  const char *rt = getenv("XDG_RUNTIME_DIR");
  struct stat st;
  if (rt) {
    snprintf(path, sizeof path, "%s/pulse/native", rt);
    if (stat(path, &st) == 0) return 1;
  }
  snprintf(path, sizeof path, "/run/user/%d/pulse/native", (int)getuid());
  return stat(path, &st) == 0;
}

static const char *default_audio_source(void) {
  if (gst_ready() < 0) return "pulsesrc";
  GstElementFactory *alsa = gst_element_factory_find("alsasrc");
  int have_alsa = alsa != NULL;
  if (alsa) gst_object_unref(alsa);
  return pulse_server_present() || !have_alsa ? "pulsesrc" : "alsasrc";
}

char *rec_capture_describe(const rec_capture_opts *o) {
  if (!o->video_src && !o->audio_src) {
    cm_set_error("nothing to record: neither video nor audio");
    return NULL;
  }
  const char *codec = o->video_codec && *o->video_codec ? o->video_codec : "h264";
  if (strcmp(codec, "h264") != 0 && strcmp(codec, "mjpeg") != 0) {
    cm_set_error("--video-codec '%s': expected h264 or mjpeg", codec);
    return NULL;
  }
  GString *d = g_string_new("");
  if (o->video_src) {
    const char *src = is_auto(o->video_src) ? "v4l2src" : o->video_src;
    /* The leaky queue decouples the source's thread from the encoder's: if encoding falls
     * behind, frames are dropped here (and show up as timestamp gaps) instead of blocking a
     * camera driver. */
    g_string_append_printf(d,
                           "%s ! queue name=cmact_vqueue leaky=downstream max-size-buffers=0 "
                           "max-size-bytes=0 max-size-time=2000000000 ! videoconvert ! videoscale ! "
                           "video/x-raw,format=I420",
                           src);
    if (o->width > 0 && o->height > 0)
      g_string_append_printf(d, ",width=%d,height=%d", o->width, o->height);
    if (o->fps_num > 0)
      g_string_append_printf(d, ",framerate=%d/%d", o->fps_num, o->fps_den > 0 ? o->fps_den : 1);
    if (strcmp(codec, "h264") == 0) {
      /* zerolatency: no B-frames (dts == pts) and no lookahead; a keyframe at least every
       * 2 s so that any part of a file (also one cut short by a crash) can be played. */
      int fps = o->fps_num > 0 ? (o->fps_num + (o->fps_den > 0 ? o->fps_den : 1) - 1) /
                                     (o->fps_den > 0 ? o->fps_den : 1)
                               : 30;
      g_string_append_printf(d,
                             " ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=%d "
                             "key-int-max=%d ! video/x-h264,stream-format=byte-stream,alignment=au",
                             o->bitrate_kbps > 0 ? o->bitrate_kbps : 2000, 2 * fps);
    } else {
      g_string_append_printf(d, " ! jpegenc quality=%d ! image/jpeg",
                             o->jpeg_quality > 0 ? o->jpeg_quality : 85);
    }
    g_string_append(d, " ! appsink name=cmact_vsink sync=false max-buffers=0 drop=false");
  }
  if (o->audio_src) {
    const char *src = is_auto(o->audio_src) ? default_audio_source() : o->audio_src;
    if (d->len) g_string_append(d, "  ");
    g_string_append_printf(d,
                           "%s ! queue name=cmact_aqueue leaky=downstream max-size-buffers=0 "
                           "max-size-bytes=0 max-size-time=2000000000 ! audioconvert ! "
                           "audioresample ! audio/x-raw,format=S16LE,layout=interleaved",
                           src);
    if (o->audio_rate > 0) g_string_append_printf(d, ",rate=%d", o->audio_rate);
    if (o->audio_channels > 0) g_string_append_printf(d, ",channels=%d", o->audio_channels);
    g_string_append(d, " ! appsink name=cmact_asink sync=false max-buffers=0 drop=false");
  }
  return g_string_free(d, FALSE);
}

/* ---- the queue between streaming threads and the caller ---- */

static void push_item(rec_capture *c, const rec_item *it) {
  pthread_mutex_lock(&c->mu);
  if (c->queued_bytes + it->size > QUEUE_CAP_BYTES) {
    if (it->kind == REC_ITEM_VIDEO)
      c->stats.queue_dropped_video++;
    else
      c->stats.queue_dropped_audio++;
    pthread_mutex_unlock(&c->mu);
    free(it->data);
    return;
  }
  node *n = cm_xmalloc(sizeof *n);
  n->next = NULL;
  n->item = *it;
  if (c->tail)
    c->tail->next = n;
  else
    c->head = n;
  c->tail = n;
  c->queued_bytes += it->size;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static void note_format(rec_capture *c, GstSample *sample, int video) {
  GstCaps *caps = gst_sample_get_caps(sample);
  GstStructure *st = caps && gst_caps_get_size(caps) ? gst_caps_get_structure(caps, 0) : NULL;
  pthread_mutex_lock(&c->mu);
  if (video && !c->have_video_format) {
    if (st) {
      gst_structure_get_int(st, "width", &c->formats.width);
      gst_structure_get_int(st, "height", &c->formats.height);
      if (!gst_structure_get_fraction(st, "framerate", &c->formats.fps_num, &c->formats.fps_den))
        c->formats.fps_num = 0, c->formats.fps_den = 1;
    }
    snprintf(c->formats.codec, sizeof c->formats.codec, "%s", c->codec);
    c->have_video_format = 1;
  } else if (!video && !c->have_audio_format) {
    if (st) {
      gst_structure_get_int(st, "rate", &c->formats.rate);
      gst_structure_get_int(st, "channels", &c->formats.channels);
    }
    c->have_audio_format = 1;
  }
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer user) {
  rec_capture *c = user;
  int video = sink == c->vsink;
  GstSample *sample = gst_app_sink_pull_sample(sink);
  if (!sample) return GST_FLOW_EOS;
  note_format(c, sample, video);
  GstBuffer *buf = gst_sample_get_buffer(sample);
  rec_item it = {.kind = video ? REC_ITEM_VIDEO : REC_ITEM_AUDIO,
                 .pts_ns = -1, .dts_ns = -1, .duration_ns = -1};
  GstMapInfo map;
  if (!buf || !gst_buffer_map(buf, &map, GST_MAP_READ)) {
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }
  it.size = map.size;
  it.data = cm_xmalloc(map.size ? map.size : 1);
  memcpy(it.data, map.data, map.size);
  gst_buffer_unmap(buf, &map);
  it.key = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  it.discont = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT);

  const GstSegment *seg = gst_sample_get_segment(sample);
  GstClockTime pts = GST_BUFFER_PTS(buf), dts = GST_BUFFER_DTS(buf);
  if (GST_CLOCK_TIME_IS_VALID(pts) && seg && seg->format == GST_FORMAT_TIME) {
    GstClockTime rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, pts);
    if (GST_CLOCK_TIME_IS_VALID(rt)) it.pts_ns = (int64_t)rt;
    if (GST_CLOCK_TIME_IS_VALID(dts)) {
      GstClockTime rd = gst_segment_to_running_time(seg, GST_FORMAT_TIME, dts);
      if (GST_CLOCK_TIME_IS_VALID(rd)) it.dts_ns = (int64_t)rd;
    }
  }
  if (GST_BUFFER_DURATION_IS_VALID(buf)) it.duration_ns = (int64_t)GST_BUFFER_DURATION(buf);

  /* Map the capture instant to CLOCK_REALTIME (see the header). */
  int64_t now_rt = cm_realtime_ns();
  it.t_host_ns = now_rt;
  GstClock *clock = gst_element_get_clock(c->pipeline);
  if (clock && it.pts_ns >= 0) {
    GstClockTime base = gst_element_get_base_time(c->pipeline);
    int64_t r1 = cm_realtime_ns();
    GstClockTime clock_now = gst_clock_get_time(clock);
    int64_t r2 = cm_realtime_ns();
    int64_t age = (int64_t)clock_now - (int64_t)(base + (GstClockTime)it.pts_ns);
    it.t_host_ns = r1 + (r2 - r1) / 2 - age;
  }
  if (clock) gst_object_unref(clock);
  gst_sample_unref(sample);
  push_item(c, &it);
  return GST_FLOW_OK;
}

static void on_eos(GstAppSink *sink, gpointer user) {
  rec_capture *c = user;
  pthread_mutex_lock(&c->mu);
  if (sink == c->vsink)
    c->video_eos = 1;
  else
    c->audio_eos = 1;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

/* GStreamer's error text (and the element that raised it), as one line. */
static int bus_error(rec_capture *c) {
  GstMessage *m = gst_bus_pop_filtered(c->bus, GST_MESSAGE_ERROR);
  if (!m) return 0;
  GError *err = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error(m, &err, &dbg);
  cm_set_error("GStreamer element '%s': %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(m)),
               err ? err->message : "error");
  g_clear_error(&err);
  g_free(dbg);
  gst_message_unref(m);
  return -1;
}

rec_capture *rec_capture_start(const rec_capture_opts *o) {
  if (gst_ready() < 0) return NULL;
  char *desc = rec_capture_describe(o);
  if (!desc) return NULL;
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch(desc, &err);
  if (!pipeline || err) {
    cm_set_error("GStreamer pipeline '%s': %s", desc, err ? err->message : "cannot be built");
    g_clear_error(&err);
    if (pipeline) gst_object_unref(pipeline);
    g_free(desc);
    return NULL;
  }
  g_free(desc);
  rec_capture *c = cm_xcalloc(1, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  c->pipeline = pipeline;
  c->bus = gst_element_get_bus(pipeline);
  snprintf(c->codec, sizeof c->codec, "%s",
           o->video_codec && *o->video_codec ? o->video_codec : "h264");
  GstAppSinkCallbacks cb = {.eos = on_eos, .new_sample = on_new_sample};
  if (o->video_src) {
    c->vsink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(pipeline), "cmact_vsink"));
    gst_app_sink_set_callbacks(c->vsink, &cb, c, NULL);
    c->video_on = 1;
  }
  if (o->audio_src) {
    c->asink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(pipeline), "cmact_asink"));
    gst_app_sink_set_callbacks(c->asink, &cb, c, NULL);
    c->audio_on = 1;
  }
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    if (bus_error(c) == 0) cm_set_error("GStreamer pipeline refused to start");
    rec_capture_free(c);
    return NULL;
  }
  return c;
}

int rec_capture_wait_formats(rec_capture *c, int timeout_ms, rec_formats *f) {
  int64_t deadline = cm_monotonic_ns() + (int64_t)timeout_ms * 1000000;
  for (;;) {
    if (bus_error(c) < 0) return -1;
    pthread_mutex_lock(&c->mu);
    int video_ok = !c->video_on || c->have_video_format;
    int audio_ok = !c->audio_on || c->have_audio_format;
    int ended = (c->video_on && c->video_eos && !c->have_video_format) ||
                (c->audio_on && c->audio_eos && !c->have_audio_format);
    if (video_ok && audio_ok) *f = c->formats;
    pthread_mutex_unlock(&c->mu);
    if (video_ok && audio_ok) return 0;
    if (ended) return cm_set_error("a source ended before delivering any data");
    if (cm_monotonic_ns() > deadline)
      return cm_set_error("no %s from the source within %.1f s", video_ok ? "audio" : "video",
                          timeout_ms / 1000.0);
    pthread_mutex_lock(&c->mu);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50000000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    pthread_mutex_unlock(&c->mu);
  }
}

int rec_capture_next(rec_capture *c, rec_item *it, int timeout_ms) {
  if (bus_error(c) < 0) return -1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  pthread_mutex_lock(&c->mu);
  for (;;) {
    if (c->head) {
      node *n = c->head;
      c->head = n->next;
      if (!c->head) c->tail = NULL;
      c->queued_bytes -= n->item.size;
      pthread_mutex_unlock(&c->mu);
      *it = n->item;
      free(n);
      return 1;
    }
    if ((!c->video_on || c->video_eos) && (!c->audio_on || c->audio_eos)) {
      pthread_mutex_unlock(&c->mu);
      return 2;
    }
    if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT) {
      pthread_mutex_unlock(&c->mu);
      return 0;
    }
  }
}

void rec_capture_stop(rec_capture *c) {
  gst_element_send_event(c->pipeline, gst_event_new_eos());
}

void rec_capture_get_stats(rec_capture *c, rec_capture_stats *s) {
  pthread_mutex_lock(&c->mu);
  *s = c->stats;
  pthread_mutex_unlock(&c->mu);
}

void rec_capture_free(rec_capture *c) {
  if (!c) return;
  gst_element_set_state(c->pipeline, GST_STATE_NULL);
  if (c->vsink) gst_object_unref(c->vsink);
  if (c->asink) gst_object_unref(c->asink);
  gst_object_unref(c->bus);
  gst_object_unref(c->pipeline);
  for (node *n = c->head, *next; n; n = next) {
    next = n->next;
    free(n->item.data);
    free(n);
  }
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
  free(c);
}
