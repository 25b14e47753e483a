/*
 * rec_env: the real daemons the recorder tests talk to, started and stopped by the tests
 * themselves in a scratch folder: a chronyd NTP server and a chronyd client synchronised to
 * it over loopback (both with -x, so the machine's clock is never touched), and a headless
 * PulseAudio server with a null sink. Nothing here is a stand-in: they are the programs a
 * recording host runs.
 */
#ifndef REC_ENV_H
#define REC_ENV_H

#include <stddef.h>

/* Start a server and a client chronyd under dir/chr; the client's server line gets `offset`
 * seconds (so its system clock reads as that much slow of NTP time). Waits until the client
 * is synchronised (at most 8 s). Returns 0 and the client's command socket path in sock. */
int rec_env_chrony_start(const char *dir, double offset, char *sock, size_t cap);
void rec_env_chrony_stop(const char *dir);

/* Start PulseAudio under dir/pa with a null sink "nullsink" (rate, 1 channel, s16le) and set
 * PULSE_SERVER for this process and its children. Returns 0 when `pactl info` answers. */
int rec_env_pulse_start(const char *dir, int rate);
void rec_env_pulse_stop(const char *dir);

#endif
