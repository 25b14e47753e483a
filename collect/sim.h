/*
 * The simulated world behind `cmact simulate` (DESIGN.md section 5): one physical motion model
 * of a person, seen by three sensors.
 *
 * A session is planned first (sim_plan: who, where, which activities for how long, which camera
 * pose, which clocks), entirely from a 64-bit seed, so that every session can be produced
 * independently and in parallel with the same bytes whatever the thread count. From the plan,
 * sim_body gives the jointed body's pose at any instant (a pure function of time, smooth where
 * real motion is smooth, so that the IMU can differentiate it); sim_render draws it into a
 * location's scene as the phone camera sees it; sim_audio turns the body's contact events
 * (footfalls, landings, claps, rubbing, water) into the phone microphone's signal; sim_imu samples
 * the wrist paths as two wrist sensors would; sim_clock gives each host and sensor its own
 * clock and each BLE packet its delivery time. sim_session writes the session files.
 *
 * Conventions: world frame x forward along the corridor, y to the left, z up; metres, seconds,
 * radians. "Reference time" is true (NTP) time; plan times are seconds since the session's
 * reference origin t0_ref_ns.
 */
#ifndef CM_SIM_H
#define CM_SIM_H

#include <stddef.h>
#include <stdint.h>

/* ---------------- random numbers (deterministic, per component stream) ---------------- */

typedef struct { uint64_t s[4]; } sim_rng;
uint64_t sim_hash64(uint64_t a, uint64_t b);
void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream);
uint64_t sim_rng_u64(sim_rng *r);
double sim_rng_uniform(sim_rng *r);                 /* [0,1) */
double sim_rng_range(sim_rng *r, double lo, double hi);
double sim_rng_normal(sim_rng *r);
int sim_rng_int(sim_rng *r, int n);                 /* [0,n) */

/* A smooth random function of time: a sum of a few slow sinusoids (C-infinity, so that
 * derivatives of anything built from it stay physical). */
#define SIM_WOBBLE_N 3
typedef struct { double a[SIM_WOBBLE_N], w[SIM_WOBBLE_N], p[SIM_WOBBLE_N]; } sim_wobble;
void sim_wobble_init(sim_wobble *w, sim_rng *r, double amplitude, double f_lo, double f_hi);
double sim_wobble_at(const sim_wobble *w, double t);
double sim_wobble_integral(const sim_wobble *w, double t); /* integral from 0 to t */

/* ---------------- small vector algebra ---------------- */

