/*
 * main.c
 *	  The k8s-events program: subcommand dispatch.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct command
{
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} command;

static const command commands[] = {
    {"generate", cmd_generate, "write a reproducible, realistic Kubernetes Event stream"},
    {"load", cmd_load, "store event dumps (kubectl json/yaml, NDJSON, eventrouter, gzip)"},
    {"simulate", cmd_simulate, "serve a simulated cluster's Events as a Kubernetes API server"},
    {"watch", cmd_watch, "list and watch a cluster's Events into PostgreSQL"},
};

#define NCOMMANDS ((int) (sizeof(commands) / sizeof(commands[0])))

static void
usage(FILE *out)
{
	fprintf(out, "Usage: k8s-events <command> [options]\n"
	             "       k8s-events <command> --help\n"
	             "\n"
	             "Commands:\n");
	for (int i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
	{
		fprintf(stderr, "k8s-events: missing command\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
	{
		usage(stdout);
		return 0;
	}
	for (int i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "k8s-events: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
