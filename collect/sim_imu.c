/*
 * The wrist sensors' physics. An accelerometer measures specific force: the wrist's
 * acceleration minus gravity, in the sensor's own axes as the wrist turns; a gyroscope measures
 * the sensor frame's angular velocity in those same axes. Both are read through a low-pass
 * filter before being sampled, which this models exactly as the mean over one sample period:
 * the mean acceleration over [t-T/2, t+T/2] is the change of velocity across it divided by T,
 * each velocity a central difference of the wrist path (4 pose evaluations per sample), and the
 * mean angular velocity is the rotation between the period's two ends divided by its length.
 * This keeps landings (a real change of velocity within a few milliseconds) as the large but
 * finite peaks a 25 Hz sensor reports, instead of aliasing them.
 *
 * The band is worn a little differently every session (turned about the forearm, tilted), which
 * turns the readings' axes. Sensor errors are those a MEMS datasheet lists: per-axis scale error, bias, white noise,
 * the full-scale range (8 g, 2000 deg/s) with saturation, and 16-bit quantisation.
 */
#include <math.h>

#include "sim.h"

#define GRAV 9.81

void sim_imu_ideal(const sim_body *b, double t, double period, double out[2][6]) {
  const double h = 0.002, T = period;
  sim_pose p[4];
  const double at[4] = {t - T / 2 - h, t - T / 2 + h, t + T / 2 - h, t + T / 2 + h};
  for (int i = 0; i < 4; i++) sim_body_pose(b, at[i], &p[i]);
  for (int s = 0; s < 2; s++) {
    int j = J_WRIST_L + s;
    vec3 v0 = v3_scale(v3_sub(p[1].j[j], p[0].j[j]), 1 / (2 * h));
    vec3 v1 = v3_scale(v3_sub(p[3].j[j], p[2].j[j]), 1 / (2 * h));
    vec3 acc = v3_scale(v3_sub(v1, v0), 1 / T);
    vec3 f = v3_add(acc, v3(0, 0, GRAV)); /* specific force in the world */
    /* the sensor frame in the middle of the period: the mean of the two end frames is close
     * enough for a rotation over 40 ms; use the frame nearest t */
    sim_pose mid;
    sim_body_pose(b, t, &mid);
    vec3 fs = m3_apply_t(mid.wrist[s], f);
    vec3 w = m3_angular_velocity(p[0].wrist[s], p[3].wrist[s], T + 2 * h);
    out[s][0] = fs.x;
    out[s][1] = fs.y;
    out[s][2] = fs.z;
    out[s][3] = w.x;
    out[s][4] = w.y;
    out[s][5] = w.z;
  }
}

static float quantise(double v, double range) {
  if (v > range) v = range;
  if (v < -range) v = -range;
  double lsb = range / 32768.0;
  return (float)(lsb * nearbyint(v / lsb));
}

void sim_imu_apply_sensor(const sim_sensor *s, const double ideal_wrist[6], sim_rng *noise, float out[6]) {
  /* the band's own axes: the wrist frame turned by how it is worn */
  mat3 m = m3_mul(m3_rot_x(s->mount_roll), m3_rot_y(s->mount_pitch));
  vec3 a3 = m3_apply_t(m, v3(ideal_wrist[0], ideal_wrist[1], ideal_wrist[2]));
  vec3 g3 = m3_apply_t(m, v3(ideal_wrist[3], ideal_wrist[4], ideal_wrist[5]));
  double ideal[6] = {a3.x, a3.y, a3.z, g3.x, g3.y, g3.z};
  for (int i = 0; i < 3; i++) {
    double a = ideal[i] * s->acc_scale[i] + s->acc_bias[i] + s->acc_noise * sim_rng_normal(noise);
    double g = ideal[3 + i] * s->gyro_scale[i] + s->gyro_bias[i] + s->gyro_noise * sim_rng_normal(noise);
    out[i] = quantise(a, s->acc_range);
    out[3 + i] = quantise(g, s->gyro_range);
  }
}
