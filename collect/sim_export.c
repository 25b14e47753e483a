/*
 * `cmact simulate --export-raw DIR`: the same sessions as a phone and wrist sensors would have
 * left them, for the importer (issue 6) to be tested against the simulator's own files.
 *
 *   DIR/<folder>/<session>.mp4   one per single-activity clip, in the study's activity folders
 *                                (downstair upstair run jump walk handwashing exercise): the very
 *                                H.264 packets of the session file, remuxed (never re-encoded),
 *                                with the audio as AAC-LC; `creation_time` is the camera host's
 *                                clock at the first frame, to the second, as phones write it; the
 *                                file's mtime is the host clock when recording stopped (the
 *                                study's own start-time heuristic is mtime minus duration);
 *   DIR/raw3|raw4|raw11|raw12/imu.csv.gz
 *                                right acc, right gyro, left acc, left gyro of every session in
 *                                session order, rows `timestamp_ms,0,x,y,z` stamped with the wrist
 *                                host's clock at arrival, as the phone logging app did;
 *   DIR/manifest.csv             file, session_id, user, location, activity of every MP4.
 * Multi-activity schedules have no place in a one-activity-per-folder layout and are not
 * exported. While sessions are made in parallel each writes its IMU rows to DIR/.parts; the parts
 * are concatenated in session order at the end, so the export is byte-identical too.
 */
#include <errno.h>
#include <fcntl.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cm_util.h"
#include "sim.h"

const char *const sim_raw_folders[SIM_N_ACTIVITIES] = {"downstair", "upstair", "run", "jump",
                                                       "walk", "handwashing", "exercise"};

struct sim_mp4 {
  AVFormatContext *fmt;
  AVStream *vs, *as;
  AVCodecContext *aac;
  AVFrame *frame;
  AVPacket *pkt;
  int frame_fill;
  int64_t audio_pts;
  char path[4096];
};

static int av_fail(const char *path, const char *what, int rc) {
  char buf[128];
  av_strerror(rc, buf, sizeof buf);
  return cm_set_error("%s: %s: %s", path, what, buf);
}

