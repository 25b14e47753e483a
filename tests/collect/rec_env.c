/* The daemons of the recorder tests; see rec_env.h. Commands follow shared COMPONENTS.md
 * items 1 and 2 (what was measured to work on this machine kind). */
#include "rec_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm_util.h"
#include "testutil.h"

static int write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

int rec_env_chrony_start(const char *dir, double offset, char *sock, size_t cap) {
  char out[4096], conf[2048];
  /* A port of our own so tests running side by side never share a server. */
  int port = 20000 + (int)(getpid() % 20000);
  tu_run(out, sizeof out, "mkdir -p '%s/chr/srv' '%s/chr/cli' && chmod 700 '%s/chr/srv' '%s/chr/cli'",
         dir, dir, dir, dir);
  snprintf(conf, sizeof conf,
           "port %d\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 8\ncmdport 0\n"
           "bindcmdaddress %s/chr/srv/chronyd.sock\npidfile %s/chr/srv/chronyd.pid\n"
           "driftfile %s/chr/srv/drift\n",
           port, dir, dir, dir);
  if (write_text(tu_path(dir, "chr/srv/chrony.conf"), conf) != 0) return -1;
  snprintf(conf, sizeof conf,
           "server 127.0.0.1 port %d iburst minpoll -2 maxpoll -2 offset %.6f\nport 0\ncmdport 0\n"
           "bindcmdaddress %s/chr/cli/chronyd.sock\npidfile %s/chr/cli/chronyd.pid\n"
           "driftfile %s/chr/cli/drift\n",
           port, offset, dir, dir, dir);
  if (write_text(tu_path(dir, "chr/cli/chrony.conf"), conf) != 0) return -1;
  tu_run(out, sizeof out,
         "cd '%s/chr' && (chronyd -f srv/chrony.conf -x -d -u root > srv/log 2>&1 &) && "
         "(chronyd -f cli/chrony.conf -x -d -u root > cli/log 2>&1 &)",
         dir);
  snprintf(sock, cap, "%s/chr/cli/chronyd.sock", dir);
  for (int i = 0; i < 80; i++) {
    usleep(100000);
    if (tu_run(out, sizeof out, "chronyc -h '%s' tracking", sock) == 0 &&
        strstr(out, "Leap status     : Normal") && strstr(out, "Stratum         : 9"))
      return 0;
  }
  fprintf(stderr, "chronyd pair did not synchronise within 8 s: %s\n", out);
  return -1;
}

void rec_env_chrony_stop(const char *dir) {
  char out[1024];
  tu_run(out, sizeof out,
         "for p in '%s/chr/cli/chronyd.pid' '%s/chr/srv/chronyd.pid'; do "
         "[ -f \"$p\" ] && kill $(cat \"$p\"); done; sleep 0.1",
         dir, dir);
}

int rec_env_pulse_start(const char *dir, int rate) {
  char out[8192];
  tu_run(out, sizeof out, "mkdir -p '%s/pa/rt' '%s/pa/home' && chmod 700 '%s/pa/rt'", dir, dir, dir);
  tu_run(out, sizeof out,
         "cd '%s/pa' && (XDG_RUNTIME_DIR='%s/pa/rt' HOME='%s/pa/home' pulseaudio -n "
         "--daemonize=no --exit-idle-time=-1 --disallow-exit --use-pid-file=no "
         "--log-target=stderr "
         "-L 'module-native-protocol-unix socket=%s/pa/native auth-anonymous=1' "
         "-L 'module-null-sink sink_name=nullsink rate=%d channels=1 format=s16le' "
         "-L module-always-sink > log 2>&1 & echo $! > pid)",
         dir, dir, dir, dir, rate);
  char server[4200];
  snprintf(server, sizeof server, "unix:%s/pa/native", dir);
  setenv("PULSE_SERVER", server, 1);
  for (int i = 0; i < 100; i++) {
    usleep(100000);
    if (tu_run(out, sizeof out, "pactl info") == 0 && strstr(out, "nullsink")) return 0;
  }
  fprintf(stderr, "PulseAudio did not start within 10 s: %s\n", out);
  return -1;
}

void rec_env_pulse_stop(const char *dir) {
  char out[1024];
  tu_run(out, sizeof out, "[ -f '%s/pa/pid' ] && kill $(cat '%s/pa/pid'); sleep 0.2", dir, dir);
}
