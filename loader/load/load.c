/*
 * load.c
 *	  k8s-events load: event dumps into k8s_events.events, at COPY speed.
 *
 * Each input is read item by item (dump_reader.c), each item decoded with the
 * server's own rules (core/event_decode.c), and the rows are COPYed in binary
 * into a temporary table and stored by k8s_events.ingest_copied(), one
 * transaction per batch: the server's write path decides keys, occurrences
 * and duplicates, so loading a file twice adds nothing, and a load cut short
 * keeps every batch it committed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "commands.h"
#include "core/cluster_name.h"
#include "copy_lanes.h"
#include "copy_rows.h"
#include "dump_reader.h"
#include "core/event_decode.h"
#include "parse_args.h"

#define Min(a, b) ((a) < (b) ? (a) : (b))

#define DEFAULT_BATCH_ROWS 10000
/* A batch also ends at this many bytes of COPY data, whatever the row count. */
#define BATCH_BYTES (32u * 1024 * 1024)
/* COPY data goes to libpq in pieces of about this size, as it is produced. */
#define SEND_BYTES           (256u * 1024)
#define PROGRESS_INTERVAL_NS 200000000L

typedef struct Options
{
	const char *cluster;
	const char *conninfo;
	long        batch_rows;
	int         progress; /* 1 on, 0 off, -1 when standard error is a terminal */
	bool        quiet;
	char      **files;
	int         nfiles;
} Options;

typedef struct Totals
{
	long long read;       /* items read from the inputs */
	long long stored;     /* rows newly stored */
	long long duplicates; /* observations already stored */
	long long rejected;   /* items put in k8s_events.rejected */
	long long expired;    /* events older than k8s_events.retention */
	long long deleted;    /* DELETED frames and eventrouter lines */
	long long bookmarks;  /* BOOKMARK frames */
	long long errors;     /* ERROR frames */
} Totals;

typedef struct Loader
{
	const Options *opt;
	CopyLanes     *lanes;
	CopyRows       rows; /* decoded, not yet handed to a connection */
	Totals         totals;
	/* Progress of the current input. */
	const char     *name;
	DumpReader     *reader;
	struct timespec started;
	struct timespec shown;
	long long       read_before; /* items read from the inputs before this one */
	bool            bar_visible;
	int             empty_inputs;
} Loader;

static void
load_usage(FILE *out)
{
	fprintf(out,
	        "Usage: k8s-events load [OPTIONS] [FILE ... | -]\n"
	        "\n"
	        "Store Kubernetes Events from dumps in k8s_events.events: kubectl get events -o json\n"
	        "or -o yaml (List or EventList), a JSON array, NDJSON Events, eventrouter stdout\n"
	        "lines, recorded watch frames; any of them gzip-compressed. The format of each\n"
	        "input is detected. Without FILE, or with -, standard input is read.\n"
	        "Loading the same events again stores nothing new.\n"
	        "\n"
	        "Options:\n"
	        "  -c, --cluster NAME    the cluster the events come from (default: default)\n"
	        "  -d, --dbname CONNINFO database name or libpq connection string/URI; the\n"
	        "                        PG* environment variables apply as for psql\n"
	        "  -b, --batch-size N    rows per transaction (default: %d)\n"
	        "      --progress        show a progress bar even when stderr is not a terminal\n"
	        "      --no-progress     never show a progress bar\n"
	        "  -q, --quiet           no summary line; rejected items are still reported\n"
	        "  -h, --help            show this help\n"
	        "\n"
	        "Each rejected item is reported on standard error as FILE:LINE: reason, and kept\n"
	        "in k8s_events.rejected. Exit status: 0 every item stored (or already stored,\n"
	        "or skipped), 1 some items rejected or an input empty, 2 usage error,\n"
	        "connection or database failure, or an input that could not be read.\n",
	        DEFAULT_BATCH_ROWS);
}

#define usage_error(...) command_usage_error("load", __VA_ARGS__)

static bool
is_option(const char *arg, const char *short_name, const char *long_name)
{
	return strcmp(arg, short_name) == 0 || strcmp(arg, long_name) == 0;
}

