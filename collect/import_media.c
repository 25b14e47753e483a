/*
 * Video and audio of an imported file, through libavformat/libavcodec.
 *
 * Video is never re-encoded: each packet the demuxer returns is stored as it is, with its
 * pts, dts and key flag. MP4 holds H.264 in the length-prefixed "avcC" form, while session
 * files hold H.264 as an Annex B byte stream (start codes, parameter sets in band) so that a
 * reader can feed the concatenated packets straight to any decoder; the h264_mp4toannexb
 * bitstream filter does exactly that conversion (it is what `ffmpeg -c copy -bsf:v
 * h264_mp4toannexb -f h264` runs, so the stored packets are byte-identical to that command's
 * output). The extradata stored is the filter's output extradata (Annex B SPS/PPS).
 *
 * Audio is decoded (whatever the codec: AAC from phones) and converted by libswresample to
 * int16 interleaved at the stream's own rate and channel count; each decoded frame becomes
 * one block with its own timestamp, so gaps and priming trims stay visible.
 *
 * Times: t_host_ns of a packet or block = start time + pts (in ns). The start time is the UTC
 * instant of the container's presentation time 0 (import_time.c), so video and audio keep
 * the relative offset the container gives them.
 *
 * A file is refused, with the reason, when it cannot be opened, has no video stream or an
 * unsupported video codec, has audio that cannot be decoded (no decoder, decoder refuses the
 * configuration, or any packet fails), or ends before the number of samples its index
 * promises (a truncated MP4), or a demuxer read fails.
 */
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "import.h"

struct imp_media {
  char path[4096];
  AVFormatContext *fmt;
  int vi, ai;
  AVBSFContext *bsf;
  AVCodecContext *adec;
  SwrContext *swr;
  imp_media_info info;
  int sid_video, sid_audio;
  int64_t n_video_in, n_audio_in;
  int64_t video_end, audio_end; /* largest pts + duration read, in the stream's time base */
  int16_t *pcm;
  int pcm_cap;
  int64_t next_audio_ns; /* for frames without a pts */
};

static const char *averr(int e) {
  static __thread char buf[AV_ERROR_MAX_STRING_SIZE];
  av_strerror(e, buf, sizeof buf);
  return buf;
}

static void copy_tag(AVDictionary *d, const char *key, char *out, size_t n) {
  if (out[0]) return;
  AVDictionaryEntry *e = av_dict_get(d, key, NULL, 0);
  if (e && e->value) snprintf(out, n, "%s", e->value);
}

