/*
 * commands.h
 *	  The subcommands of the k8s-events program.
 *
 * Each takes the arguments after its own name (argv[0] is the subcommand name)
 * and returns the process exit status: 0 success, 1 failure, 2 usage error.
 */
#ifndef K8S_EVENTS_COMMANDS_H
#define K8S_EVENTS_COMMANDS_H

#define EXIT_USAGE 2

/*
 * Report a usage error of a command on stderr ("k8s-events COMMAND: ..." and
 * where to find its help) and return EXIT_USAGE.  Each command defines
 * usage_error(...) as this with its own name.
 */
extern int command_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

extern int cmd_generate(int argc, char **argv);
extern int cmd_load(int argc, char **argv);
extern int cmd_serve(int argc, char **argv);
extern int cmd_simulate(int argc, char **argv);
extern int cmd_watch(int argc, char **argv);

#endif
