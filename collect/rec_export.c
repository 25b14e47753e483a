/*
 * rec_export: session file -> MP4 with libavformat; see rec_export.h for the design.
 */
#include "rec_export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>

#include "cm_session.h"
#include "cm_util.h"

#define INDEX_BATCH 512

static int av_fail(const char *what, const char *path, int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE];
  av_strerror(err, buf, sizeof buf);
  return cm_set_error("%s: %s: %s", path, what, buf);
}

/* SPS and PPS NAL units (types 7, 8) of an Annex B access unit, as Annex B: the extradata an
 * MP4 muxer turns into an avcC box. Returns the size written into out (0 if none found). */
static size_t annexb_parameter_sets(const uint8_t *p, size_t n, uint8_t *out, size_t cap) {
  size_t k = 0, i = 0;
  while (i + 3 <= n) {
    /* find a start code */
    size_t sc = i;
    while (sc + 3 <= n && !(p[sc] == 0 && p[sc + 1] == 0 && p[sc + 2] == 1)) sc++;
    if (sc + 3 > n) break;
    size_t nal = sc + 3, next = nal;
    while (next + 3 <= n && !(p[next] == 0 && p[next + 1] == 0 && p[next + 2] == 1)) next++;
    size_t end = next + 3 <= n ? next : n;
    while (end > nal && p[end - 1] == 0) end--; /* trailing zero of a 4-byte start code */
    int type = nal < n ? p[nal] & 0x1f : 0;
    if ((type == 7 || type == 8) && k + 4 + (end - nal) <= cap) {
      out[k++] = 0, out[k++] = 0, out[k++] = 0, out[k++] = 1;
      memcpy(out + k, p + nal, end - nal);
      k += end - nal;
    }
    i = next;
  }
  return k;
}

typedef struct {
  cm_session *s;
  const char *out_path;
  AVFormatContext *oc;
  /* video */
  int vid;
  cm_stream_info vi;
  AVStream *vst;
  int64_t v_next, v_first; /* next index row to write; first keyframe */
  cm_packet_row vrows[INDEX_BATCH];
  int64_t vrows_first, vrows_n;
  int64_t v_pts0, v_offset; /* stored pts of the first frame; its place on the timeline (90 kHz) */
  uint8_t *vbuf;
  size_t vbuf_cap;
  /* audio */
  int aid;
  cm_stream_info ai;
  AVStream *ast;
  AVCodecContext *enc;
  AVFrame *frame;
  int64_t a_next;   /* next PCM frame to encode */
  int64_t a_offset; /* timeline position of PCM frame 0, in samples */
  int16_t *pcm;
  rec_export_stats *st;
} exporter;

static int video_row(exporter *x, int64_t i, cm_packet_row *r) {
  if (i < x->vrows_first || i >= x->vrows_first + x->vrows_n) {
    int64_t n = x->vi.count - i < INDEX_BATCH ? x->vi.count - i : INDEX_BATCH;
    if (cm_session_read_packet_index(x->s, x->vid, i, n, x->vrows) < 0) return -1;
    x->vrows_first = i;
    x->vrows_n = n;
  }
  *r = x->vrows[i - x->vrows_first];
  return 0;
}

static int read_video_packet(exporter *x, const cm_packet_row *r) {
  if (r->size > x->vbuf_cap) {
    x->vbuf_cap = r->size;
    x->vbuf = cm_xrealloc(x->vbuf, x->vbuf_cap + AV_INPUT_BUFFER_PADDING_SIZE);
  }
  return cm_session_read_packet_bytes(x->s, x->vid, r->offset, r->size, x->vbuf);
}

static int setup_video(exporter *x) {
  cm_packet_row r;
  x->v_first = -1;
  for (int64_t i = 0; i < x->vi.count; i++) {
    if (video_row(x, i, &r) < 0) return -1;
    if (r.key) {
      x->v_first = i;
      break;
    }
  }
  if (x->v_first < 0) return 0; /* no decodable video */
  int h264 = strcmp(x->vi.codec, "h264") == 0;
  if (!h264 && strcmp(x->vi.codec, "mjpeg") != 0)
    return cm_set_error("%s: video codec '%s' cannot be exported", cm_session_path(x->s),
                        x->vi.codec);
  x->vst = avformat_new_stream(x->oc, NULL);
  AVCodecParameters *par = x->vst->codecpar;
  par->codec_type = AVMEDIA_TYPE_VIDEO;
  par->codec_id = h264 ? AV_CODEC_ID_H264 : AV_CODEC_ID_MJPEG;
  par->width = x->vi.width;
  par->height = x->vi.height;
  if (h264) {
    if (read_video_packet(x, &r) < 0) return -1;
    uint8_t *extra = av_mallocz(r.size + AV_INPUT_BUFFER_PADDING_SIZE);
    size_t n = annexb_parameter_sets(x->vbuf, r.size, extra, r.size);
    if (n == 0) {
      av_free(extra);
      return cm_set_error("%s: the first H.264 keyframe carries no SPS/PPS",
                          cm_session_path(x->s));
    }
    par->extradata = extra;
    par->extradata_size = (int)n;
  }
  x->vst->time_base = (AVRational){x->vi.time_base_num > 0 ? x->vi.time_base_num : 1,
                                   x->vi.time_base_den > 0 ? x->vi.time_base_den : 90000};
  if (x->vi.nominal_rate > 0)
    x->vst->avg_frame_rate = av_d2q(x->vi.nominal_rate, 100000);
  x->v_pts0 = r.pts;
  x->v_next = x->v_first;
  snprintf(x->st->video_codec, sizeof x->st->video_codec, "%s", x->vi.codec);
  return 0;
}

