/*
 * libavcodec + libswscale decoding of session video; see video_decode.h. The send/receive API
 * is driven by a small loop: receive until EAGAIN, then send the next packet; at the end of
 * the packets a NULL packet drains the frames still held for reordering.
 */
#include "video_decode.h"

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"

struct cm_vdec {
  cm_session *s;
  int stream;
  const AVCodec *codec;
  AVCodecContext *ctx;
  AVPacket *pkt;
  AVFrame *frame;
  struct SwsContext *sws;
  int sws_w, sws_h, sws_fmt;
  int out_w, out_h, gray;
  cm_packet_row *idx;
  int64_t n_idx, next, n_bad;
  uint8_t *extradata;
  size_t extradata_size;
  int drained;
};

static int open_ctx(cm_vdec *d) {
  if (d->ctx) avcodec_free_context(&d->ctx);
  d->ctx = avcodec_alloc_context3(d->codec);
  if (!d->ctx) return cm_set_error("cannot allocate a decoder");
  d->ctx->thread_count = 1;
  if (d->extradata_size) {
    d->ctx->extradata = av_mallocz(d->extradata_size + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(d->ctx->extradata, d->extradata, d->extradata_size);
    d->ctx->extradata_size = (int)d->extradata_size;
  }
  if (avcodec_open2(d->ctx, d->codec, NULL) < 0) return cm_set_error("cannot open the %s decoder", d->codec->name);
  d->drained = 0;
  return 0;
}

cm_vdec *cm_vdec_open(cm_session *s, int stream, int out_w, int out_h, int gray) {
  cm_stream_info info;
  if (cm_session_stream_info(s, stream, &info)) return NULL;
  enum AVCodecID id = strcmp(info.codec, "h264") == 0    ? AV_CODEC_ID_H264
                      : strcmp(info.codec, "mjpeg") == 0 ? AV_CODEC_ID_MJPEG
                                                         : AV_CODEC_ID_NONE;
  if (id == AV_CODEC_ID_NONE) {
    cm_set_error("stream '%s': unsupported video codec '%s'", info.name, info.codec);
    return NULL;
  }
  av_log_set_level(AV_LOG_QUIET);
  cm_vdec *d = cm_xcalloc(1, sizeof *d);
  d->s = s, d->stream = stream, d->out_w = out_w, d->out_h = out_h, d->gray = gray;
  d->codec = avcodec_find_decoder(id);
  d->n_idx = info.count;
  d->idx = cm_xmalloc((size_t)(d->n_idx ? d->n_idx : 1) * sizeof *d->idx);
  if (!d->codec) {
    cm_set_error("no %s decoder in this libavcodec", info.codec);
    goto fail;
  }
  if (d->n_idx && cm_session_read_packet_index(s, stream, 0, d->n_idx, d->idx)) goto fail;
  if (cm_session_read_extradata(s, stream, &d->extradata, &d->extradata_size)) {
    d->extradata = NULL, d->extradata_size = 0; /* absent is normal for Annex B */
  }
  d->pkt = av_packet_alloc();
  d->frame = av_frame_alloc();
  if (open_ctx(d)) goto fail;
  return d;
fail:
  cm_vdec_close(d);
  return NULL;
}

void cm_vdec_close(cm_vdec *d) {
  if (!d) return;
  if (d->ctx) avcodec_free_context(&d->ctx);
  av_packet_free(&d->pkt);
  av_frame_free(&d->frame);
  sws_freeContext(d->sws);
  free(d->idx);
  free(d->extradata);
  free(d);
}

int64_t cm_vdec_n_packets(const cm_vdec *d) { return d->n_idx; }
const cm_packet_row *cm_vdec_packets(const cm_vdec *d) { return d->idx; }
int64_t cm_vdec_n_bad_packets(const cm_vdec *d) { return d->n_bad; }

int cm_vdec_seek_pts(cm_vdec *d, int64_t pts) {
  int64_t start = 0;
  for (int64_t i = 0; i < d->n_idx; i++)
    if (d->idx[i].key && d->idx[i].pts <= pts) start = i;
  d->next = start;
  return open_ctx(d); /* a fresh context: no reference frames from before the seek */
}

static int convert(cm_vdec *d, uint8_t *out) {
  AVFrame *f = d->frame;
  int fmt = f->format;
  /* The JPEG-range formats are deprecated in swscale; the plain ones with full range mean the same. */
  int full = 0;
  if (fmt == AV_PIX_FMT_YUVJ420P) fmt = AV_PIX_FMT_YUV420P, full = 1;
  if (fmt == AV_PIX_FMT_YUVJ422P) fmt = AV_PIX_FMT_YUV422P, full = 1;
  if (fmt == AV_PIX_FMT_YUVJ444P) fmt = AV_PIX_FMT_YUV444P, full = 1;
  if (!d->sws || d->sws_w != f->width || d->sws_h != f->height || d->sws_fmt != fmt) {
    sws_freeContext(d->sws);
    d->sws = sws_getContext(f->width, f->height, fmt, d->out_w, d->out_h,
                            d->gray ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
    if (!d->sws) return cm_set_error("cannot scale %dx%d video", f->width, f->height);
    d->sws_w = f->width, d->sws_h = f->height, d->sws_fmt = fmt;
    if (full) {
      const int *coef = sws_getCoefficients(SWS_CS_DEFAULT);
      sws_setColorspaceDetails(d->sws, coef, 1, coef, 1, 0, 1 << 16, 1 << 16);
    }
  }
  uint8_t *dst[4] = {out, NULL, NULL, NULL};
  int stride[4] = {d->out_w * (d->gray ? 1 : 3), 0, 0, 0};
  sws_scale(d->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
  return 0;
}

int cm_vdec_next(cm_vdec *d, int64_t *pts, uint8_t *out) {
  for (;;) {
    int r = avcodec_receive_frame(d->ctx, d->frame);
    if (r == 0) {
      int64_t p = d->frame->best_effort_timestamp != AV_NOPTS_VALUE ? d->frame->best_effort_timestamp : d->frame->pts;
      if (convert(d, out)) return -1;
      av_frame_unref(d->frame);
      *pts = p;
      return 1;
    }
    if (r == AVERROR_EOF) return 0;
    if (r != AVERROR(EAGAIN)) return cm_set_error("video decoder failed (%d)", r);
    if (d->next >= d->n_idx) {
      if (d->drained) return 0;
      avcodec_send_packet(d->ctx, NULL);
      d->drained = 1;
      continue;
    }
    const cm_packet_row *row = &d->idx[d->next++];
    if (av_new_packet(d->pkt, (int)row->size) < 0) return cm_set_error("out of memory for a video packet");
    if (cm_session_read_packet_bytes(d->s, d->stream, row->offset, row->size, d->pkt->data)) {
      av_packet_unref(d->pkt);
      return -1;
    }
    d->pkt->pts = row->pts;
    d->pkt->dts = row->dts;
    if (row->key) d->pkt->flags |= AV_PKT_FLAG_KEY;
    if (avcodec_send_packet(d->ctx, d->pkt) < 0) d->n_bad++;
    av_packet_unref(d->pkt);
  }
}
