/*
 * generate.c
 *	  `k8s-events generate`: write the Event stream of a simulated cluster.
 *
 * Output is a pure function of the arguments (the seed included), so test data
 * and benchmarks can be regenerated anywhere; only --start now-... reads the
 * clock, and only to place the start.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse_args.h"
#include "model/cluster.h"
#include "commands.h"
#include "model/event_json.h"
#include "core/rfc3339.h"

#define DEFAULT_START "2024-01-01T00:00:00Z"
#define MAX_HOURS     87600.0 /* ten years */
#define MAX_LIST_SIZE 100000
/* Keeps Event name suffixes (UnixNano) and timestamps in range. */
#define MIN_START_US INT64_C(0)
#define MAX_END_US   (INT64_C(7258118400) * 1000000) /* 2200-01-01T00:00:00Z */

typedef enum
{
	FMT_NDJSON,
	FMT_WATCH,
	FMT_LIST
} out_format;

typedef struct gen_state
{
	out_format format;
	int        list_size;
	ej_buf     buf;
	ej_buf     list;
	int        list_count;
	uint64_t   list_rv;
	FILE      *out;
} gen_state;

static void
gen_usage(FILE *out)
{
	fprintf(out,
	        "Usage: k8s-events generate [options]\n"
	        "\n"
	        "Writes the Event stream of a simulated Kubernetes cluster to standard output:\n"
	        "rollouts, probe failures, OOM kills and crash loops, NotReady nodes and the pods\n"
	        "they take down, HPA rescales, CronJob runs, scheduling and image pull failures.\n"
	        "The same arguments always produce the same bytes.\n"
	        "\n"
	        "Options:\n"
	        "  --seed N              PRNG seed, an unsigned integer (default 1)\n"
	        "  --start TIME          simulated start: RFC 3339 (e.g. 2024-05-01T08:00:00Z),\n"
	        "                        \"now\" or now-N{d,h,m,s} such as now-7d\n"
	        "                        (default " DEFAULT_START ")\n"
	        "  --hours H             simulated duration in hours, may be fractional (default 168)\n"
	        "  --nodes N             worker nodes, 1..%d (default 10)\n"
	        "  --namespaces N        application namespaces, 1..%d (default 4)\n"
	        "  --format F            ndjson: one Event per line (default)\n"
	        "                        watch:  one watch frame {\"type\",\"object\"} per line\n"
	        "                        list:   one EventList of up to --list-size items per line\n"
	        "  --list-size N         items per EventList with --format list, 1..%d (default 500)\n"
	        "  --cluster-version V   core: every Event as core/v1 (default)\n"
	        "                        mixed: also events.k8s.io/v1 and old-server core/v1 shapes\n"
	        "  -h, --help            show this help\n",
	        CM_MAX_NODES, CM_MAX_NAMESPACES, MAX_LIST_SIZE);
}

#define usage_error(...) command_usage_error("generate", __VA_ARGS__)

static bool
flush_list(gen_state *g)
{
	if (g->list_count == 0)
		return true;
	fputs("{\"kind\":\"EventList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"",
	      g->out);
	fprintf(g->out, "%" PRIu64 "\"},\"items\":[", g->list_rv);
	fwrite(g->list.data, 1, g->list.len, g->out);
	fputs("]}\n", g->out);
	g->list.len = 0;
	g->list_count = 0;
	return !ferror(g->out);
}

static bool
write_obs(const cm_obs *o, void *arg)
{
	gen_state *g = arg;

	switch (g->format)
	{
		case FMT_NDJSON:
			g->buf.len = 0;
			ej_event(&g->buf, o);
			ej_append(&g->buf, "\n", 1);
			break;
		case FMT_WATCH:
			g->buf.len = 0;
			ej_puts(&g->buf, o->modified ? "{\"type\":\"MODIFIED\",\"object\":"
			                             : "{\"type\":\"ADDED\",\"object\":");
			ej_event(&g->buf, o);
			ej_append(&g->buf, "}\n", 2);
			break;
		case FMT_LIST:
			if (g->list_count > 0)
				ej_append(&g->list, ",", 1);
			ej_event(&g->list, o);
			g->list_rv = o->resource_version;
			if (++g->list_count >= g->list_size)
				return flush_list(g);
			return true;
	}
	return fwrite(g->buf.data, 1, g->buf.len, g->out) == g->buf.len;
}