typedef struct { double x, y, z; } vec3;
typedef struct { double m[3][3]; } mat3; /* columns are the frame's axes in the parent */
static inline vec3 v3(double x, double y, double z) { vec3 v = {x, y, z}; return v; }
static inline vec3 v3_add(vec3 a, vec3 b) { return v3(a.x + b.x, a.y + b.y, a.z + b.z); }
static inline vec3 v3_sub(vec3 a, vec3 b) { return v3(a.x - b.x, a.y - b.y, a.z - b.z); }
static inline vec3 v3_scale(vec3 a, double s) { return v3(a.x * s, a.y * s, a.z * s); }
static inline double v3_dot(vec3 a, vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static inline vec3 v3_cross(vec3 a, vec3 b) {
  return v3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}
mat3 m3_identity(void);
mat3 m3_mul(mat3 a, mat3 b);
vec3 m3_apply(mat3 a, vec3 v);
vec3 m3_apply_t(mat3 a, vec3 v); /* transpose times v */
mat3 m3_rot_x(double a);
mat3 m3_rot_y(double a);
mat3 m3_rot_z(double a);
/* Angular velocity (in the frame of a) that turns a into b over dt. */
vec3 m3_angular_velocity(mat3 a, mat3 b, double dt);

/* ---------------- the world's vocabulary ---------------- */

enum { SIM_DOWNSTAIRS, SIM_UPSTAIRS, SIM_RUN, SIM_JUMP, SIM_WALK, SIM_HANDWASHING, SIM_EXERCISE,
       SIM_N_ACTIVITIES };
extern const char *const sim_activity_names[SIM_N_ACTIVITIES]; /* the class order of DESIGN.md */
int sim_activity_from_name(const char *name);                   /* -1 when unknown */

typedef struct {
  int id;
  double height_m, mass_kg;
  double tempo;         /* cadence multiplier */
  double amplitude;     /* joint excursion multiplier */
  double arm_swing, elbow_bend, lean, bounce, stride; /* style multipliers */
  double wash_rate_hz;  /* hand rubbing frequency */
  int claps;            /* claps overhead in jumping jacks */
  int rail_hand;        /* 0 none, 1 left, 2 right: holds the stair rail */
  int carry_hand;       /* 0 none, 1 left, 2 right: carries something (no arm swing) */
  double pron_offset;   /* habitual forearm rotation, rad */
  double shirt[3], pants[3], skin[3]; /* linear RGB 0..1 */
} sim_person;

enum { FLOOR_TILE, FLOOR_WOOD, FLOOR_CARPET, FLOOR_CONCRETE };
typedef struct {
  int id;
  char name[24];
  int has_stairs;
  int floor;             /* FLOOR_* */
  double width_m, ceiling_m;
  double floor_rgb[3], floor_rgb2[3], wall_rgb[3], feature_rgb[3];
  double tile_m, feature_period_m, light_period_m;
  double brightness;     /* scene illumination, 1 = well lit */
  double rt60_s;         /* reverberation time */
  double noise_db;       /* room noise level, dB re full scale */
  double hum_hz;         /* mains hum fundamental (0 = none) */
  double floor_hollow;   /* 0..1: how much floor/stairs ring */
} sim_location;

/* One activity of a session's schedule, in plan seconds. */
typedef struct {
  int activity;
  double start_s, end_s;
} sim_segment;

#define SIM_MAX_SEGMENTS 16
#define SIM_MAX_GROUND 40

/* The ground under the person's path: pieces along x, each flat or a flight of stairs. */
typedef struct {
  double x0, x1, z0, slope; /* height z0 + slope*(x-x0) over [x0,x1) */
  int stairs;
} sim_ground_piece;

typedef struct {
  /* camera pose relative to the person (world azimuth of the camera seen from the person) */
  double azimuth, distance, height, hfov, follow_lag_s, shake;
  double exposure_bias, read_noise, white_balance[3];
  int width, height_px;
  double fps;
} sim_camera;

typedef struct {
  /* host clock minus reference time at plan t = ntp_error_s + slew0_s + slew_ppm*1e-6*t:
   * chrony knows the slewing part (it reports it as -current_correction); the NTP error is what
   * it cannot see (asymmetric paths, a bad server), bounded by what it reports as
   * root_delay/2 + root_dispersion. */
  double ntp_error_s, slew0_s, slew_ppm;
  double uncertainty_s; /* root_delay/2 + root_dispersion */
  double root_delay_s;
  double freq_ppm;      /* the crystal's frequency error chrony compensates */
  double poll_s;        /* seconds between chrony answers the recorder takes */
} sim_host_clock;

typedef struct {
  double offset_s;      /* device clock at reference t=0 (its boot epoch is arbitrary) */
  double drift_ppm;
  double latency_s, jitter_s, loss, burst_rate_hz, burst_len_s;
  double acc_bias[3], gyro_bias[3], acc_scale[3], gyro_scale[3];
  double acc_noise, gyro_noise, acc_range, gyro_range;
  int samples_per_packet;
  double mount_roll, mount_pitch; /* how the band sits on the wrist this session, rad */
} sim_sensor;

typedef struct {
  uint64_t seed;              /* the session's own seed (all streams derive from it) */
  int index;
  char session_id[48];
  int64_t t0_ref_ns;          /* reference time of plan second 0 */
  sim_person person;
  sim_location location;
  int n_segments;
  sim_segment seg[SIM_MAX_SEGMENTS];
  double transition_s;
  double label_start_s, label_end_s; /* the labeled span (clips: the camera's span) */
  double cam_start_s, cam_end_s;     /* camera host recording span */
  double imu_start_s, imu_end_s;     /* wrist sensors recording span */
  sim_camera camera;
  int audio_rate;
  double mic_gain;
  double imu_rate;
  sim_host_clock cam_host, imu_host;
  sim_sensor sensor[2];       /* 0 left wrist, 1 right wrist */
  double audio_ppm;           /* the camera's audio sample clock against its host clock */
  double frame_drop_prob;
  double sink_x;              /* where the sink is (handwashing) */
  double heading_face;        /* heading for in-place activities (faces roughly the camera) */
  int n_ground;
  sim_ground_piece ground[SIM_MAX_GROUND];
} sim_plan;

/* ---------------- the body ---------------- */

enum {
  J_PELVIS, J_NECK, J_HEAD, J_SHOULDER_L, J_SHOULDER_R, J_ELBOW_L, J_ELBOW_R, J_WRIST_L, J_WRIST_R,
  J_HAND_L, J_HAND_R, J_HIP_L, J_HIP_R, J_KNEE_L, J_KNEE_R, J_ANKLE_L, J_ANKLE_R, J_TOE_L, J_TOE_R,
  J_COUNT
};

typedef struct {
  vec3 j[J_COUNT];
  mat3 wrist[2];        /* wrist sensor frames (0 left, 1 right) in the world */
  double heading;
  double head_r;
  double rub;           /* 0..1 hands rubbing intensity (handwashing) */
  double water;         /* 0..1 tap running */
} sim_pose;

/* Precomputed per-session motion state (root path integrated on a fine grid). */
typedef struct sim_body sim_body;
/* Fills p->ground and p->sink_x (laid along the integrated path). */
sim_body *sim_body_new(sim_plan *p);
void sim_body_free(sim_body *b);
void sim_body_pose(const sim_body *b, double t, sim_pose *out);
double sim_body_ground_z(const sim_plan *p, double x);

/* Contact events over [t0,t1): footfalls, landings, claps. */
enum { EV_FOOT_L, EV_FOOT_R, EV_LAND, EV_CLAP };
typedef struct { double t, force; int kind; vec3 at; } sim_contact;
/* Returns the number of events written (at most cap). */
size_t sim_body_contacts(const sim_body *b, double t0, double t1, sim_contact *out, size_t cap);

/* ---------------- planning ---------------- */

typedef struct {
  int n_sessions, n_users, n_locations;
  int stairless_location;   /* index of the location without stairs, -1 none */
  int stairless_clips;      /* clips recorded there (the personalisation set) */
  double clip_s;            /* mean single clip length */
  int schedule_sessions;    /* how many of the sessions are multi-activity schedules */
  int width, height;
  double fps;
  int audio_rate;
  double imu_rate;
  double ntp_spread_s;
  int counts[SIM_N_ACTIVITIES]; /* single clips per activity (sum + schedules = n_sessions) */
} sim_preset;

int sim_preset_get(const char *name, sim_preset *out); /* -1 with error when unknown */
void sim_plan_make(const sim_preset *ps, uint64_t seed, int index, sim_plan *out);
void sim_location_make(uint64_t seed, int index, int has_stairs, sim_location *out);
void sim_person_make(uint64_t seed, int index, sim_person *out);
/* The activity being done at plan time t (the one whose segment holds t), or -1. */
int sim_plan_activity_at(const sim_plan *p, double t);

/* ---------------- video ---------------- */

typedef struct sim_renderer sim_renderer;
sim_renderer *sim_renderer_new(const sim_plan *p);
void sim_renderer_free(sim_renderer *r);
/* Render the frame at plan time t into rgb (width*height*3). frame_index seeds sensor noise. */
/* Where the camera (and its microphone) is at plan time t. */
vec3 sim_camera_position(const sim_plan *p, const sim_body *b, double t);
void sim_render_frame(sim_renderer *r, const sim_body *b, double t, long frame_index, uint8_t *rgb);

typedef struct sim_encoder sim_encoder;
/* H.264 (libx264, Annex B with SPS/PPS repeated at every keyframe). */
sim_encoder *sim_encoder_new(int width, int height, double fps, int gop);
/* Encode one RGB frame (NULL to drain). For every packet produced, cb is called. */
typedef int (*sim_packet_cb)(void *ctx, const uint8_t *data, size_t size, int key, int64_t pts,
                             int64_t dts);
int sim_encoder_encode(sim_encoder *e, const uint8_t *rgb, int64_t pts, sim_packet_cb cb, void *ctx);
void sim_encoder_free(sim_encoder *e);

/* ---------------- audio ---------------- */

typedef struct sim_audio sim_audio;
sim_audio *sim_audio_new(const sim_plan *p, const sim_body *b, double t_start);
void sim_audio_free(sim_audio *a);
/* Produce the next n mono samples of the microphone (plan time advances by n/rate*(1+ppm)). */
void sim_audio_render(sim_audio *a, int16_t *out, int n);

/* Power |X_k|^2 (k < nfft/2) of the Hann-windowed frames of x, frames of nfft every hop samples,
 * full scale 1.0: *frames rows of nfft/2 (malloc'd). */
double *sim_power_frames(const int16_t *x, int n, int nfft, int hop, int *frames);

/* ---------------- IMU ---------------- */

/* Both wrist sensors' ideal readings at plan time t, averaged over one sample period as a
 * sensor's anti-alias filter would: out[side][0..2] specific force (m/s^2) in the sensor frame,
 * out[side][3..5] angular velocity (rad/s); side 0 left, 1 right. */
void sim_imu_ideal(const sim_body *b, double t, double period, double out[2][6]);
/* A sensor's imperfections applied to an ideal reading: scale, bias, noise, range, 16 bits. */
void sim_imu_apply_sensor(const sim_sensor *s, const double ideal[6], sim_rng *noise, float out[6]);

/* ---------------- clocks and links ---------------- */

/* Host clock reading (ns since epoch) at plan time t. */
int64_t sim_host_time_ns(const sim_plan *p, const sim_host_clock *h, double t);
/* The host clock's true error (host minus reference) at plan time t, seconds. */
double sim_host_error_s(const sim_host_clock *h, double t);
/* Device clock reading at plan time t. */
int64_t sim_device_time_ns(const sim_sensor *s, double t);

typedef struct {
  size_t n;               /* samples delivered */
  double *t_sample;       /* plan time each delivered sample was taken */
  int64_t *t_device_ns, *t_host_ns;
  double *latency_s;      /* true delivery latency of each delivered sample */
  size_t n_lost;          /* samples lost in the radio link */
  size_t n_gaps;          /* loss events */
  double *gap_t;          /* plan time of each gap's first lost sample */
  double *gap_len;        /* samples lost in each gap */
} sim_link_result;
/* Simulate sampling at the device's nominal rate over [t_start, t_end) and BLE delivery. */
void sim_link_run(const sim_plan *p, const sim_sensor *s, const sim_host_clock *host, double rate,
                  double t_start, double t_end, uint64_t seed, sim_link_result *out);
void sim_link_free(sim_link_result *r);

/* The chrony answers a recorder on host h would have stored over plan span [t0,t1): one every
 * poll_s. rows must hold (t1-t0)/poll_s + 3 entries (rows is a cm_chrony_row array). */
size_t sim_chrony_rows(const sim_plan *p, const sim_host_clock *h, int host_index, double t0,
                       double t1, void *rows, size_t cap);

/* ---------------- the session writer ---------------- */

typedef struct {
  const char *out_dir;
  const char *export_dir; /* --export-raw: also the phone's MP4s and the raw IMU logs, or NULL */
} sim_output;
/* Simulate one planned session and write its files. Returns 0 or -1 with cm_error(). */
int sim_session_write(const sim_plan *p, const sim_output *o);

/* ---------------- the raw export (sim_export.c) ---------------- */

extern const char *const sim_raw_folders[SIM_N_ACTIVITIES]; /* the study's folder names */
typedef struct sim_mp4 sim_mp4;
sim_mp4 *sim_mp4_open(const char *path, int w, int h, double fps, int audio_rate, int64_t start_host_ns);
int sim_mp4_video(sim_mp4 *m, const uint8_t *data, size_t size, int key, int64_t pts_90k);
int sim_mp4_audio(sim_mp4 *m, const int16_t *pcm, int n);
int sim_mp4_close(sim_mp4 *m, int64_t end_host_ns); /* also sets the file's mtime */
int sim_export_prepare(const char *dir);
int sim_export_imu_part(const char *dir, const char *session_id, const float *right,
                        const int64_t *right_host, size_t n_right, const float *left,
                        const int64_t *left_host, size_t n_left);
int sim_export_finish(const char *dir, const sim_preset *ps, uint64_t seed, int n);

#endif