static int setup_audio(exporter *x) {
  if (x->ai.count <= 0 || x->ai.n_blocks <= 0) return 0;
  const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (!codec) return cm_set_error("%s: this FFmpeg has no AAC encoder", x->out_path);
  x->enc = avcodec_alloc_context3(codec);
  x->enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
  x->enc->sample_rate = x->ai.sample_rate;
  av_channel_layout_default(&x->enc->ch_layout, x->ai.channels);
  x->enc->bit_rate = 64000 * x->ai.channels;
  x->enc->time_base = (AVRational){1, x->ai.sample_rate};
  if (x->oc->oformat->flags & AVFMT_GLOBALHEADER) x->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  int err = avcodec_open2(x->enc, codec, NULL);
  if (err < 0) return av_fail("AAC encoder", x->out_path, err);
  x->ast = avformat_new_stream(x->oc, NULL);
  avcodec_parameters_from_context(x->ast->codecpar, x->enc);
  x->ast->time_base = x->enc->time_base;
  x->frame = av_frame_alloc();
  x->frame->format = AV_SAMPLE_FMT_FLTP;
  x->frame->nb_samples = x->enc->frame_size;
  av_channel_layout_copy(&x->frame->ch_layout, &x->enc->ch_layout);
  x->frame->sample_rate = x->ai.sample_rate;
  if ((err = av_frame_get_buffer(x->frame, 0)) < 0) return av_fail("audio frame", x->out_path, err);
  x->pcm = cm_xmalloc(sizeof(int16_t) * x->enc->frame_size * x->ai.channels);
  return 0;
}

static int write_packets_from(exporter *x, AVCodecContext *enc, AVStream *st) {
  AVPacket *pkt = av_packet_alloc();
  int err;
  while ((err = avcodec_receive_packet(enc, pkt)) == 0) {
    av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
    pkt->stream_index = st->index;
    if ((err = av_interleaved_write_frame(x->oc, pkt)) < 0) break;
  }
  av_packet_free(&pkt);
  if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return 0;
  return av_fail("writing audio", x->out_path, err);
}

/* Encode one AAC frame's worth of PCM (the last one padded with silence), or flush. */
static int encode_audio_frame(exporter *x) {
  int ch = x->ai.channels, fs = x->enc->frame_size;
  int64_t left = x->ai.count - x->a_next;
  int n = left < fs ? (int)left : fs;
  if (n <= 0) {
    if (avcodec_send_frame(x->enc, NULL) < 0) return 0;
    return write_packets_from(x, x->enc, x->ast);
  }
  if (cm_session_read_audio(x->s, x->aid, x->a_next, n, x->pcm) < 0) return -1;
  int err = av_frame_make_writable(x->frame);
  if (err < 0) return av_fail("audio frame", x->out_path, err);
  for (int c = 0; c < ch; c++) {
    float *dst = (float *)x->frame->data[c];
    for (int i = 0; i < fs; i++) dst[i] = i < n ? x->pcm[i * ch + c] / 32768.0f : 0.0f;
  }
  x->frame->pts = x->a_offset + x->a_next;
  x->a_next += n;
  x->st->audio_frames += n;
  if ((err = avcodec_send_frame(x->enc, x->frame)) < 0) return av_fail("AAC encoder", x->out_path, err);
  return write_packets_from(x, x->enc, x->ast);
}

static int write_video_packet(exporter *x) {
  cm_packet_row r, next;
  if (video_row(x, x->v_next, &r) < 0 || read_video_packet(x, &r) < 0) return -1;
  AVPacket *pkt = av_packet_alloc();
  pkt->data = x->vbuf;
  pkt->size = (int)r.size;
  pkt->pts = r.pts - x->v_pts0 + x->v_offset;
  pkt->dts = r.dts - x->v_pts0 + x->v_offset;
  if (x->v_next + 1 < x->vi.count && video_row(x, x->v_next + 1, &next) == 0)
    pkt->duration = next.pts - r.pts;
  else if (x->vi.nominal_rate > 0)
    pkt->duration = (int64_t)(x->vst->time_base.den / x->vi.nominal_rate / x->vst->time_base.num);
  if (r.key) pkt->flags |= AV_PKT_FLAG_KEY;
  pkt->stream_index = x->vst->index;
  /* the muxer may have changed the stream's time base in write_header */
  av_packet_rescale_ts(pkt, (AVRational){x->vi.time_base_num > 0 ? x->vi.time_base_num : 1,
                                         x->vi.time_base_den > 0 ? x->vi.time_base_den : 90000},
                       x->vst->time_base);
  int err = av_interleaved_write_frame(x->oc, pkt);
  av_packet_free(&pkt);
  if (err < 0) return av_fail("writing video", x->out_path, err);
  x->v_next++;
  x->st->video_packets++;
  return 0;
}

