/*
 * The phone's video encoder: RGB frames -> H.264 through FFmpeg's libx264 wrapper, as an Annex B
 * byte stream with SPS/PPS repeated in front of every keyframe (x264's repeat-headers), so every
 * GOP of the stored packet stream decodes on its own and the file needs no out-of-band
 * extradata. Settings are a phone's: no B-frames (packets leave in capture order, dts = pts),
 * one keyframe a second, constant quality.
 *
 * One encoder thread (x264 threads=1): the simulator runs whole sessions in parallel instead,
 * and a single-threaded x264 gives the same bytes on every run, which the corpus's
 * byte-identical guarantee needs.
 */
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "cm_util.h"
#include "sim.h"

struct sim_encoder {
  AVCodecContext *ctx;
  AVFrame *frame;
  AVPacket *pkt;
  struct SwsContext *sws;
  int width, height;
};

void sim_encoder_free(sim_encoder *e) {
  if (!e) return;
  avcodec_free_context(&e->ctx);
  av_frame_free(&e->frame);
  av_packet_free(&e->pkt);
  sws_freeContext(e->sws);
  free(e);
}

sim_encoder *sim_encoder_new(int width, int height, double fps, int gop) {
  const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) {
    cm_set_error("libavcodec has no libx264 encoder (install libavcodec with x264 support)");
    return NULL;
  }
  sim_encoder *e = cm_xcalloc(1, sizeof *e);
  e->width = width;
  e->height = height;
  e->ctx = avcodec_alloc_context3(codec);
  e->ctx->width = width;
  e->ctx->height = height;
  e->ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  e->ctx->time_base = (AVRational){1, 90000};
  e->ctx->framerate = av_d2q(fps, 1000);
  e->ctx->gop_size = gop;
  e->ctx->max_b_frames = 0;
  e->ctx->thread_count = 1;
  av_opt_set(e->ctx->priv_data, "preset", "veryfast", 0);
  av_opt_set(e->ctx->priv_data, "tune", "zerolatency", 0);
  av_opt_set(e->ctx->priv_data, "crf", "24", 0);
  av_opt_set(e->ctx->priv_data, "x264-params", "repeat-headers=1:scenecut=0:sliced-threads=0", 0);
  int rc = avcodec_open2(e->ctx, codec, NULL);
  if (rc < 0) {
    char buf[128];
    av_strerror(rc, buf, sizeof buf);
    cm_set_error("cannot open the libx264 encoder (%dx%d): %s", width, height, buf);
    sim_encoder_free(e);
    return NULL;
  }
  e->frame = av_frame_alloc();
  e->frame->format = AV_PIX_FMT_YUV420P;
  e->frame->width = width;
  e->frame->height = height;
  if (av_frame_get_buffer(e->frame, 0) < 0) {
    cm_set_error("out of memory for a %dx%d frame", width, height);
    sim_encoder_free(e);
    return NULL;
  }
  e->pkt = av_packet_alloc();
  e->sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P,
                          SWS_BILINEAR, NULL, NULL, NULL);
  if (!e->sws) {
    cm_set_error("swscale cannot convert RGB24 to YUV420P at %dx%d", width, height);
    sim_encoder_free(e);
    return NULL;
  }
  return e;
}

static int drain(sim_encoder *e, sim_packet_cb cb, void *ctx) {
  for (;;) {
    int rc = avcodec_receive_packet(e->ctx, e->pkt);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 0;
    if (rc < 0) return cm_set_error("libx264 failed to deliver a packet (%d)", rc);
    int key = (e->pkt->flags & AV_PKT_FLAG_KEY) != 0;
    int r = cb(ctx, e->pkt->data, (size_t)e->pkt->size, key, e->pkt->pts, e->pkt->dts);
    av_packet_unref(e->pkt);
    if (r < 0) return -1;
  }
}

int sim_encoder_encode(sim_encoder *e, const uint8_t *rgb, int64_t pts, sim_packet_cb cb, void *ctx) {
  int rc;
  if (rgb) {
    if (av_frame_make_writable(e->frame) < 0) return cm_set_error("video frame not writable");
    const uint8_t *src[1] = {rgb};
    int stride[1] = {3 * e->width};
    sws_scale(e->sws, src, stride, 0, e->height, e->frame->data, e->frame->linesize);
    e->frame->pts = pts;
    rc = avcodec_send_frame(e->ctx, e->frame);
  } else {
    rc = avcodec_send_frame(e->ctx, NULL);
  }
  if (rc < 0 && rc != AVERROR_EOF) return cm_set_error("libx264 refused a frame (%d)", rc);
  return drain(e, cb, ctx);
}