sim_mp4 *sim_mp4_open(const char *path, int w, int h, double fps, int audio_rate, int64_t start_host_ns) {
  sim_mp4 *m = cm_xcalloc(1, sizeof *m);
  snprintf(m->path, sizeof m->path, "%s", path);
  int rc = avformat_alloc_output_context2(&m->fmt, NULL, "mp4", path);
  if (rc < 0 || !m->fmt) {
    av_fail(path, "cannot make an MP4 muxer", rc);
    free(m);
    return NULL;
  }
  m->fmt->flags |= AVFMT_FLAG_BITEXACT;
  time_t secs = (time_t)(start_host_ns / 1000000000LL);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char ct[40];
  strftime(ct, sizeof ct, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
  av_dict_set(&m->fmt->metadata, "creation_time", ct, 0);
  m->vs = avformat_new_stream(m->fmt, NULL);
  m->vs->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
  m->vs->codecpar->codec_id = AV_CODEC_ID_H264;
  m->vs->codecpar->width = w;
  m->vs->codecpar->height = h;
  m->vs->time_base = (AVRational){1, 90000};
  m->vs->avg_frame_rate = av_d2q(fps, 1000);
  const AVCodec *aac = avcodec_find_encoder(AV_CODEC_ID_AAC);
  m->aac = avcodec_alloc_context3(aac);
  m->aac->sample_fmt = AV_SAMPLE_FMT_FLTP;
  m->aac->sample_rate = audio_rate;
  av_channel_layout_default(&m->aac->ch_layout, 1);
  m->aac->bit_rate = 64000;
  m->aac->time_base = (AVRational){1, audio_rate};
  m->aac->flags |= AV_CODEC_FLAG_BITEXACT | AV_CODEC_FLAG_GLOBAL_HEADER;
  if ((rc = avcodec_open2(m->aac, aac, NULL)) < 0) goto fail_rc;
  m->as = avformat_new_stream(m->fmt, NULL);
  avcodec_parameters_from_context(m->as->codecpar, m->aac);
  m->as->time_base = (AVRational){1, audio_rate};
  if ((rc = avio_open(&m->fmt->pb, path, AVIO_FLAG_WRITE)) < 0) goto fail_rc;
  if ((rc = avformat_write_header(m->fmt, NULL)) < 0) goto fail_rc;
  m->frame = av_frame_alloc();
  m->frame->format = AV_SAMPLE_FMT_FLTP;
  m->frame->nb_samples = m->aac->frame_size;
  av_channel_layout_default(&m->frame->ch_layout, 1);
  m->frame->sample_rate = audio_rate;
  av_frame_get_buffer(m->frame, 0);
  m->pkt = av_packet_alloc();
  return m;
fail_rc:
  av_fail(path, "cannot start the MP4", rc);
  if (m->fmt->pb) avio_closep(&m->fmt->pb);
  avcodec_free_context(&m->aac);
  avformat_free_context(m->fmt);
  free(m);
  return NULL;
}

int sim_mp4_video(sim_mp4 *m, const uint8_t *data, size_t size, int key, int64_t pts) {
  AVPacket *p = m->pkt;
  av_packet_unref(p);
  if (av_new_packet(p, (int)size) < 0) return cm_set_error("%s: out of memory", m->path);
  memcpy(p->data, data, size);
  p->pts = p->dts = pts;
  p->flags = key ? AV_PKT_FLAG_KEY : 0;
  p->stream_index = m->vs->index;
  av_packet_rescale_ts(p, (AVRational){1, 90000}, m->vs->time_base);
  int rc = av_interleaved_write_frame(m->fmt, p);
  return rc < 0 ? av_fail(m->path, "cannot write video", rc) : 0;
}

static int drain_aac(sim_mp4 *m) {
  for (;;) {
    int rc = avcodec_receive_packet(m->aac, m->pkt);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 0;
    if (rc < 0) return av_fail(m->path, "AAC encoder", rc);
    m->pkt->stream_index = m->as->index;
    av_packet_rescale_ts(m->pkt, m->aac->time_base, m->as->time_base);
    if ((rc = av_interleaved_write_frame(m->fmt, m->pkt)) < 0) return av_fail(m->path, "cannot write audio", rc);
  }
}

static int send_audio_frame(sim_mp4 *m, int n) {
  m->frame->nb_samples = n;
  m->frame->pts = m->audio_pts;
  m->audio_pts += n;
  int rc = avcodec_send_frame(m->aac, m->frame);
  if (rc < 0) return av_fail(m->path, "AAC encoder", rc);
  m->frame_fill = 0;
  return drain_aac(m);
}

int sim_mp4_audio(sim_mp4 *m, const int16_t *pcm, int n) {
  for (int i = 0; i < n; i++) {
    if (m->frame_fill == 0 && av_frame_make_writable(m->frame) < 0)
      return cm_set_error("%s: audio frame not writable", m->path);
    ((float *)m->frame->data[0])[m->frame_fill++] = pcm[i] / 32768.0f;
    if (m->frame_fill == m->aac->frame_size && send_audio_frame(m, m->frame_fill) < 0) return -1;
  }
  return 0;
}

int sim_mp4_close(sim_mp4 *m, int64_t end_host_ns) {
  if (!m) return 0;
  int rc = 0;
  if (m->frame_fill > 0) rc = send_audio_frame(m, m->frame_fill);
  if (rc == 0) {
    avcodec_send_frame(m->aac, NULL);
    rc = drain_aac(m);
  }
  int r2 = av_write_trailer(m->fmt);
  if (rc == 0 && r2 < 0) rc = av_fail(m->path, "cannot finish the MP4", r2);
  avio_closep(&m->fmt->pb);
  avformat_free_context(m->fmt);
  avcodec_free_context(&m->aac);
  av_frame_free(&m->frame);
  av_packet_free(&m->pkt);
  if (rc == 0) {
    /* the phone's file system stamps the file when recording stops */
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = (time_t)(end_host_ns / 1000000000LL);
    ts[0].tv_nsec = ts[1].tv_nsec = (long)(end_host_ns % 1000000000LL);
    if (utimensat(AT_FDCWD, m->path, ts, 0) < 0) rc = cm_set_error("%s: %s", m->path, strerror(errno));
  }
  free(m);
  return rc;
}

static const char *raw_names[4] = {"raw3", "raw4", "raw11", "raw12"};

int sim_export_imu_part(const char *dir, const char *session_id, const float *right,
                        const int64_t *right_host, size_t n_right, const float *left,
                        const int64_t *left_host, size_t n_left) {
  for (int f = 0; f < 4; f++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/.parts/%s.%s", dir, session_id, raw_names[f]);
    FILE *o = fopen(path, "w");
    if (!o) return cm_set_error("%s: %s", path, strerror(errno));
    const float *d = f < 2 ? right : left;
    const int64_t *t = f < 2 ? right_host : left_host;
    size_t n = f < 2 ? n_right : n_left;
    int off = (f % 2) * 3; /* acc then gyro */
    for (size_t i = 0; i < n; i++)
      fprintf(o, "%lld,0,%.6f,%.6f,%.6f\n", (long long)(t[i] / 1000000), d[6 * i + off],
              d[6 * i + off + 1], d[6 * i + off + 2]);
    if (fclose(o) != 0) return cm_set_error("%s: %s", path, strerror(errno));
  }
  return 0;
}

int sim_export_prepare(const char *dir) {
  char path[4096];
  const char *sub[] = {"", "/.parts", "/raw3", "/raw4", "/raw11", "/raw12"};
  for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
    snprintf(path, sizeof path, "%s%s", dir, sub[i]);
    if (mkdir(path, 0777) < 0 && errno != EEXIST) return cm_set_error("%s: %s", path, strerror(errno));
  }
  for (int a = 0; a < SIM_N_ACTIVITIES; a++) {
    snprintf(path, sizeof path, "%s/%s", dir, sim_raw_folders[a]);
    if (mkdir(path, 0777) < 0 && errno != EEXIST) return cm_set_error("%s: %s", path, strerror(errno));
  }
  return 0;
}