int
cmd_generate(int argc, char **argv)
{
	cm_config   cfg = {.seed = 1, .nodes = 10, .namespaces = 4, .mixed = false};
	const char *start_text = DEFAULT_START;
	double      hours = 168;
	gen_state   g = {.format = FMT_NDJSON, .list_size = 500, .out = stdout};
	char        err[256] = "";
	cm_model   *m;
	int64_t     start;
	static char outbuf[1 << 20];

	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const char *val;
		const char *eq;
		char        opt[32];
		long        n;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
		{
			gen_usage(stdout);
			return 0;
		}
		if (strncmp(arg, "--", 2) != 0)
			return usage_error("unexpected argument \"%s\"", arg);
		eq = strchr(arg, '=');
		if (eq)
		{
			snprintf(opt, sizeof(opt), "%.*s", (int) (eq - arg < 31 ? eq - arg : 31), arg);
			val = eq + 1;
		}
		else
		{
			snprintf(opt, sizeof(opt), "%s", arg);
			val = NULL;
		}
		if (strcmp(opt, "--seed") && strcmp(opt, "--start") && strcmp(opt, "--hours") &&
		    strcmp(opt, "--nodes") && strcmp(opt, "--namespaces") && strcmp(opt, "--format") &&
		    strcmp(opt, "--list-size") && strcmp(opt, "--cluster-version"))
			return usage_error("unknown option \"%s\"", arg);
		if (val == NULL)
		{
			if (i + 1 >= argc)
				return usage_error("option %s needs a value", opt);
			val = argv[++i];
		}
		if (strcmp(opt, "--seed") == 0)
		{
			if (!parse_u64(val, &cfg.seed))
				return usage_error("--seed must be an unsigned 64-bit integer, not \"%s\"", val);
		}
		else if (strcmp(opt, "--start") == 0)
			start_text = val;
		else if (strcmp(opt, "--hours") == 0)
		{
			char *end;

			errno = 0;
			hours = strtod(val, &end);
			if (*val == '\0' || *end != '\0' || errno != 0 || !isfinite(hours) || hours <= 0 ||
			    hours > MAX_HOURS)
				return usage_error("--hours must be a number greater than 0 and at most 87600, "
				                   "not \"%s\"",
				                   val);
		}
		else if (strcmp(opt, "--nodes") == 0)
		{
			if (!parse_long(val, 1, CM_MAX_NODES, &n))
				return usage_error("--nodes must be an integer from 1 to 1000, not \"%s\"", val);
			cfg.nodes = (int) n;
		}
		else if (strcmp(opt, "--namespaces") == 0)
		{
			if (!parse_long(val, 1, CM_MAX_NAMESPACES, &n))
				return usage_error("--namespaces must be an integer from 1 to 200, not \"%s\"",
				                   val);
			cfg.namespaces = (int) n;
		}
		else if (strcmp(opt, "--list-size") == 0)
		{
			if (!parse_long(val, 1, MAX_LIST_SIZE, &n))
				return usage_error("--list-size must be an integer from 1 to 100000, not \"%s\"",
				                   val);
			g.list_size = (int) n;
		}
		else if (strcmp(opt, "--format") == 0)
		{
			if (strcmp(val, "ndjson") == 0)
				g.format = FMT_NDJSON;
			else if (strcmp(val, "watch") == 0)
				g.format = FMT_WATCH;
			else if (strcmp(val, "list") == 0)
				g.format = FMT_LIST;
			else
				return usage_error("--format must be ndjson, watch or list, not \"%s\"", val);
		}
		else
		{
			if (strcmp(val, "core") == 0)
				cfg.mixed = false;
			else if (strcmp(val, "mixed") == 0)
				cfg.mixed = true;
			else
				return usage_error("--cluster-version must be core or mixed, not \"%s\"", val);
		}
	}

	if (!parse_relative_time(start_text, &start, err, sizeof(err)) &&
	    !rfc3339_parse(start_text, strlen(start_text), &start, err, sizeof(err)))
		return usage_error(
		    "invalid --start \"%s\": %s (expected RFC 3339, \"now\" or now-N{d,h,m,s})", start_text,
		    err);
	if (err[0])
		return usage_error("invalid --start \"%s\": %s", start_text, err);
	/* whole seconds, so that no second-resolution timestamp precedes the start */
	if (start > 0 && start % 1000000 != 0)
		start += 1000000 - start % 1000000;
	cfg.start_us = start;
	cfg.end_us = start + (int64_t) llround(hours * 3600.0 * 1e6);
	if (cfg.start_us < MIN_START_US || cfg.end_us > MAX_END_US)
		return usage_error("--start and --hours must keep the simulation between 1970-01-01 and "
		                   "2200-01-01 (start \"%s\", %g hours)",
		                   start_text, hours);

	m = cm_create(&cfg, write_obs, &g, err, sizeof(err));
	if (m == NULL)
	{
		fprintf(stderr, "k8s-events generate: %s\n", err);
		return EXIT_USAGE;
	}
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	if (cm_step(m, INT64_MAX) >= 0 && g.format == FMT_LIST)
		flush_list(&g);
	cm_destroy(m);
	ej_free(&g.buf);
	ej_free(&g.list);
	if (fflush(stdout) != 0 || ferror(stdout))
	{
		fprintf(stderr, "k8s-events generate: error writing standard output: %s\n",
		        strerror(errno));
		return 1;
	}
	return 0;
}