/* Returns -1 when the options are good, else the exit status. */
static int
parse_options(int argc, char **argv, Options *opt)
{
	*opt = (Options){.cluster = "default", .batch_rows = DEFAULT_BATCH_ROWS, .progress = -1};
	opt->files = calloc(argc, sizeof(char *));
	if (opt->files == NULL)
	{
		perror("k8s-events load");
		return 1;
	}
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
		{
			load_usage(stdout);
			return 0;
		}
		if (strcmp(arg, "--progress") == 0)
			opt->progress = 1;
		else if (strcmp(arg, "--no-progress") == 0)
			opt->progress = 0;
		else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0)
			opt->quiet = true;
		else if (is_option(arg, "-c", "--cluster"))
		{
			if (val == NULL)
				return usage_error("option %s needs a value", arg);
			if (cluster_name_check(val) != CLUSTER_NAME_VALID)
				return usage_error("the cluster name %s",
				                   cluster_name_problem(cluster_name_check(val)));
			opt->cluster = argv[++i];
		}
		else if (is_option(arg, "-d", "--dbname"))
		{
			if (val == NULL)
				return usage_error("option %s needs a value", arg);
			opt->conninfo = argv[++i];
		}
		else if (is_option(arg, "-b", "--batch-size"))
		{
			if (val == NULL)
				return usage_error("option %s needs a value", arg);
			if (!parse_long(val, 1, 1000000, &opt->batch_rows))
				return usage_error("--batch-size must be an integer from 1 to 1000000, not \"%s\"",
				                   val);
			i++;
		}
		else if (arg[0] == '-' && arg[1] != '\0')
			return usage_error("unknown option \"%s\"", arg);
		else
			opt->files[opt->nfiles++] = argv[i];
	}
	if (opt->nfiles == 0)
	{
		if (isatty(STDIN_FILENO))
			return usage_error("no input: name a file, or pipe the events to standard input");
		opt->files[opt->nfiles++] = "-";
	}
	return -1;
}

/* The server's message without its trailing newline, for our own lines. */
static const char *
pg_message(PGconn *conn, const PGresult *res)
{
	static char buf[1024];
	const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	size_t      len;

	snprintf(buf, sizeof(buf), "%s", msg != NULL && msg[0] != '\0' ? msg : PQerrorMessage(conn));
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return buf;
}

static void
clear_bar(Loader *l)
{
	if (l->bar_visible)
	{
		fprintf(stderr, "\r\033[K");
		l->bar_visible = false;
	}
}

static double
seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double) (b->tv_sec - a->tv_sec) + (double) (b->tv_nsec - a->tv_nsec) / 1e9;
}