/* Concatenate the parts of sessions [0,n) in order into the gzip logs; write the manifest. */
int sim_export_finish(const char *dir, const sim_preset *ps, uint64_t seed, int n) {
  char path[4096];
  int rc = 0;
  for (int f = 0; f < 4 && rc == 0; f++) {
    snprintf(path, sizeof path, "%s/%s/imu.csv.gz", dir, raw_names[f]);
    gzFile gz = gzopen(path, "wb6");
    if (!gz) return cm_set_error("%s: cannot create", path);
    char buf[65536];
    for (int i = 0; i < n && rc == 0; i++) {
      sim_plan p;
      sim_plan_make(ps, seed, i, &p);
      char part[4096];
      snprintf(part, sizeof part, "%s/.parts/%s.%s", dir, p.session_id, raw_names[f]);
      FILE *in = fopen(part, "r");
      if (!in) {
        rc = cm_set_error("%s: %s", part, strerror(errno));
        break;
      }
      size_t k;
      while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        if (gzwrite(gz, buf, (unsigned)k) != (int)k) rc = cm_set_error("%s: write failed", path);
      fclose(in);
      unlink(part);
    }
    if (gzclose(gz) != Z_OK && rc == 0) rc = cm_set_error("%s: write failed", path);
  }
  if (rc) return rc;
  snprintf(path, sizeof path, "%s/.parts", dir);
  rmdir(path);
  size_t cap = 128 + (size_t)n * 128, len = 0;
  char *m = cm_xmalloc(cap);
  len += snprintf(m + len, cap - len, "file,session_id,user,location,activity\n");
  for (int i = 0; i < n; i++) {
    sim_plan p;
    sim_plan_make(ps, seed, i, &p);
    if (p.n_segments != 1) continue;
    int a = p.seg[0].activity;
    len += snprintf(m + len, cap - len, "%s/%s.mp4,%s,user%d,%s,%s\n", sim_raw_folders[a],
                    p.session_id, p.session_id, p.person.id + 1, p.location.name, sim_raw_folders[a]);
  }
  snprintf(path, sizeof path, "%s/manifest.csv", dir);
  rc = cm_write_file_atomic(path, m, len);
  free(m);
  return rc;
}
