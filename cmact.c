/*
 * cmact: one program, one dispatch table of subcommands (git's design). Each entry names the
 * function in its stage's cmd_<name>.c, a one-line summary for `cmact --help`, and the usage
 * text shown by `cmact help CMD` and `cmact CMD --help`. Adding a command is one line here and
 * one prototype in cmds.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cm_util.h"
#include "cmds.h"

struct command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
  const char *usage;
};

static const struct command commands[] = {
    {"simulate", cmd_simulate, "make simulated sessions (video, audio, wrist IMU) from a body model",
     "usage: cmact simulate --out DIR [--preset quick|cmactivity] [--seed N] [--threads N]\n"
     "                      [--sessions N] [--every K] [--schedules N] [--width W --height H] [--fps F]\n"
     "                      [--audio-rate 22050|44100|48000] [--imu-rate HZ] [--ntp-spread S]\n"
     "                      [--export-raw DIR]\n"
     "       cmact simulate --live [--preset P] [--seed N] [--session I] [--duration S]\n"
     "                      [--imu-left udp:HOST:PORT] [--imu-right udp:HOST:PORT]\n"
     "                      [--video-to HOST:PORT] [--audio-to HOST:PORT] [--imu-frame N]\n"
     "                      [--loss P] [--dup P] [--reorder P] [--wire-log FILE.csv]\n"
     "\n"
     "Simulates a person doing the study's activities (downstairs, upstairs, run, jump, walk,\n"
     "handwashing, exercise) in several locations, seen by a phone camera (H.264 video, audio)\n"
     "and two BLE wrist sensors, each host with its own clock. Writes per session\n"
     "DIR/<session>_camera.h5 and DIR/<session>_wrist.h5 (ground truth under /truth), and\n"
     "DIR/sessions.csv. The same --seed gives byte-identical files.\n"
     "\n"
     "  --preset      quick: 8 short sessions at 160x120 (tests); cmactivity: the study's\n"
     "                corpus, 767 clips of ~10 s, 2 users, 6 locations (default quick)\n"
     "  --seed        random seed (default 1)\n"
     "  --threads     sessions made in parallel (default 2)\n"
     "  --sessions    make only the first N sessions of the preset\n"
     "  --every K     make only every K-th session (a sample spread over the corpus)\n"
     "  --schedules   number of multi-activity sessions (walk, stairs, wash, run, ...)\n"
     "  --ntp-spread  bound of each host's NTP error in seconds (default 0.5)\n"
     "  --export-raw  also write the clips as a phone and wrist sensors would have left them:\n"
     "                DIR/<activity>/<session>.mp4 (H.264 + AAC), DIR/raw3|raw4|raw11|raw12/\n"
     "                imu.csv.gz (right acc, right gyro, left acc, left gyro; rows\n"
     "                timestamp_ms,0,x,y,z) and DIR/manifest.csv\n"
     "\n"
     "--live plays session I of the preset (default 0) in real time as its devices would send\n"
     "it: each wrist sensor's PMD frames in cmact wire envelopes to --imu-left/--imu-right\n"
     "(udp: or tcp:, as 'cmact record --imu' receives them), the camera's H.264 as RTP\n"
     "(rtph264pay, pt 96) to --video-to and its microphone as L16 RTP (mono, pt 96) to\n"
     "--audio-to. --duration S cuts the session's span short; --loss/--dup/--reorder are\n"
     "per-frame probabilities on the IMU links (deterministic for --seed); --imu-frame is the\n"
     "samples per PMD frame (default ~80 ms worth); --wire-log writes every measured sample and\n"
     "every frame's fate (docs: collect/sim_live.h).\n"},
    {"simulate-look", cmd_simulate_look, "draw the simulated world: contact sheet, spectrograms, IMU traces",
     "usage: cmact simulate-look --out DIR [--seed N]\n"
     "\n"
     "Writes DIR/contact_sheet.png (a camera frame per activity and location of the cmactivity\n"
     "preset), DIR/spectrogram_<activity>.png and DIR/imu_<activity>.png (4 s of the microphone\n"
     "and of both wrist sensors per activity), from the same generators as 'cmact simulate'.\n"},
    {"imu-capture", cmd_imu_capture, "record wrist IMU sensors (BLE or network) into a session file",
     "usage: cmact imu-capture --imu NAME=SPEC [--imu NAME=SPEC ...] --out FILE.h5\n"
     "                         [--duration S] [--rate HZ] [--session ID] [--user U]\n"
     "                         [--location L] [--overwrite]\n"
     "\n"
     "Records each sensor into stream imu_NAME (N x 6: acc m/s^2, gyro rad/s, with t_device_ns\n"
     "and t_host_ns) plus events for lost, duplicated and reordered frames, gaps and\n"
     "reconnects, until --duration seconds have passed (0 = until Ctrl-C).\n"
     "SPEC: ble:AA:BB:CC:DD:EE:FF[/random]  Polar PMD sensor (Verity Sense, OH1, H10) via BlueZ\n"
     "      udp:HOST:PORT[/SENSOR]          cmact IMU envelopes on a UDP port (phone app, gateway,\n"
     "                                      simulator, cmact imu-send)\n"
     "      tcp:HOST:PORT[/SENSOR]          the same from a bridge connecting over TCP\n"
     "--rate HZ   BLE sample rate wanted for ACC and GYRO (nearest offered; default 52);\n"
     "            also the nominal_rate attribute of network streams (the frames carry theirs)\n"},
    {"imu-send", cmd_imu_send, "play a synthetic wrist sensor over UDP/TCP (for testing capture)",
     "usage: cmact imu-send --to udp:HOST:PORT|tcp:HOST:PORT [--sensor ID] [--rate HZ]\n"
     "                      [--duration S] [--frame N] [--loss P] [--dup P] [--reorder P]\n"
     "                      [--seed N] [--clock-offset S] [--drift-ppm PPM] [--no-realtime]\n"
     "\n"
     "Sends ACC and GYRO PMD frames of N samples (default 16) in cmact IMU envelopes, with\n"
     "frames dropped, duplicated or sent late with the given probabilities (seeded).\n"},
    {"record", cmd_record, "record camera video and audio (GStreamer) and wrist IMUs with chrony clock metadata",
     "usage: cmact record --out FILE.h5 [options]\n"
     "\n"
     "Records video (encoded once, H.264 or MJPEG) and PCM audio from GStreamer sources into a\n"
     "crash-safe session file, with chronyd's clock state every few seconds. Ends after\n"
     "--duration, on SIGINT/SIGTERM (Ctrl-C), or when the sources end.\n"
     "\n"
     "  --out, -o FILE.h5        session file to write (required)\n"
     "  --force                  replace FILE if it exists\n"
     "  --video 'GST-SOURCE'     video source description (default: v4l2src), e.g.\n"
     "                           'videotestsrc is-live=true', 'v4l2src device=/dev/video1'\n"
     "  --audio 'GST-SOURCE'     audio source description (default: pulsesrc when a PulseAudio\n"
     "                           server answers, else alsasrc), e.g. 'audiotestsrc is-live=true'\n"
     "  --no-video, --no-audio   record without that stream\n"
     "  --video-codec h264|mjpeg encoder (default h264: x264enc, Annex B byte stream)\n"
     "  --size WxH, --fps N[/D]  video size and rate (default: as the source delivers)\n"
     "  --bitrate KBPS           H.264 bit rate (default 2000)\n"
     "  --jpeg-quality Q         MJPEG quality 1-100 (default 85)\n"
     "  --audio-rate HZ          audio rate (default: the device's)\n"
     "  --audio-channels N       audio channels (default: the device's)\n"
     "  --duration S             stop after S seconds (default: until stopped)\n"
     "  --label ACTIVITY         label the whole recording (downstairs, upstairs, run, jump,\n"
     "                           walk, handwashing, exercise)\n"
     "  --user U, --location L   stored as session attributes\n"
     "  --session-id ID          shared by the files of one session (default: time-host)\n"
     "  --chrony-socket PATH     chronyd's command socket (default /run/chrony/chronyd.sock)\n"
     "  --chrony-interval S      ask chronyd every S seconds (default 4; 0: never)\n"
     "  --imu NAME=SPEC          also record a wrist IMU as stream imu_NAME (repeatable, up to 4);\n"
     "                           SPEC: ble:AA:BB:CC:DD:EE:FF[/random] (Polar PMD sensor),\n"
     "                           udp:HOST:PORT[/SENSOR] or tcp:HOST:PORT[/SENSOR] (cmact wire\n"
     "                           envelopes, e.g. from 'cmact simulate --live'). With --imu and\n"
     "                           no --video/--audio/--no-* option, only the IMUs are recorded\n"
     "                           (add --video auto --audio auto for the default devices too)\n"
     "  --imu-rate HZ            rate asked of BLE sensors and stored as nominal (default 52)\n"
     "  --status, --no-status    one-line live status on stderr (default: on a terminal)\n"
     "  --summary-json FILE      write the summary as JSON too\n"},
    {"label", cmd_label, "add or correct an activity label interval in a session file",
     "usage: cmact label FILE.h5 START END ACTIVITY\n"
     "\n"
     "Labels [START, END) with ACTIVITY, replacing the parts of existing labels it overlaps.\n"
     "START and END are seconds from the start of the recording (e.g. 2.5), or absolute times\n"
     "as @UNIX-SECONDS or YYYY-MM-DDTHH:MM:SS[.frac]Z (reference time, UTC).\n"
     "ACTIVITY is one of downstairs, upstairs, run, jump, walk, handwashing, exercise, or\n"
     "'none' to remove labels in the interval. The file must not be being recorded.\n"},
    {"export", cmd_export, "remux a session's video and audio into an MP4 (no video re-encoding)",
     "usage: cmact export FILE.h5 --mp4 OUT.mp4 [--force]\n"
     "\n"
     "Writes the stored H.264 (or MJPEG) packets unchanged into OUT.mp4, with the PCM audio\n"
     "encoded to AAC and placed by its capture time, so that any player can check a recording.\n"
     "Works on files whose recorder was killed, up to what they committed.\n"},
    {"sync", cmd_sync, "align session files on one timeline and build the windowed dataset",
     "usage: cmact sync [OPTIONS] SESSION.h5|FOLDER... --out DATASET.h5\n"
     "\n"
     "Aligns every session's streams on the reference timeline (sensor clock -> host clock on the\n"
     "lower envelope of arrival times, host -> NTP time from the chrony answers, then a cross-modal\n"
     "refinement of each wrist against the camera's microphone: impact sounds against the wrist's\n"
     "acceleration, or for hand washing the level envelopes of both), cuts windows, splits them and\n"
     "writes the dataset. Files sharing a session_id are one session.\n"
     "\n"
     "  --out, -o PATH        dataset file to write (required; PATH.report.json gets the report)\n"
     "  --force               overwrite an existing dataset\n"
     "  --split FILE          split file (JSON, see README); default: the study's split\n"
     "  --seed N              seed of every draw (overrides the split file's)\n"
     "  --threads, -j N       worker threads (default 2); output is identical for any N\n"
     "  --window S, --hop S   window length and hop in seconds (default 2.0, 0.4)\n"
     "  --frames N --size PX  video frames per window and frame side (default 45, 64)\n"
     "  --imu-steps N         IMU steps per window (default 40)\n"
     "  --keep-straddling     keep windows across an activity change, labelled by majority\n"
     "  --refine best|confident|off   apply the refinement's best peak on clips of 6 s or more\n"
     "                        (best, the default; the clock model's bound is stated where the\n"
     "                        peak has rivals), only peaks without rivals (confident), or none\n"
     "  --no-refine           the same as --refine off (clock model only)\n"
     "  --max-gap S           a hole longer than this drops the windows over it (default 0.5)\n"
     "  --inject-offset MOD=S shift stream MOD (video, audio, imu, imu_left, imu_right) by S seconds\n"
     "                        after alignment, on purpose (experiments on sync error)\n"
     "  --inject-drift MOD=PPM  the same as a drift, counted from the stream's first sample\n"
     "  --report FILE         where to write the JSON report\n"},
    {"bench", cmd_bench, "measure training throughput against PyTorch's (see scripts/bench-train.sh)",
     "usage: cmact bench train --model imu_cnn|audio_mlp|video_c3d [--input FxSxSxC]\n"
     "                         [--steps N] [--threads T] [--batch B]\n"
     "\n"
     "Trains the model on synthetic data for N timed steps (after one warm-up step) with Adam\n"
     "and prints samples per second, the dense layers' GFLOP/s next to OpenBLAS's sgemm peak\n"
     "measured in the same run, and the peak RSS, as 'key: value' lines.\n"
     "  --model M      imu_cnn (40x12), audio_mlp (193) or video_c3d\n"
     "  --input F      video input FRAMESxSIDExSIDExCHANNELS (default 45x64x64x3)\n"
     "  --steps N      timed steps (default 10)\n"
     "  --threads T    OpenBLAS threads (default 1)\n"
     "  --batch B      batch size (default 128)\n"},
    {"train", cmd_train, "train a model on a dataset split; show a model's layers",
     "usage: cmact train fit --model imu_cnn|audio_mlp|video_c3d --data DATASET.h5 --out MODEL.h5\n"
     "                       --epochs N [--split pretrain] [--batch 128] [--lr 1e-3] [--seed 1]\n"
     "                       [--val-fraction 0.1] [--patience 0] [--threads 1] [--input FxSxSxC]\n"
     "                       [--checkpoint FILE [--checkpoint-every 1] [--resume]] [--overwrite]\n"
     "       cmact train show --model M [--input FxSxSxC] | --file MODEL.h5\n"
     "\n"
     "fit trains with Adam (eps 1e-7) and softmax cross-entropy on the split's windows of the\n"
     "model's modality. A seeded --val-fraction of the split is held out for validation (never\n"
     "the test split); the weights of the epoch with the lowest validation loss are kept;\n"
     "--patience N stops after N epochs without improvement. --checkpoint writes the whole run\n"
     "state every --checkpoint-every epochs; --resume continues a killed run from it and ends on\n"
     "the same bits as an uninterrupted run (same --threads). --input picks a smaller video\n"
     "input (frames and side must divide the dataset's). Prints one line per epoch.\n"
     "show prints the layers and parameter counts.\n"
     "\n"
     "The RecycleML procedures (train/proc_cmd.c), each printing its test accuracy:\n"
     "       cmact train teacher --modality video|audio|imu --data D --out T.h5 [--epochs 100]\n"
     "       cmact train transfer --teacher T.h5 --student video|audio|imu --data D --out G.h5\n"
     "                            [--epochs 500 (1000 for video->imu)]   (also prints PureTransfer)\n"
     "       cmact train pure --teacher T.h5 --student G.h5 --data D [--out P.h5]\n"
     "       cmact train limited --student G.h5 --data D --out L.h5 [--epochs 100] [--labels 500]\n"
     "       cmact train scratch --modality M --data D --out S.h5 [--epochs 500] [--labels 500]\n"
     "       common: [--seed 1] [--lr 1e-3] [--batch 128] [--val-fraction 0.1] [--patience 0]\n"
     "               [--input FxSxSxC] [--overwrite]\n"
     "transfer trains the student up to DENSE_1 with MSE on the teacher's DENSE_1 outputs over the\n"
     "transfer split; pure = that student + the teacher's own ReLU and output layer; limited\n"
     "freezes the student and trains a new output layer on --labels windows drawn from the\n"
     "limited split; scratch trains the whole model on the same draw. Weights are chosen on a\n"
     "validation part carved from the training data, never on the test split.\n"
     "\n"
     "The supervised audio+IMU fusion model (Sandha et al., IoTDI 2020; train/nn_fusion.h):\n"
     "       cmact train fusion --data D --out F.h5 [--splits pretrain,limited] [--epochs 100]\n"
     "                          [--seed 1] [--lr 1e-3] [--batch 128] [--val-fraction 0.1]\n"
     "                          [--patience 0] [--overwrite]\n"
     "the IMU CNN and the audio MLP up to DENSE_1_relu, concatenated, a dense softmax layer; trained\n"
     "on the windows of --splits with a validation part carved from them; prints test accuracy.\n"},
    {"validate", cmd_validate, "check cmact files against their schema and invariants",
     "usage: cmact validate [--quiet] FILE...\n"
     "\n"
     "Checks each file against the schema of its kind (session, dataset, model) and against\n"
     "the invariants that matter: timestamps non-decreasing, packet index consistent with\n"
     "the byte stream, split sizes, labels within the known classes, a model's weights\n"
     "fitting its layer list with finite values. Every violation is\n"
     "listed, one per line, as FILE: PATH: problem. A recording that was cut off (crash,\n"
     "power loss) is reported as unfinished with how much it holds; `cmact repair` closes it.\n"
     "Exit status: 0 when every file is valid, 1 otherwise.\n"},
    {"inspect", cmd_inspect, "summarise a session, dataset or model file",
     "usage: cmact inspect FILE...\n"
     "\n"
     "Session: streams with duration, rate, sample count, gaps, dropped frames, clock-offset\n"
     "statistics. Dataset: splits with sizes and class counts. Model: architecture,\n"
     "parameter count, training history.\n"},
    {"schema", cmd_schema, "print the schema of each file kind as Markdown",
     "usage: cmact schema [session|dataset|model]...\n"
     "\n"
     "Prints the machine-readable schema that `cmact validate` checks against, as Markdown\n"
     "(docs/formats.md is this output).\n"},
    {"repair", cmd_repair, "close a recording that was cut off (crash, power loss)",
     "usage: cmact repair [--no-backup] FILE\n"
     "\n"
     "Rewrites a session file whose writer died into an ordinary closed file, keeping every\n"
     "row that was committed by a flush and dropping trailing rows that never were. The\n"
     "original is kept as FILE.unrepaired unless --no-backup is given. A file that is\n"
     "already closed is left untouched.\n"},
    {"experiment", cmd_experiment, "run the study's experiments: Table 3, Fig. 3-5, the sync-error sweep",
     "usage: cmact experiment table3|epochs|labels|related|sync-error|fusion-sync --data DATASET.h5 --out DIR\n"
     "                        [--runs 10] [--threads 2] [--seed 0] [--input FxSxSxC]\n"
     "                        [--teacher-epochs 100] [--transfer-epochs 500] [--limited-epochs 100]\n"
     "                        [--scratch-epochs 500] [--labels 500] [--batch 128] [--patience 0]\n"
     "                        [--pair video-imu] [--label-counts 10,20,50,100,200,500,976]\n"
     "                        [--video-widths 32,64,128,128,372]\n"
     "                        [--sessions DIR --offsets -4,...,4 --sync-args 'ARGS' --cmact PATH]\n"
     "                        [--train-sessions DIR --aug-offsets -1,-0.5,-0.25,0.25,0.5,1 --aug-fraction 1]\n"
     "\n"
     "  table3      the four transfers (video->audio, video->IMU, IMU->video, IMU->audio):\n"
     "              teacher, PureTransfer, Transfer+LimitedTrain, Scratch, mean and sd over runs,\n"
     "              Welch's t-test against scratch, the paper's numbers beside ours\n"
     "  epochs      the same runs, with test accuracy per epoch (Fig. 3)\n"
     "  labels      accuracy against the number of labelled windows (Fig. 4), for --pair\n"
     "  related     video teacher with 7 classes -> IMU with 5 classes on the personalisation\n"
     "              splits (Fig. 5)\n"
     "  sync-error  runs `cmact sync --inject-offset STUDENT=S` for each offset on the sessions of\n"
     "              --sessions that change activity (not those in --data's test/personal splits)\n"
     "              and measures PureTransfer and Transfer+LimitedTrain against the offset, with\n"
     "              the share of windows whose student data come from another activity; teacher,\n"
     "              LimitTrainSet and test split come from the aligned --data\n"
     "  fusion-sync the supervised audio+IMU fusion model (Sandha et al.) against an IMU offset:\n"
     "              trained on --data's pretrain+limited windows, aligned and with shifted copies\n"
     "              (--aug-offsets over an --aug-fraction of the sessions of --train-sessions);\n"
     "              tested on the multi-activity sessions of --sessions per offset; IMU alone and\n"
     "              audio alone as baselines; --teacher-epochs epochs each\n"
     "Writes DIR/NAME.md (also printed), NAME.csv, NAME.json and figures (PNG and SVG). Runs go in\n"
     "parallel on --threads, each with single-threaded BLAS; results do not depend on --threads.\n"
     "Model selection uses a validation part of each procedure's training data, never the test\n"
     "split; every report states the input sizes used.\n"},
    {"demo", cmd_demo, "the end-to-end demo: simulate, sync, train, transfer, sweep, plots",
     "usage: cmact demo --out DIR [--threads 2] [--runs 2]\n"
     "\n"
     "Simulates a small corpus, builds the dataset with `cmact sync`, trains the teachers, runs\n"
     "the four transfers and a reduced sync-error sweep at reduced scale, prints the table and\n"
     "writes the plots under DIR. Steps whose command is not built in say so and are skipped.\n"},
    {"simulate-probe", cmd_simulate_probe, "check the simulated world's difficulty with simple probes",
     "usage: cmact simulate-probe [--sessions N] [--seed N] [--threads N] [--width W --height H]\n"
     "                            [--json FILE]\n"
     "\n"
     "Simulates N sessions spread over the cmactivity preset (default 140), cuts them into 2 s\n"
     "windows and classifies the activity per modality (video motion statistics, audio band\n"
     "energies, IMU channel statistics) with a nearest-centroid and a logistic-regression probe,\n"
     "trained on 80% of the sessions and tested on the rest. Prints accuracy per modality.\n"},
    {"import", cmd_import, "turn phone videos and IMU logs (the CMActivity raw layout too) into sessions",
     "usage: cmact import cmactivity-raw DIR --out SESSIONS/ [options]\n"
     "       cmact import video FILE... --out OUT [--imu STREAM=ACC,GYRO]... [options]\n"
     "\n"
     "Copies each video's packets without re-encoding (H.264 stored as Annex B), decodes its\n"
     "audio to 16-bit PCM at its own rate, and takes the IMU rows that fall in the video's time\n"
     "span. The raw layout: DIR/raw3 raw4 raw11 raw12 (right acc, right gyro, left acc, left\n"
     "gyro; gzip CSV rows timestamp_ms,<unused>,x,y,z), videos under activity folders\n"
     "(downstair upstair run jump walk handwashing exercise), DIR/manifest.csv with\n"
     "video (or file),user,location[,session_id]. A bad input is reported and skipped; exit status 1 when\n"
     "anything was skipped.\n"
     "\n"
     "Start time (first available): container creation time, a sidecar (VIDEO.start or\n"
     "--sidecar: lines 'start_utc = ISO8601' or 'start_utc_ns = N', 'uncertainty_s = S'),\n"
     "file mtime minus duration.\n"
     "  --out PATH             folder of SESSION.h5 files; for `video`, a .h5 path for one file\n"
     "  --manifest FILE        manifest CSV (default DIR/manifest.csv when present)\n"
     "  --imu S=ACC,GYRO       (video) IMU stream S from an accelerometer and a gyroscope CSV\n"
     "  --columns SPEC         (video) CSV columns: t=NAME|#IDX,x=..,y=..,z=.. (default\n"
     "                         t=#0,x=#2,y=#3,z=#4); --acc-columns/--gyro-columns per sensor\n"
     "  --time-unit s|ms|us|ns (video) unit of the time column (default ms)\n"
     "  --label ACT --user U --location L --session-id ID   (video) session metadata\n"
     "  --pad S                take IMU rows from S seconds around the video span (default 0)\n"
     "  --start-from auto|creation_time|sidecar|mtime   force one kind of evidence\n"
     "  --sidecar FILE         start-time sidecar for the video\n"
     "  --creation-tz +HH:MM   the camera wrote local time at this offset into creation_time\n"
     "  --creation-marks start|end   creation_time marks the start (default) or end of recording\n"
     "  --mtime-uncertainty S  stated uncertainty of the mtime heuristic (default 2)\n"
     "  --summary FILE.csv     one row per input: status, session file, start source, reason\n"
     "  --overwrite            replace existing session files\n"},
    {"features", cmd_features, "the librosa-compatible audio 193-vector of a WAV file, and its benchmark",
     "usage: cmact features audio [--csv OUT.csv] FILE.wav\n"
     "       cmact features bench [--seconds S] [FILE.wav]\n"
     "\n"
     "audio: the RecycleML audio vector (40 MFCC, 12 chroma, 128 mel, 7 contrast, 6 tonnetz,\n"
     "as librosa 0.9.2 computes them) of every 2-s window of FILE, hop 0.4 s, mono at\n"
     "22050 Hz (other rates are refused; channels are averaged). One CSV row per window in the\n"
     "layout of librosa's reference features.csv (window,start,end,mfcc_00,...,tonnetz_5), to\n"
     "OUT.csv or to stdout. A file shorter than 2 s has no windows (header only).\n"
     "bench: time per window on one core for about S seconds (default 3), and the speed-up\n"
     "over librosa's 152.9 ms per window. Without FILE a fixed synthetic signal is used.\n"},
    /* ENTRIES */
    {NULL, NULL, NULL, NULL},
};


