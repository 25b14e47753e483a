/*
 * Every cmact subcommand, one function each (git's builtin.h pattern). A command gets argv with
 * argv[0] = its own name and returns its exit code (cm_util.h: 0 ok, 1 run-time failure,
 * 2 usage error). Each lives in its stage's folder as cmd_<name>.c. Every command answers
 * --help itself, printing the usage text from its table entry in cmact.c.
 */
#ifndef CMDS_H
#define CMDS_H

int cmd_simulate(int argc, char **argv);
int cmd_simulate_look(int argc, char **argv);
int cmd_simulate_probe(int argc, char **argv);
int cmd_imu_capture(int argc, char **argv);
int cmd_imu_send(int argc, char **argv);

int cmd_record(int argc, char **argv);
int cmd_label(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_features(int argc, char **argv); /* features/cmd_features.c */
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_experiment(int argc, char **argv); /* train/cmd_experiment.c */
int cmd_demo(int argc, char **argv);       /* train/cmd_demo.c */



int cmd_validate(int argc, char **argv); /* schemas/cmd_validate.c */
int cmd_schema(int argc, char **argv);   /* schemas/cmd_validate.c */
int cmd_inspect(int argc, char **argv);  /* formats/cmd_inspect.c */
int cmd_repair(int argc, char **argv);   /* formats/cmd_repair.c */
int cmd_import(int argc, char **argv);   /* collect/cmd_import.c */

int cmd_sync(int argc, char **argv);

/* The usage text of a command, from the dispatch table; commands print it for --help. */
const char *cmact_usage(const char *cmd);
/* Print the usage of `cmd` to stdout (for --help, returns 0) or a usage error to stderr
 * (returns 2). A convenience for every cmd_* function. */
int cmact_help_exit(const char *cmd, int is_error, const char *fmt, ...);
/* Non-zero when argv holds -h or --help anywhere before a "--". */
int cmact_wants_help(int argc, char **argv);

#endif