imp_media *imp_media_open(const char *path) {
  imp_media *m = cm_xcalloc(1, sizeof *m);
  snprintf(m->path, sizeof m->path, "%s", path);
  m->vi = m->ai = m->sid_video = m->sid_audio = -1;
  int e = avformat_open_input(&m->fmt, path, NULL, NULL);
  if (e < 0) {
    cm_set_error("not a media file FFmpeg can read (%s)", averr(e));
    goto fail;
  }
  if ((e = avformat_find_stream_info(m->fmt, NULL)) < 0) {
    cm_set_error("cannot read stream information (%s)", averr(e));
    goto fail;
  }
  m->vi = av_find_best_stream(m->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  if (m->vi < 0) {
    cm_set_error("no video stream");
    goto fail;
  }
  AVStream *vs = m->fmt->streams[m->vi];
  enum AVCodecID vid = vs->codecpar->codec_id;
  if (vid == AV_CODEC_ID_H264)
    strcpy(m->info.video_codec, "h264");
  else if (vid == AV_CODEC_ID_MJPEG)
    strcpy(m->info.video_codec, "mjpeg");
  else {
    cm_set_error("video codec '%s' is not supported (h264, mjpeg)", avcodec_get_name(vid));
    goto fail;
  }
  if (vs->codecpar->width <= 0 || vs->codecpar->height <= 0) {
    cm_set_error("video stream has no frame size");
    goto fail;
  }
  /* avcC extradata starts with configurationVersion 1; Annex B input starts with 0 0 (0) 1. */
  if (vid == AV_CODEC_ID_H264 && vs->codecpar->extradata_size > 0 && vs->codecpar->extradata[0] == 1) {
    const AVBitStreamFilter *f = av_bsf_get_by_name("h264_mp4toannexb");
    if (!f || av_bsf_alloc(f, &m->bsf) < 0) {
      cm_set_error("the h264_mp4toannexb bitstream filter is not available");
      goto fail;
    }
    avcodec_parameters_copy(m->bsf->par_in, vs->codecpar);
    m->bsf->time_base_in = vs->time_base;
    if ((e = av_bsf_init(m->bsf)) < 0) {
      cm_set_error("H.264 configuration (avcC) is invalid (%s)", averr(e));
      goto fail;
    }
  }
  m->ai = av_find_best_stream(m->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
  if (m->ai < 0) m->ai = -1;
  if (m->ai >= 0) {
    AVStream *as = m->fmt->streams[m->ai];
    const AVCodec *dec = avcodec_find_decoder(as->codecpar->codec_id);
    if (!dec) {
      cm_set_error("audio cannot be decoded: no decoder for codec '%s'", avcodec_get_name(as->codecpar->codec_id));
      goto fail;
    }
    m->adec = avcodec_alloc_context3(dec);
    avcodec_parameters_to_context(m->adec, as->codecpar);
    m->adec->pkt_timebase = as->time_base;
    if ((e = avcodec_open2(m->adec, dec, NULL)) < 0) {
      cm_set_error("audio cannot be decoded: the %s decoder refuses the stream (%s)", dec->name, averr(e));
      goto fail;
    }
    if (m->adec->sample_rate <= 0 || m->adec->ch_layout.nb_channels <= 0) {
      cm_set_error("audio cannot be decoded: no sample rate or channel count");
      goto fail;
    }
    m->info.has_audio = 1;
  }
  int64_t dur = m->fmt->duration;
  if (dur == AV_NOPTS_VALUE || dur <= 0)
    dur = vs->duration != AV_NOPTS_VALUE ? av_rescale_q(vs->duration, vs->time_base, AV_TIME_BASE_Q) : 0;
  if (dur <= 0) {
    cm_set_error("the container states no duration");
    goto fail;
  }
  m->info.tags.duration_ns = dur * 1000;
  copy_tag(m->fmt->metadata, "com.apple.quicktime.creationdate", m->info.tags.apple_creationdate,
           sizeof m->info.tags.apple_creationdate);
  copy_tag(m->fmt->metadata, "creation_time", m->info.tags.creation_time, sizeof m->info.tags.creation_time);
  copy_tag(vs->metadata, "creation_time", m->info.tags.creation_time, sizeof m->info.tags.creation_time);
  copy_tag(m->fmt->metadata, "com.apple.quicktime.model", m->info.device, sizeof m->info.device);
  copy_tag(m->fmt->metadata, "com.android.model", m->info.device, sizeof m->info.device);
  copy_tag(m->fmt->metadata, "model", m->info.device, sizeof m->info.device);
  return m;
fail:
  imp_media_close(m);
  return NULL;
}

const imp_media_info *imp_media_get_info(imp_media *m) { return &m->info; }

int imp_media_declare(imp_media *m, cm_session *s, const imp_start *start) {
  AVStream *vs = m->fmt->streams[m->vi];
  AVRational fr = vs->avg_frame_rate.num ? vs->avg_frame_rate : vs->r_frame_rate;
  const AVCodecParameters *par = m->bsf ? m->bsf->par_out : vs->codecpar;
  cm_stream_desc v = {.name = "video", .kind = CM_STREAM_VIDEO,
                      .nominal_rate = fr.num && fr.den ? av_q2d(fr) : 0, .units = "",
                      .device = m->info.device, .transport = "import", .codec = m->info.video_codec,
                      .width = vs->codecpar->width, .height = vs->codecpar->height,
                      .time_base_num = vs->time_base.num, .time_base_den = vs->time_base.den,
                      .extradata = par->extradata, .extradata_size = (size_t)par->extradata_size,
                      .start_time_source = start->source,
                      .start_time_uncertainty_s = start->uncertainty_s};
  if ((m->sid_video = cm_session_add_stream(s, &v)) < 0) return -1;
  if (m->adec) {
    cm_stream_desc a = {.name = "audio", .kind = CM_STREAM_AUDIO, .nominal_rate = m->adec->sample_rate,
                        .units = "", .device = m->info.device, .transport = "import",
                        .sample_rate = m->adec->sample_rate, .channels = m->adec->ch_layout.nb_channels,
                        .start_time_source = start->source,
                        .start_time_uncertainty_s = start->uncertainty_s};
    if ((m->sid_audio = cm_session_add_stream(s, &a)) < 0) return -1;
  }
  return 0;
}

static int64_t to_ns(int64_t ts, AVRational tb) {
  return av_rescale_q(ts, tb, (AVRational){1, 1000000000});
}

static int write_video(imp_media *m, cm_session *s, AVPacket *p, int64_t start_ns) {
  AVRational tb = m->fmt->streams[m->vi]->time_base;
  int64_t pts = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
  if (pts == AV_NOPTS_VALUE) return cm_set_error("video packet %lld has no timestamp", (long long)m->n_video_in);
  cm_packet_row r = {.size = (uint32_t)p->size, .key = (p->flags & AV_PKT_FLAG_KEY) != 0, .pts = pts,
                     .dts = p->dts != AV_NOPTS_VALUE ? p->dts : pts,
                     .t_host_ns = start_ns + to_ns(pts, tb)};
  return cm_session_append_packet(s, m->sid_video, p->data, &r);
}

static int write_audio_frame(imp_media *m, cm_session *s, AVFrame *fr, int64_t start_ns) {
  int ch = m->adec->ch_layout.nb_channels;
  if (fr->ch_layout.nb_channels != ch || fr->sample_rate != m->adec->sample_rate)
    return cm_set_error("audio changes its channel count or rate mid-stream");
  if (!m->swr) {
    if (swr_alloc_set_opts2(&m->swr, &fr->ch_layout, AV_SAMPLE_FMT_S16, fr->sample_rate, &fr->ch_layout,
                            fr->format, fr->sample_rate, 0, NULL) < 0 ||
        swr_init(m->swr) < 0)
      return cm_set_error("cannot convert the audio to 16-bit PCM");
  }
  int cap = fr->nb_samples + 256;
  if (cap > m->pcm_cap) {
    m->pcm = cm_xrealloc(m->pcm, (size_t)cap * ch * sizeof *m->pcm);
    m->pcm_cap = cap;
  }
  uint8_t *out[1] = {(uint8_t *)m->pcm};
  int n = swr_convert(m->swr, out, cap, (const uint8_t **)fr->extended_data, fr->nb_samples);
  if (n < 0) return cm_set_error("audio conversion failed (%s)", averr(n));
  if (n == 0) return 0;
  int64_t ts = fr->best_effort_timestamp != AV_NOPTS_VALUE ? fr->best_effort_timestamp : fr->pts;
  int64_t t = ts != AV_NOPTS_VALUE ? start_ns + to_ns(ts, m->fmt->streams[m->ai]->time_base) : m->next_audio_ns;
  m->next_audio_ns = t + (int64_t)n * 1000000000LL / m->adec->sample_rate;
  return cm_session_append_audio(s, m->sid_audio, m->pcm, n, t);
}

static int drain_decoder(imp_media *m, cm_session *s, AVFrame *fr, int64_t start_ns) {
  for (;;) {
    int e = avcodec_receive_frame(m->adec, fr);
    if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return 0;
    if (e < 0) return cm_set_error("audio cannot be decoded near packet %lld (%s)", (long long)m->n_audio_in, averr(e));
    int r = write_audio_frame(m, s, fr, start_ns);
    av_frame_unref(fr);
    if (r < 0) return -1;
  }
}

static int drain_bsf(imp_media *m, cm_session *s, AVPacket *out, int64_t start_ns) {
  for (;;) {
    int e = av_bsf_receive_packet(m->bsf, out);
    if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return 0;
    if (e < 0) return cm_set_error("H.264 packet %lld cannot be converted to Annex B (%s)", (long long)m->n_video_in, averr(e));
    int r = write_video(m, s, out, start_ns);
    av_packet_unref(out);
    if (r < 0) return -1;
  }
}


/* Whether the packets read (ending at `end`) stop short of the stream's stated duration:
 * what a file cut off mid-data looks like. Without a stated duration, any shortfall counts. */
static int ends_early(const AVStream *st, int64_t end) {
  if (st->duration <= 0 || st->duration == AV_NOPTS_VALUE) return 1;
  int64_t start = st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time;
  return end < start + st->duration;
}

int imp_media_copy(imp_media *m, cm_session *s, int64_t start_ns) {
  AVPacket *p = av_packet_alloc(), *q = av_packet_alloc();
  AVFrame *fr = av_frame_alloc();
  int rc = 0;
  for (;;) {
    int e = av_read_frame(m->fmt, p);
    if (e == AVERROR_EOF) break;
    if (e < 0) {
      rc = cm_set_error("read error after %lld video packets (%s)", (long long)m->n_video_in, averr(e));
      break;
    }
    if (p->flags & AV_PKT_FLAG_CORRUPT) {
      rc = cm_set_error("truncated: a packet of stream %d is incomplete (file cut short)", p->stream_index);
      av_packet_unref(p);
      break;
    }
    if (p->pts != AV_NOPTS_VALUE) {
      int64_t *end = p->stream_index == m->vi ? &m->video_end : p->stream_index == m->ai ? &m->audio_end : NULL;
      if (end && p->pts + p->duration > *end) *end = p->pts + p->duration;
    }
    if (p->stream_index == m->vi) {
      m->n_video_in++;
      if (m->bsf) {
        if ((e = av_bsf_send_packet(m->bsf, p)) < 0)
          rc = cm_set_error("H.264 packet %lld cannot be converted to Annex B (%s)", (long long)m->n_video_in, averr(e));
        else
          rc = drain_bsf(m, s, q, start_ns);
      } else {
        rc = write_video(m, s, p, start_ns);
      }
    } else if (p->stream_index == m->ai) {
      m->n_audio_in++;
      if ((e = avcodec_send_packet(m->adec, p)) < 0)
        rc = cm_set_error("audio cannot be decoded: packet %lld refused (%s)", (long long)m->n_audio_in, averr(e));
      else
        rc = drain_decoder(m, s, fr, start_ns);
    }
    av_packet_unref(p);
    if (rc < 0) break;
  }
  if (rc == 0 && m->bsf) {
    av_bsf_send_packet(m->bsf, NULL);
    rc = drain_bsf(m, s, q, start_ns);
  }
  if (rc == 0 && m->adec) {
    avcodec_send_packet(m->adec, NULL);
    rc = drain_decoder(m, s, fr, start_ns);
  }
  /* A truncated MP4 whose index (moov) survived: the demuxer stops early at the end of the
   * data, so fewer samples come out than the index lists, and they end before the stream's
   * stated duration. Fewer samples alone is not enough: an AAC track's edit list can leave the
   * encoder's last padding packet out (the demuxer discards it), one short of the index, with
   * the stream complete to its last sample (6 of the 767 simulated clips). */
  if (rc == 0) {
    int64_t want_v = m->fmt->streams[m->vi]->nb_frames;
    if (want_v > 0 && m->n_video_in < want_v && ends_early(m->fmt->streams[m->vi], m->video_end))
      rc = cm_set_error("truncated: %lld of %lld video packets present", (long long)m->n_video_in, (long long)want_v);
    else if (m->n_video_in == 0)
      rc = cm_set_error("no video packets");
  }
  if (rc == 0 && m->adec) {
    int64_t want_a = m->fmt->streams[m->ai]->nb_frames;
    if (want_a > 0 && m->n_audio_in < want_a && ends_early(m->fmt->streams[m->ai], m->audio_end))
      rc = cm_set_error("truncated: %lld of %lld audio packets present", (long long)m->n_audio_in, (long long)want_a);
  }
  av_packet_free(&p);
  av_packet_free(&q);
  av_frame_free(&fr);
  return rc;
}

void imp_media_close(imp_media *m) {
  if (!m) return;
  av_bsf_free(&m->bsf);
  avcodec_free_context(&m->adec);
  swr_free(&m->swr);
  avformat_close_input(&m->fmt);
  free(m->pcm);
  free(m);
}