int rec_export_mp4(const char *session_path, const char *mp4_path, int overwrite,
                   rec_export_stats *st) {
  memset(st, 0, sizeof *st);
  if (!overwrite && access(mp4_path, F_OK) == 0)
    return cm_set_error("%s: exists already (use --force to replace it)", mp4_path);
  exporter x = {.out_path = mp4_path, .vid = -1, .aid = -1, .st = st};
  /* FFmpeg's own chatter (encoder statistics) is not for the user; failures come back as
   * return codes and are reported as one line. */
  av_log_set_level(AV_LOG_ERROR);
  x.s = cm_session_open(session_path);
  if (!x.s) return -1;
  int rc = -1;
  const cm_session_meta *m = cm_session_get_meta(x.s);
  for (int i = 0; i < m->n_streams; i++) {
    cm_stream_info si;
    if (cm_session_stream_info(x.s, i, &si) < 0) goto out;
    if (si.kind == CM_STREAM_VIDEO && x.vid < 0) x.vid = i, x.vi = si;
    if (si.kind == CM_STREAM_AUDIO && x.aid < 0) x.aid = i, x.ai = si;
  }
  int err = avformat_alloc_output_context2(&x.oc, NULL, "mp4", mp4_path);
  if (err < 0 || !x.oc) {
    av_fail("MP4 muxer", mp4_path, err);
    goto out;
  }
  if (x.vid >= 0 && setup_video(&x) < 0) goto out;
  if (x.aid >= 0 && setup_audio(&x) < 0) goto out;
  if (!x.vst && !x.ast) {
    cm_set_error("%s: no video or audio to export", session_path);
    goto out;
  }
  /* One timeline: zero at the earlier of the first exported frame and the first audio block. */
  int64_t tv = INT64_MAX, ta = INT64_MAX;
  if (x.vst) {
    cm_packet_row r;
    if (video_row(&x, x.v_first, &r) < 0) goto out;
    tv = r.t_host_ns;
  }
  if (x.ast) {
    cm_audio_block_row b;
    if (cm_session_read_audio_blocks(x.s, x.aid, 0, 1, &b) < 0) goto out;
    ta = b.t_host_ns - b.first_frame * 1000000000LL / x.ai.sample_rate;
  }
  int64_t t0 = tv < ta ? tv : ta;
  if (x.vst) x.v_offset = (tv - t0) * 9 / 100000;
  if (x.ast) x.a_offset = (ta - t0) * x.ai.sample_rate / 1000000000;
  if (!(x.oc->oformat->flags & AVFMT_NOFILE) &&
      (err = avio_open(&x.oc->pb, mp4_path, AVIO_FLAG_WRITE)) < 0) {
    av_fail("cannot create", mp4_path, err);
    goto out;
  }
  if ((err = avformat_write_header(x.oc, NULL)) < 0) {
    av_fail("MP4 header", mp4_path, err);
    goto out;
  }
  /* Feed the muxer in time order so its interleaving buffer stays small. */
  for (;;) {
    int video_left = x.vst && x.v_next < x.vi.count;
    int audio_left = x.ast && x.a_next < x.ai.count;
    if (!video_left && !audio_left) break;
    int take_video = video_left;
    if (video_left && audio_left) {
      cm_packet_row r;
      if (video_row(&x, x.v_next, &r) < 0) goto out;
      double tvs = (r.pts - x.v_pts0 + x.v_offset) / 90000.0;
      double tas = (double)(x.a_offset + x.a_next) / x.ai.sample_rate;
      take_video = tvs <= tas;
    }
    if ((take_video ? write_video_packet(&x) : encode_audio_frame(&x)) < 0) goto out;
  }
  if (x.ast && encode_audio_frame(&x) < 0) goto out; /* flush the encoder */
  if ((err = av_write_trailer(x.oc)) < 0) {
    av_fail("MP4 trailer", mp4_path, err);
    goto out;
  }
  if (x.vst && x.vi.nominal_rate > 0) st->video_seconds = st->video_packets / x.vi.nominal_rate;
  if (x.ast) st->audio_seconds = (double)st->audio_frames / x.ai.sample_rate;
  rc = 0;
out:
  if (x.oc) {
    if (x.oc->pb) avio_closep(&x.oc->pb);
    avformat_free_context(x.oc);
  }
  if (rc < 0 && x.oc) unlink(mp4_path);
  avcodec_free_context(&x.enc);
  av_frame_free(&x.frame);
  free(x.pcm);
  free(x.vbuf);
  char why[1024];
  snprintf(why, sizeof why, "%s", cm_error());
  cm_session_close(x.s);
  if (rc < 0) cm_set_error("%s", why);
  return rc;
}