static void
human_bytes(double bytes, char *out, size_t outlen)
{
	const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	int         u = 0;

	while (bytes >= 1024 && u < 4)
		bytes /= 1024, u++;
	snprintf(out, outlen, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

/* Append to a line of at most size bytes, never past its end. */
static void __attribute__((format(printf, 4, 5)))
append(char *line, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int     n;

	if (*used >= size - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = Min(*used + (size_t) n, size - 1);
}

/* Bytes, events/s and an ETA of the current input, at most five times a second. */
static void
show_progress(Loader *l, bool force)
{
	struct timespec now;
	double          elapsed;
	double          done;
	int64_t         size;
	char            done_text[32];
	char            size_text[32];
	char            line[256];
	size_t          used = 0;

	if (l->reader == NULL || l->opt->progress != 1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!force && (now.tv_sec - l->shown.tv_sec) * 1000000000L + (now.tv_nsec - l->shown.tv_nsec) <
	                  PROGRESS_INTERVAL_NS)
		return;
	l->shown = now;
	elapsed = seconds_between(&l->started, &now);
	done = (double) dump_reader_offset(l->reader);
	size = dump_reader_size(l->reader);
	human_bytes(done, done_text, sizeof(done_text));
	append(line, sizeof(line), &used, "%s: %s", l->name, done_text);
	if (size > 0)
	{
		double fraction = Min(done / (double) size, 1.0);
		int    filled = (int) (fraction * 20);

		human_bytes((double) size, size_text, sizeof(size_text));
		append(line, sizeof(line), &used, " of %s [%.*s%*s] %3.0f%%", size_text, filled,
		       "####################", 20 - filled, "", fraction * 100);
		if (fraction > 0.01 && elapsed > 1)
		{
			long eta = (long) (elapsed / fraction - elapsed);

			append(line, sizeof(line), &used, " ETA %ld:%02ld", eta / 60, eta % 60);
		}
	}
	if (elapsed > 0)
		append(line, sizeof(line), &used, "  %.0f events/s",
		       (double) (l->totals.read - l->read_before) / elapsed);
	fprintf(stderr, "\r\033[K%s", line);
	l->bar_visible = true;
}

/* After a row: hand what has piled up to the connections; wait if far ahead. */
static bool
row_added(Loader *l)
{
	/*
	 * A batch ends after exactly --batch-size rows, whatever the timing: the
	 * occurrences of rows of one Event depend on which batch each is in.
	 */
	bool batch_full = l->rows.rows >= copy_lanes_room(l->lanes);

	if (l->rows.buf.len < SEND_BYTES && !batch_full)
		return true;
	if (!copy_lanes_push(l->lanes, &l->rows, batch_full || l->rows.buf.len >= BATCH_BYTES))
	{
		clear_bar(l);
		fprintf(stderr, "k8s-events load: %s\n", copy_lanes_error(l->lanes));
		return false;
	}
	return true;
}

static void
report_reject(Loader *l, long line, const char *reason)
{
	clear_bar(l);
	fprintf(stderr, "%s:%ld: %s\n", l->name, line, reason);
}

/* Reject an item: reported now, stored in k8s_events.rejected with the batch. */
static bool
reject(Loader *l, long line, const char *reason, const char *payload, size_t len)
{
	char error[512];

	report_reject(l, line, reason);
	snprintf(error, sizeof(error), "%s:%ld: %s", l->name, line, reason);
	copy_rows_reject(&l->rows, error, payload, len);
	return row_added(l);
}

static bool
reject_item(Loader *l, long line, const char *reason, json_t *item)
{
	char *text = json_dumps(item, JSON_COMPACT | JSON_REAL_PRECISION(17));
	bool  ok;

	ok = reject(l, line, reason, text != NULL ? text : "", text != NULL ? strlen(text) : 0);
	free(text);
	return ok;
}

/*
 * text is the item's JSON as it came, or NULL: when the item is the Event
 * itself (not a frame or envelope around it) it goes to the server as is.
 */
static bool
load_item(Loader *l, json_t *item, long line, const char *text, size_t text_len)
{
	char            reason[EVENT_ERR_LEN];
	json_t         *event;
	EventRow        row;
	PayloadItemKind kind = payload_item_classify(item, &event, reason, sizeof(reason));

	switch (kind)
	{
		case ITEM_DELETED:
			l->totals.deleted++;
			return true;
		case ITEM_BOOKMARK:
			l->totals.bookmarks++;
			return true;
		case ITEM_ERROR_FRAME:
			l->totals.errors++;
			return true;
		case ITEM_INVALID:
			return reject_item(l, line, reason, item);
		case ITEM_EVENT:
			break;
	}
	if (!event_decode(event, &row, reason, sizeof(reason)))
		return reject_item(l, line, reason, item);
	if (event != item)
		text = NULL;
	copy_rows_event(&l->rows, &row, event, text, text_len);
	return row_added(l);
}

typedef enum FileOutcome
{
	FILE_LOADED,       /* read to its end */
	FILE_UNREADABLE,   /* could not be opened or read to its end; what it held before is kept */
	FILE_STORE_FAILED, /* the database refused: loading cannot go on */
} FileOutcome;

/* One input, to its end or to the first thing that stops it. */
static FileOutcome
load_file(Loader *l, const char *path)
{
	char        err[512];
	DumpItem    item;
	int         got = 0;
	bool        ok = true;
	FileOutcome outcome;

	l->name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	l->reader = dump_reader_open(path, err, sizeof(err));
	if (l->reader == NULL)
	{
		clear_bar(l);
		fprintf(stderr, "k8s-events load: %s\n", err);
		return FILE_UNREADABLE;
	}
	clock_gettime(CLOCK_MONOTONIC, &l->started);
	l->read_before = l->totals.read;
	while (ok && (got = dump_reader_next(l->reader, &item, err, sizeof(err))) == 1)
	{
		l->totals.read++;
		if (item.value == NULL)
			ok = reject(l, item.line, item.error, item.raw, item.raw_len);
		else
		{
			ok = load_item(l, item.value, item.line, item.text, item.text_len);
			json_decref(item.value);
		}
		show_progress(l, false);
	}
	outcome = ok ? FILE_LOADED : FILE_STORE_FAILED;
	if (ok && got < 0)
	{
		clear_bar(l);
		fprintf(stderr, "k8s-events load: %s: %s\n", l->name, err);
		outcome = FILE_UNREADABLE;
	}
	else if (ok && dump_reader_format(l->reader) == DUMP_FORMAT_EMPTY)
	{
		clear_bar(l);
		fprintf(stderr, "k8s-events load: %s: the input is empty: no events in it\n", l->name);
		l->empty_inputs++;
	}
	if (ok)
		show_progress(l, true);
	dump_reader_close(l->reader);
	l->reader = NULL;
	return outcome;
}

/* Query a single value; NULL (and the message printed) on failure. */
static char *
query_value(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	char     *value = NULL;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		value = strdup(PQgetvalue(res, 0, 0));
	else if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fprintf(stderr, "k8s-events load: %s\n", pg_message(conn, res));
	PQclear(res);
	return value;
}

/* Connect and check that this database can take the rows; NULL after a message. */
static PGconn *
connect_to_store(const Options *opt)
{
	const char *keywords[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
	const char *values[] = {opt->conninfo, "k8s-events load", "UTF8", NULL};
	PGconn     *conn = PQconnectdbParams(keywords, values, 1);
	char       *value;
	PGresult   *res;

	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "k8s-events load: cannot connect to PostgreSQL: %s\n",
		        pg_message(conn, NULL));
		PQfinish(conn);
		return NULL;
	}
	value = query_value(conn, "SELECT extversion FROM pg_catalog.pg_extension "
	                          "WHERE extname = 'k8s_events'");
	if (value == NULL)
	{
		fprintf(stderr,
		        "k8s-events load: the k8s_events extension is not installed in database \"%s\"\n"
		        "HINT:  Run CREATE EXTENSION k8s_events; in that database, or name another "
		        "with -d.\n",
		        PQdb(conn));
		PQfinish(conn);
		return NULL;
	}
	free(value);
	if (strcmp(PQparameterStatus(conn, "server_encoding"), "UTF8") != 0)
	{
		fprintf(stderr,
		        "k8s-events load: database \"%s\" has encoding %s; Kubernetes events are UTF-8\n"
		        "HINT:  Create the database with ENCODING 'UTF8'.\n",
		        PQdb(conn), PQparameterStatus(conn, "server_encoding"));
		PQfinish(conn);
		return NULL;
	}
	/*
	 * The batch's rows pass through a temporary table; local buffers hold a
	 * whole batch, so they must be set before the session first uses one.
	 */
	res = PQexec(conn, "SET temp_buffers = '64MB'");
	PQclear(res);
	res = PQexec(conn, "SELECT k8s_events.create_load_table()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		fprintf(stderr, "k8s-events load: %s\n", pg_message(conn, res));
		if (state != NULL && strcmp(state, "42501") == 0)
			fprintf(stderr,
			        "HINT:  Loading needs the k8s_events_writer role: GRANT "
			        "k8s_events_writer TO %s;\n",
			        PQuser(conn));
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	return conn;
}

static void
print_summary(const Loader *l)
{
	long long skipped =
	    l->totals.deleted + l->totals.bookmarks + l->totals.errors + l->totals.expired;

	fprintf(stderr, "read %lld, stored %lld, duplicate %lld, rejected %lld, skipped %lld",
	        l->totals.read, l->totals.stored, l->totals.duplicates, l->totals.rejected, skipped);
	if (skipped > 0)
		fprintf(stderr,
		        " (%lld deleted, %lld bookmarks, %lld error frames, %lld older than "
		        "k8s_events.retention)",
		        l->totals.deleted, l->totals.bookmarks, l->totals.errors, l->totals.expired);
	fprintf(stderr, "\n");
}

int
cmd_load(int argc, char **argv)
{
	Options opt;
	Loader  l = {0};
	int     status = parse_options(argc, argv, &opt);
	bool    ok = true;
	bool    unreadable = false;
	PGconn *conns[COPY_LANES];

	if (status >= 0)
	{
		free(opt.files);
		return status;
	}
	/* Asked once: isatty() is a system call, and the bar is looked at after every item. */
	if (opt.progress == -1)
		opt.progress = isatty(STDERR_FILENO);
	l.opt = &opt;
	for (int i = 0; i < COPY_LANES; i++)
	{
		conns[i] = connect_to_store(&opt);
		if (conns[i] == NULL)
		{
			while (--i >= 0)
				PQfinish(conns[i]);
			free(opt.files);
			return EXIT_USAGE;
		}
	}
	l.lanes = copy_lanes_new(conns, opt.cluster, opt.batch_rows);
	/* An unreadable input does not stop the others: report it, load the rest. */
	for (int i = 0; ok && i < opt.nfiles; i++)
	{
		FileOutcome outcome = load_file(&l, opt.files[i]);

		ok = outcome != FILE_STORE_FAILED;
		unreadable |= outcome == FILE_UNREADABLE;
	}
	if (ok && !copy_lanes_finish(l.lanes, &l.rows))
	{
		clear_bar(&l);
		fprintf(stderr, "k8s-events load: %s\n", copy_lanes_error(l.lanes));
		ok = false;
	}
	clear_bar(&l);
	{
		const StoreCounts *stored = copy_lanes_counts(l.lanes);

		l.totals.stored = stored->stored;
		l.totals.duplicates = stored->duplicates;
		l.totals.rejected = stored->rejected;
		l.totals.expired = stored->expired;
	}
	if (!opt.quiet || !ok)
		print_summary(&l);
	copy_lanes_close(l.lanes);
	ej_free(&l.rows.buf);
	free(opt.files);
	if (!ok || unreadable)
		return EXIT_USAGE;
	return l.totals.rejected > 0 || l.empty_inputs > 0 ? 1 : 0;
}
