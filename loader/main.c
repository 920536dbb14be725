/*
 * main.c
 *	  The k8s-events program: subcommand dispatch.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
    {"serve", cmd_serve, "serve the dashboard: the page, a JSON API and live events"},
    {"simulate", cmd_simulate, "serve a simulated cluster's Events as a Kubernetes API server"},
    {"watch", cmd_watch, "list and watch a cluster's Events into PostgreSQL"},
};

#define NCOMMANDS ((int) (sizeof(commands) / sizeof(commands[0])))

int
command_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "k8s-events %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry \"k8s-events %s --help\" for more information.\n", command);
	return EXIT_USAGE;
}

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

/*
 * jansson's allocator.  jansson does not survive a NULL from it (its lexer
 * drops the byte it could not store and reads on past its buffer), so the
 * program stops instead, saying why: what it committed is kept, and a load
 * or a watch run again goes on from there.
 */
static void *
json_malloc_or_exit(size_t size)
{
	void *p = malloc(size);

	if (p == NULL)
	{
		fprintf(stderr, "k8s-events: out of memory in the JSON parser (%zu bytes)\n", size);
		exit(2);
	}
	return p;
}

int
main(int argc, char **argv)
{
	json_set_alloc_funcs(json_malloc_or_exit, free);
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