static const struct command *find_command(const char *name) {
  for (size_t i = 0; commands[i].name; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

const char *cmact_usage(const char *cmd) {
  const struct command *c = find_command(cmd);
  return c ? c->usage : "";
}

int cmact_help_exit(const char *cmd, int is_error, const char *fmt, ...) {
  if (!is_error) {
    fputs(cmact_usage(cmd), stdout);
    return CM_EXIT_OK;
  }
  char line[1024] = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
  }
  fprintf(stderr, "cmact %s: %s (see 'cmact help %s')\n", cmd, line, cmd);
  return CM_EXIT_USAGE;
}

int cmact_wants_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
  }
  return 0;
}

static void print_overview(FILE *f) {
  fprintf(f,
          "usage: cmact [--version] [--help] COMMAND [ARGS]\n"
          "\n"
          "Record, align and window multimodal activity data (video, audio, wrist IMU) and run\n"
          "cross-modal knowledge transfer on it (the RecycleML study on CMActivity).\n"
          "\n"
          "Commands:\n");
  for (size_t i = 0; commands[i].name; i++)
    fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n'cmact help COMMAND' or 'cmact COMMAND --help' shows a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    print_overview(stderr);
    return CM_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
    print_overview(stdout);
    return CM_EXIT_OK;
  }
  if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
    printf("cmact %s\n", CMACT_VERSION);
    return CM_EXIT_OK;
  }
  if (strcmp(name, "help") == 0) {
    if (argc < 3) {
      print_overview(stdout);
      return CM_EXIT_OK;
    }
    const struct command *c = find_command(argv[2]);
    if (!c) {
      fprintf(stderr, "cmact help: '%s' is not a cmact command (see 'cmact --help')\n", argv[2]);
      return CM_EXIT_USAGE;
    }
    fputs(c->usage, stdout);
    return CM_EXIT_OK;
  }
  const struct command *c = find_command(name);
  if (!c) {
    fprintf(stderr, "cmact: '%s' is not a cmact command (see 'cmact --help')\n", name);
    return CM_EXIT_USAGE;
  }
  if (cmact_wants_help(argc - 1, argv + 1)) {
    fputs(c->usage, stdout);
    return CM_EXIT_OK;
  }
  return c->fn(argc - 1, argv + 1);
}
