/*
 * api.c
 *	  The endpoints (see api.h): what each requires, its query, its answer.
 *
 * Each query takes its values as parameters ($1, $2, ...: text the server
 * casts) and, but for the histogram and CSV, builds its JSON answer itself, so
 * that names and messages are escaped by PostgreSQL's own JSON functions.
 * Every object is schema-qualified; the connection's search_path is
 * pg_catalog (db_pool.c).
 */
#include "serve/api.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "core/rfc3339.h"

typedef void (*ApiRun)(PGconn *conn, Params *p, Reply *r);

struct ApiEndpoint
{
	const char *path;
	unsigned    allowed;
	unsigned    required;
	bool        bounded; /* a range is needed (default: the last 24 hours) */
	ApiRun      run;
};

#define RANGE  (PARAM(P_FROM) | PARAM(P_TO))
#define OBJECT (PARAM(P_CLUSTER) | PARAM(P_NAMESPACE) | PARAM(P_KIND) | PARAM(P_NAME))

/* ---------------------------------------------------------------- replies */

static void
reply_take(Reply *r, int status, char *body, const char *type)
{
	/* An answer that could not be written (out of memory) is not a 200. */
	if (body == NULL && status < 400)
	{
		status = 500;
		body = strdup("{\"error\":\"out of memory\"}");
		type = "application/json";
	}
	r->status = status;
	r->body = body;
	r->len = body ? strlen(body) : 0;
	r->content_type = type;
}

void
reply_error(Reply *r, int status, const char *error, const char *parameter, const char *detail)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_string(error));
	if (parameter)
		json_object_set_new(o, "parameter", json_string(parameter));
	if (detail)
		json_object_set_new(o, "detail", json_string(detail));
	free(r->body);
	reply_take(r, status, json_dumps(o, JSON_COMPACT), "application/json");
	json_decref(o);
}

/* A failed query: the client learns what kind of failure, the log learns why. */
static void
reply_query_failed(Reply *r, PGconn *conn, PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	fprintf(stderr, "k8s-events serve: query failed: %s", PQerrorMessage(conn));
	if (PQstatus(conn) != CONNECTION_OK)
		reply_error(r, 503, "the database is not reachable", NULL, "try again");
	else if (state && strcmp(state, "57014") == 0)
		reply_error(r, 503, "the query took too long", NULL,
		            "statement_timeout (15 s): ask for a shorter range or fewer rows");
	else
		reply_error(r, 500, "the query failed", NULL, "see the server's log");
}

static PGresult *
query(PGconn *conn, const char *sql, int n, const char *const *values, Reply *r)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, values, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		reply_query_failed(r, conn, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* A query whose one row, one column is the JSON answer. */
static void
run_json(PGconn *conn, const char *sql, int n, const char *const *values, Reply *r)
{
	PGresult *res = query(conn, sql, n, values, r);

	if (res == NULL)
		return;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		reply_error(r, 404, "not found", NULL, NULL);
	else
		reply_take(r, 200, strdup(PQgetvalue(res, 0, 0)), "application/json");
	PQclear(res);
}

static void
format_time(int64_t us, char *buf)
{
	if (us == INT64_MIN || us == INT64_MAX || !rfc3339_format(us, buf))
		strcpy(buf, us < 0 ? "-infinity" : "infinity");
}

/* ---------------------------------------------------------------- clusters */

/* Distinct clusters by skipping through the summary's key (a loose index scan). */
static const char clusters_sql[] =
    "WITH RECURSIVE c AS ("
    "  SELECT min(s.cluster) AS cluster FROM k8s_events.resource_summary AS s"
    "  UNION ALL"
    "  SELECT (SELECT min(s.cluster) FROM k8s_events.resource_summary AS s"
    "          WHERE s.cluster OPERATOR(pg_catalog.>) c.cluster)"
    "  FROM c WHERE c.cluster IS NOT NULL)"
    " SELECT coalesce(json_agg(json_build_object('cluster', c.cluster, 'last_event_time',"
    "   (SELECT max(s.last_event_time) FROM k8s_events.resource_summary AS s"
    "    WHERE s.cluster OPERATOR(pg_catalog.=) c.cluster)) ORDER BY c.cluster), '[]')::text"
    " FROM c WHERE c.cluster IS NOT NULL";

static void
run_clusters(PGconn *conn, Params *p, Reply *r)
{
	(void) p;
	run_json(conn, clusters_sql, 0, NULL, r);
}

/* ---------------------------------------------------------------- filters */

/*
 * The namespaces (skipping through event_counts' (cluster, namespace, hour)
 * index, each kept if it has an hour in the range), and the kinds and reasons
 * of the range's days from counts_by_day, with their occurrences.
 */
static const char filters_sql[] =
    "WITH RECURSIVE ns AS ("
    "  SELECT min(c.namespace) AS namespace FROM k8s_events.event_counts AS c"
    "  WHERE c.cluster OPERATOR(pg_catalog.=) $1"
    "  UNION ALL"
    "  SELECT (SELECT min(c.namespace) FROM k8s_events.event_counts AS c"
    "          WHERE c.cluster OPERATOR(pg_catalog.=) $1"
    "            AND c.namespace OPERATOR(pg_catalog.>) ns.namespace)"
    "  FROM ns WHERE ns.namespace IS NOT NULL"
    "), days AS ("
    "  SELECT d.kind, d.type, d.reason, sum(d.occurrences) AS occurrences"
    "  FROM k8s_events_internal.counts_by_day AS d"
    "  WHERE d.cluster OPERATOR(pg_catalog.=) $1"
    "    AND d.day OPERATOR(pg_catalog.>=) date_trunc('day', $2::timestamptz, 'UTC')"
    "    AND d.day OPERATOR(pg_catalog.<) $3::timestamptz"
    "  GROUP BY 1, 2, 3)"
    " SELECT json_build_object("
    "  'namespaces', coalesce((SELECT json_agg(ns.namespace ORDER BY ns.namespace) FROM ns"
    "    WHERE ns.namespace IS NOT NULL AND EXISTS (SELECT FROM k8s_events.event_counts AS c"
    "      WHERE c.cluster OPERATOR(pg_catalog.=) $1"
    "        AND c.namespace OPERATOR(pg_catalog.=) ns.namespace"
    "        AND c.hour OPERATOR(pg_catalog.>=) date_trunc('hour', $2::timestamptz)"
    "        AND c.hour OPERATOR(pg_catalog.<) $3::timestamptz)), '[]'),"
    "  'kinds', coalesce((SELECT json_agg(k.kind ORDER BY k.kind) FROM"
    "    (SELECT DISTINCT days.kind FROM days WHERE days.kind IS NOT NULL) AS k), '[]'),"
    "  'reasons', coalesce((SELECT json_agg(json_build_object('reason', x.reason, 'type', x.type,"
    "      'occurrences', x.occurrences) ORDER BY x.occurrences DESC, x.reason) FROM"
    "    (SELECT days.reason, days.type, sum(days.occurrences) AS occurrences FROM days"
    "     WHERE days.reason IS NOT NULL GROUP BY 1, 2) AS x), '[]'))::text";

static void
run_filters(PGconn *conn, Params *p, Reply *r)
{
	char        from[RFC3339_BUFLEN], to[RFC3339_BUFLEN];
	const char *v[3] = {p->text[P_CLUSTER], from, to};

	format_time(p->from_us, from);
	format_time(p->to_us, to);
	run_json(conn, filters_sql, 3, v, r);
}

/* ---------------------------------------------------------------- histogram */

/*
 * histogram() over the range widened to whole buckets, so that a summary
 * answers it (histogram_source()); the server picks the bucket (bars).
 */
static const char histogram_sql[] =
    "WITH r AS (SELECT k8s_events.time_bucket($3::interval, $1::timestamptz) AS f,"
    "  k8s_events.time_bucket($3::interval, $2::timestamptz - interval '1 microsecond')"
    "   OPERATOR(pg_catalog.+) $3::interval AS t)"
    " SELECT extract(epoch FROM h.bucket_start)::bigint, h.type, h.reason, h.occurrences,"
    "  extract(epoch FROM r.f)::bigint, extract(epoch FROM r.t)::bigint,"
    "  k8s_events.histogram_source(r.f, r.t, $3::interval, $5, $7)"
    " FROM r, k8s_events.histogram(r.f, r.t, $3::interval, $4, $5, $6, $7, $8) AS h";

/*
 * The series of a histogram while its rows are read: one per (type, reason),
 * found by a hash of the two, their counts in plain arrays (JSON at the end).
 * A cluster's reasons are whatever its pods write: past MAX_SERIES the rest
 * are added up as one series, "other", so that no occurrence is left out.
 */
#define MAX_SERIES   512
#define SERIES_SLOTS 1024

typedef struct Series
{
	char      *type, *reason; /* NULL: none */
	long long  total;
	long long *values;
	bool       other;
} Series;

typedef struct SeriesSet
{
	Series s[MAX_SERIES + 1];
	int    n;
	int    slots[SERIES_SLOTS]; /* index + 1, 0: empty */
	int    nbuckets;
} SeriesSet;

static unsigned
series_hash(const char *type, const char *reason)
{
	unsigned h = 2166136261u;

	for (const char *p = type ? type : ""; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	h = (h ^ (type ? 1u : 2u)) * 16777619u;
	for (const char *p = reason ? reason : ""; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	return (h ^ (reason ? 3u : 4u)) * 16777619u;
}

static bool
same_text(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static Series *
series_of(SeriesSet *set, const char *type, const char *reason)
{
	unsigned h = series_hash(type, reason) % SERIES_SLOTS;
	Series  *s;

	for (;; h = (h + 1) % SERIES_SLOTS)
	{
		int i = set->slots[h];

		if (i == 0)
			break;
		s = &set->s[i - 1];
		if (!s->other && same_text(s->type, type) && same_text(s->reason, reason))
			return s;
	}
	if (set->n == MAX_SERIES)
	{
		s = &set->s[MAX_SERIES]; /* the rest, together */
		if (s->values == NULL)
		{
			s->other = true;
			s->values = calloc((size_t) set->nbuckets + 1, sizeof(long long));
		}
		return s->values ? s : NULL;
	}
	s = &set->s[set->n];
	s->type = type ? strdup(type) : NULL;
	s->reason = reason ? strdup(reason) : NULL;
	s->values = calloc((size_t) set->nbuckets + 1, sizeof(long long));
	if (s->values == NULL || (type && !s->type) || (reason && !s->reason))
		return NULL;
	set->slots[h] = ++set->n;
	return s;
}

static int
by_total_desc(const void *a, const void *b)
{
	const Series *x = *(Series *const *) a, *y = *(Series *const *) b;

	return x->total < y->total ? 1 : x->total > y->total ? -1 : 0;
}

static void
run_histogram(PGconn *conn, Params *p, Reply *r)
{
	char from[RFC3339_BUFLEN], to[RFC3339_BUFLEN], width[32];
	long bucket = p->bucket_s ? p->bucket_s : params_auto_bucket(p->to_us - p->from_us, p->bars);
	const char *v[8] = {from,
	                    to,
	                    width,
	                    p->text[P_CLUSTER],
	                    p->text[P_NAMESPACE],
	                    p->text[P_KIND],
	                    p->text[P_NAME],
	                    p->text[P_TYPE]};
	PGresult   *res;
	json_t     *out, *times, *series;
	SeriesSet  *set;
	bool        failed = false;
	long long   prev = -1, total = 0;

	/* One object's rows come through the object index, which needs all of its names. */
	if (p->text[P_NAME] != NULL && (p->text[P_NAMESPACE] == NULL || p->text[P_KIND] == NULL))
	{
		reply_error(r, 400, "bad parameter", "name",
		            "an object is its namespace, kind and name: give all three");
		return;
	}

	/*
	 * Shorter than an hour is read from the raw rows: a day's worth of a
	 * cluster at most.  Auto never asks for more: it takes hours instead.
	 */
	if (p->bucket_s == 0 && bucket < 3600 && p->text[P_NAME] == NULL &&
	    p->to_us - p->from_us > (int64_t) 48 * 3600 * 1000000)
		bucket = 3600;
	if (bucket < 3600 && p->text[P_NAME] == NULL &&
	    p->to_us - p->from_us > (int64_t) 48 * 3600 * 1000000)
	{
		reply_error(r, 400, "bad parameter", "bucket",
		            "buckets shorter than an hour are counted from the raw rows: ask for at most "
		            "48 hours of them, or for one object");
		return;
	}
	format_time(p->from_us, from);
	format_time(p->to_us, to);
	snprintf(width, sizeof(width), "%ld seconds", bucket);
	res = query(conn, histogram_sql, 8, v, r);
	if (res == NULL)
		return;

	/* Rows come by bucket, type, reason, every bucket at least once. */
	set = calloc(1, sizeof(SeriesSet));
	if (set == NULL)
	{
		PQclear(res);
		reply_error(r, 500, "out of memory", NULL, NULL);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
		if (atoll(PQgetvalue(res, i, 0)) != prev)
		{
			prev = atoll(PQgetvalue(res, i, 0));
			set->nbuckets++;
		}
	out = json_object();
	times = json_array();
	series = json_array();
	prev = -1;
	for (int i = 0, b = -1; i < PQntuples(res); i++)
	{
		long long t = atoll(PQgetvalue(res, i, 0));
		long long n = atoll(PQgetvalue(res, i, 3));
		Series   *s;

		if (t != prev)
		{
			json_array_append_new(times, json_integer(t));
			prev = t;
			b++;
		}
		if (n == 0 && PQgetisnull(res, i, 1) && PQgetisnull(res, i, 2))
			continue; /* an empty bucket */
		s = series_of(set, PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
		              PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2));
		if (s == NULL)
		{
			failed = true;
			break;
		}
		s->values[b] += n;
		s->total += n;
		total += n;
	}
	/* The biggest first: what a stacked chart puts at the bottom and a legend lists first. */
	{
		Series *order[MAX_SERIES + 1];
		int     n = 0;

		for (int i = 0; i < set->n; i++)
			order[n++] = &set->s[i];
		if (set->s[MAX_SERIES].values != NULL)
			order[n++] = &set->s[MAX_SERIES];
		qsort(order, (size_t) n, sizeof(Series *), by_total_desc);
		for (int i = 0; i < n && !failed; i++)
		{
			json_t *o = json_object();
			json_t *v = json_array();

			for (int k = 0; k < set->nbuckets; k++)
				json_array_append_new(v, json_integer(order[i]->values[k]));
			json_object_set_new(o, "type",
			                    order[i]->type ? json_string(order[i]->type) : json_null());
			json_object_set_new(o, "reason",
			                    order[i]->reason ? json_string(order[i]->reason) : json_null());
			if (order[i]->other)
				json_object_set_new(o, "other", json_true());
			json_object_set_new(o, "total", json_integer(order[i]->total));
			json_object_set_new(o, "values", v);
			json_array_append_new(series, o);
		}
	}
	for (int i = 0; i <= MAX_SERIES; i++)
	{
		free(set->s[i].type);
		free(set->s[i].reason);
		free(set->s[i].values);
	}
	free(set);
	if (failed)
	{
		PQclear(res);
		json_decref(out);
		json_decref(times);
		json_decref(series);
		reply_error(r, 500, "out of memory", NULL, NULL);
		return;
	}

	json_object_set_new(out, "bucket_seconds", json_integer(bucket));
	if (PQntuples(res) > 0)
	{
		json_object_set_new(out, "from", json_integer(atoll(PQgetvalue(res, 0, 4))));
		json_object_set_new(out, "to", json_integer(atoll(PQgetvalue(res, 0, 5))));
		json_object_set_new(out, "source", json_string(PQgetvalue(res, 0, 6)));
	}
	json_object_set_new(out, "total", json_integer(total));
	json_object_set_new(out, "times", times);
	json_object_set_new(out, "series", series);
	PQclear(res);
	reply_take(r, 200, json_dumps(out, JSON_COMPACT), "application/json");
	json_decref(out);
}

/* ---------------------------------------------------------------- resources */

/*
 * A page of objects seen in the range, from resource_summary (by its
 * (cluster, last_event_time) index when newest first), with each one's
 * occurrences in the range and a sparkline, read through the object index of
 * the range's partitions for the page's objects only.  Most warned first means
 * most warned in the range: the range's Warning rows (of the namespace, through
 * the object index, or of the cluster, through the partial index of warnings),
 * summed per object, then the summary's columns and filters.  A node ($13)
 * keeps the objects it reported events of (resource_summary.nodes: a pod's
 * kubelet), and the Node itself.
 */
#define RESOURCES_SQL(SOURCE, ORDER)                                                               \
	"WITH page AS ("                                                                               \
	"  SELECT row_number() OVER (ORDER BY " ORDER ") AS ord, s.*"                                  \
	"  FROM (SELECT s.* FROM " SOURCE "   WHERE s.cluster OPERATOR(pg_catalog.=) $1"               \
	"     AND ($2::text IS NULL OR s.namespace OPERATOR(pg_catalog.=) $2)"                         \
	"     AND ($3::text IS NULL OR s.kind OPERATOR(pg_catalog.=) $3)"                              \
	"     AND ($4::text IS NULL OR CASE $4 WHEN 'Warning' THEN s.warning OPERATOR(pg_catalog.>) 0" \
	"          ELSE s.normal OPERATOR(pg_catalog.>) 0 END)"                                        \
	"     AND ($5::text IS NULL OR s.reasons OPERATOR(pg_catalog.?) $5)"                           \
	"     AND ($6::text IS NULL"                                                                   \
	"          OR strpos(lower(s.name), lower($6)) OPERATOR(pg_catalog.>) 0"                       \
	"          OR strpos(lower(s.last_reason), lower($6)) OPERATOR(pg_catalog.>) 0"                \
	"          OR strpos(lower(s.last_message), lower($6)) OPERATOR(pg_catalog.>) 0)"              \
	"     AND ($13::text IS NULL OR s.nodes OPERATOR(pg_catalog.?) $13"                            \
	"          OR (s.kind OPERATOR(pg_catalog.=) 'Node' AND s.name OPERATOR(pg_catalog.=) $13))"   \
	"     AND s.last_event_time OPERATOR(pg_catalog.>=) $7::timestamptz"                           \
	"     AND s.first_event_time OPERATOR(pg_catalog.<) $8::timestamptz"                           \
	"   ORDER BY " ORDER " LIMIT $9::int OPERATOR(pg_catalog.+) 1 OFFSET $10::int) AS s"           \
	"), counts AS ("                                                                               \
	"  SELECT p.ord, e.type,"                                                                      \
	"   least($11::int OPERATOR(pg_catalog.-) 1, floor(extract(epoch FROM e.event_time"            \
	"     OPERATOR(pg_catalog.-) $7::timestamptz) OPERATOR(pg_catalog.*) $11::int"                 \
	"     OPERATOR(pg_catalog./) $12::float8))::int AS i,"                                         \
	"   sum(e.occurrences) AS n"                                                                   \
	"  FROM page AS p JOIN k8s_events.events AS e"                                                 \
	"   ON e.cluster OPERATOR(pg_catalog.=) p.cluster"                                             \
	"  AND e.namespace OPERATOR(pg_catalog.=) p.namespace"                                         \
	"  AND e.kind OPERATOR(pg_catalog.=) p.kind AND e.name OPERATOR(pg_catalog.=) p.name"          \
	"  AND e.event_time OPERATOR(pg_catalog.>=) $7::timestamptz"                                   \
	"  AND e.event_time OPERATOR(pg_catalog.<) $8::timestamptz"                                    \
	"  WHERE p.ord OPERATOR(pg_catalog.<=) $9::int"                                                \
	"  GROUP BY 1, 2, 3"                                                                           \
	"), spark AS ("                                                                                \
	"  SELECT p.ord, json_agg(coalesce(b.n, 0) ORDER BY g.i) AS spark"                             \
	"  FROM page AS p CROSS JOIN generate_series(0, $11::int OPERATOR(pg_catalog.-) 1) AS g(i)"    \
	"  LEFT JOIN (SELECT c.ord, c.i, sum(c.n) AS n FROM counts AS c GROUP BY 1, 2) AS b"           \
	"   ON b.ord OPERATOR(pg_catalog.=) p.ord AND b.i OPERATOR(pg_catalog.=) g.i"                  \
	"  GROUP BY 1"                                                                                 \
	"), totals AS ("                                                                               \
	"  SELECT c.ord,"                                                                              \
	"   sum(c.n) FILTER (WHERE c.type OPERATOR(pg_catalog.=) 'Normal') AS normal,"                 \
	"   sum(c.n) FILTER (WHERE c.type OPERATOR(pg_catalog.=) 'Warning') AS warning"                \
	"  FROM counts AS c GROUP BY 1)"                                                               \
	" SELECT json_build_object("                                                                   \
	"  'has_more', (SELECT count(*) FROM page) OPERATOR(pg_catalog.>) $9::int,"                    \
	"  'items', coalesce(json_agg(json_build_object("                                              \
	"    'cluster', p.cluster, 'namespace', p.namespace, 'kind', p.kind, 'name', p.name,"          \
	"    'first_event_time', p.first_event_time, 'last_event_time', p.last_event_time,"            \
	"    'last_type', p.last_type, 'last_reason', p.last_reason, 'last_message', p.last_message,"  \
	"    'normal', p.normal, 'warning', p.warning,"                                                \
	"    'range_normal', coalesce(t.normal, 0), 'range_warning', coalesce(t.warning, 0),"          \
	"    'spark', coalesce(sp.spark, '[]'::json)) ORDER BY p.ord), '[]'))::text"                   \
	" FROM page AS p LEFT JOIN totals AS t ON t.ord OPERATOR(pg_catalog.=) p.ord"                  \
	" LEFT JOIN spark AS sp ON sp.ord OPERATOR(pg_catalog.=) p.ord"                                \
	" WHERE p.ord OPERATOR(pg_catalog.<=) $9::int"

static const char resources_by_last_sql[] = RESOURCES_SQL(
    "k8s_events.resource_summary AS s", "s.last_event_time DESC, s.namespace, s.kind, s.name");
static const char resources_by_warnings_sql[] = RESOURCES_SQL(
    "(SELECT s.*, w.range_warning FROM"
    "  (SELECT e.namespace, e.kind, e.name, sum(e.occurrences) AS range_warning"
    "   FROM k8s_events.events AS e"
    "   WHERE e.cluster OPERATOR(pg_catalog.=) $1 AND e.type OPERATOR(pg_catalog.=) 'Warning'"
    "     AND e.event_time OPERATOR(pg_catalog.>=) $7::timestamptz"
    "     AND e.event_time OPERATOR(pg_catalog.<) $8::timestamptz"
    "     AND ($2::text IS NULL OR e.namespace OPERATOR(pg_catalog.=) $2)"
    "     AND ($3::text IS NULL OR e.kind OPERATOR(pg_catalog.=) $3)"
    "   GROUP BY 1, 2, 3) AS w"
    "  JOIN k8s_events.resource_summary AS s ON s.cluster OPERATOR(pg_catalog.=) $1"
    "   AND s.namespace OPERATOR(pg_catalog.=) w.namespace AND s.kind OPERATOR(pg_catalog.=) w.kind"
    "   AND s.name OPERATOR(pg_catalog.=) w.name) AS s",
    "s.range_warning DESC, s.last_event_time DESC, s.namespace, s.kind, s.name");

static void
run_resources(PGconn *conn, Params *p, Reply *r)
{
	char from[RFC3339_BUFLEN], to[RFC3339_BUFLEN], limit[24], offset[24], spark[24], range_s[40];
	const char *v[13] = {p->text[P_CLUSTER],
	                     p->text[P_NAMESPACE],
	                     p->text[P_KIND],
	                     p->text[P_TYPE],
	                     p->text[P_REASON],
	                     p->text[P_Q],
	                     from,
	                     to,
	                     limit,
	                     offset,
	                     spark,
	                     range_s,
	                     p->text[P_NODE]};

	format_time(p->from_us, from);
	format_time(p->to_us, to);
	snprintf(limit, sizeof(limit), "%ld", p->limit);
	snprintf(offset, sizeof(offset), "%ld", p->offset);
	snprintf(spark, sizeof(spark), "%ld", p->spark > 0 ? p->spark : 1);
	snprintf(range_s, sizeof(range_s), "%.6f", (double) (p->to_us - p->from_us) / 1e6);
	/* Most warned of a cluster sums the range's Warning rows of all its namespaces. */
	if (p->sort_warnings && p->text[P_NAMESPACE] == NULL &&
	    p->to_us - p->from_us > (int64_t) 31 * 86400 * 1000000)
	{
		reply_error(r, 400, "bad parameter", "sort",
		            "sorting a whole cluster by warnings sums the range's warnings: at most 31 "
		            "days of them, or pick a namespace");
		return;
	}
	run_json(conn, p->sort_warnings ? resources_by_warnings_sql : resources_by_last_sql, 13, v, r);
}

/* ---------------------------------------------------------------- resource */

/*
 * One object's summary and what its events say it is related to: a pod's
 * owner (pod_owners; a ReplicaSet's Deployment by the name it derives from)
 * and node (its latest Scheduled message), a controller's pods (pod_owners),
 * a Deployment's ReplicaSets (its ScalingReplicaSet messages).
 */
static const char resource_sql[] =
    "WITH s AS ("
    "  SELECT s.* FROM k8s_events.resource_summary AS s"
    "  WHERE s.cluster OPERATOR(pg_catalog.=) $1 AND s.kind OPERATOR(pg_catalog.=) $3"
    "    AND s.name OPERATOR(pg_catalog.=) $4"
    "    AND CASE WHEN $2::text IS NULL THEN s.namespace IS NULL"
    "        ELSE s.namespace OPERATOR(pg_catalog.=) $2 END"
    "), owner AS ("
    "  SELECT o.owner_kind AS kind, o.owner AS name FROM k8s_events.pod_owners AS o"
    "  WHERE $3 OPERATOR(pg_catalog.=) 'Pod' AND o.cluster OPERATOR(pg_catalog.=) $1"
    "    AND o.namespace OPERATOR(pg_catalog.=) $2 AND o.pod OPERATOR(pg_catalog.=) $4"
    "  ORDER BY o.created_time DESC LIMIT 1"
    "), deployment AS ("
    "  SELECT 'Deployment'::text AS kind, d.name FROM k8s_events.resource_summary AS d"
    "  WHERE d.cluster OPERATOR(pg_catalog.=) $1 AND d.namespace OPERATOR(pg_catalog.=) $2"
    "    AND d.kind OPERATOR(pg_catalog.=) 'Deployment'"
    "    AND d.name OPERATOR(pg_catalog.=) CASE WHEN $3 OPERATOR(pg_catalog.=) 'ReplicaSet'"
    "        THEN substring($4 FROM '^(.+)-[a-z0-9]+$') END"
    "), node AS ("
    "  SELECT k8s_events.node_from_message(e.message) AS name FROM k8s_events.events AS e"
    "  WHERE $3 OPERATOR(pg_catalog.=) 'Pod' AND e.cluster OPERATOR(pg_catalog.=) $1"
    "    AND e.namespace OPERATOR(pg_catalog.=) $2 AND e.kind OPERATOR(pg_catalog.=) 'Pod'"
    "    AND e.name OPERATOR(pg_catalog.=) $4 AND e.reason OPERATOR(pg_catalog.=) 'Scheduled'"
    "  ORDER BY e.event_time DESC LIMIT 1"
    "), pods AS ("
    "  SELECT o.pod AS name, max(o.created_time) AS created FROM k8s_events.pod_owners AS o"
    "  WHERE o.cluster OPERATOR(pg_catalog.=) $1 AND o.namespace OPERATOR(pg_catalog.=) $2"
    "    AND o.owner_kind OPERATOR(pg_catalog.=) $3 AND o.owner OPERATOR(pg_catalog.=) $4"
    "  GROUP BY 1 ORDER BY 2 DESC LIMIT 200"
    "), replica_sets AS ("
    "  SELECT k8s_events.replica_set_from_message(e.message) AS name,"
    "   max(e.event_time) AS last"
    "  FROM k8s_events.events AS e"
    "  WHERE $3 OPERATOR(pg_catalog.=) 'Deployment' AND e.cluster OPERATOR(pg_catalog.=) $1"
    "    AND e.namespace OPERATOR(pg_catalog.=) $2 AND e.kind OPERATOR(pg_catalog.=) 'Deployment'"
    "    AND e.name OPERATOR(pg_catalog.=) $4"
    "    AND e.reason OPERATOR(pg_catalog.=) 'ScalingReplicaSet'"
    "  GROUP BY 1 HAVING k8s_events.replica_set_from_message(e.message) IS NOT NULL"
    "  ORDER BY 2 DESC LIMIT 100"
    ")"
    " SELECT json_build_object('cluster', s.cluster, 'namespace', s.namespace, 'kind', s.kind,"
    "  'name', s.name, 'normal', s.normal, 'warning', s.warning, 'observations', s.observations,"
    "  'first_event_time', s.first_event_time, 'last_event_time', s.last_event_time,"
    "  'last_type', s.last_type, 'last_reason', s.last_reason, 'last_message', s.last_message,"
    "  'reasons', s.reasons,"
    "  'related', coalesce((SELECT json_agg(x) FROM ("
    "     SELECT 'owner' AS relation, owner.kind, owner.name FROM owner"
    "     UNION ALL SELECT 'owner', deployment.kind, deployment.name FROM deployment"
    "     UNION ALL SELECT 'node', 'Node', node.name FROM node WHERE node.name IS NOT NULL"
    "     UNION ALL SELECT 'replica_set', 'ReplicaSet', rs.name FROM replica_sets AS rs"
    "     UNION ALL SELECT 'pod', 'Pod', pods.name FROM pods) AS x), '[]'))::text"
    " FROM s";

static void
run_resource(PGconn *conn, Params *p, Reply *r)
{
	const char *v[4] = {p->text[P_CLUSTER], p->text[P_NAMESPACE], p->text[P_KIND], p->text[P_NAME]};

	run_json(conn, resource_sql, 4, v, r);
}

/* ---------------------------------------------------------------- events */

static const char events_sql[] =
    "SELECT to_json(e.event_time) OPERATOR(pg_catalog.#>>) '{}', e.type, e.reason, e.message,"
    "  e.count, e.occurrences,"
    "  coalesce(e.source_host, e.reporting_instance, e.source_component, e.reporting_controller),"
    "  e.uid, to_json(e.first_time) OPERATOR(pg_catalog.#>>) '{}'"
    " FROM k8s_events.object_events($1, $2, $3, $4, $5::timestamptz, $6::timestamptz,"
    "   $7::int OPERATOR(pg_catalog.+) 1, $8::int) AS e";

static PGresult *
object_events(PGconn *conn, Params *p, Reply *r)
{
	char        from[RFC3339_BUFLEN], to[RFC3339_BUFLEN], limit[24], offset[24];
	const char *v[8] = {p->text[P_CLUSTER],
	                    p->text[P_NAMESPACE],
	                    p->text[P_KIND],
	                    p->text[P_NAME],
	                    from,
	                    to,
	                    limit,
	                    offset};

	format_time(p->from_us, from);
	format_time(p->to_us, to);
	snprintf(limit, sizeof(limit), "%ld", p->limit);
	snprintf(offset, sizeof(offset), "%ld", p->offset);
	return query(conn, events_sql, 8, v, r);
}

static json_t *
text_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

static void
run_events(PGconn *conn, Params *p, Reply *r)
{
	PGresult *res = object_events(conn, p, r);
	json_t   *out, *items;
	int       n;

	if (res == NULL)
		return;
	n = PQntuples(res);
	out = json_object();
	items = json_array();
	for (int i = 0; i < n && i < p->limit; i++)
	{
		json_t *o = json_object();

		json_object_set_new(o, "event_time", text_or_null(res, i, 0));
		json_object_set_new(o, "type", text_or_null(res, i, 1));
		json_object_set_new(o, "reason", text_or_null(res, i, 2));
		json_object_set_new(o, "message", text_or_null(res, i, 3));
		json_object_set_new(o, "count", json_integer(atoll(PQgetvalue(res, i, 4))));
		json_object_set_new(o, "occurrences", json_integer(atoll(PQgetvalue(res, i, 5))));
		json_object_set_new(o, "source", text_or_null(res, i, 6));
		json_object_set_new(o, "uid", text_or_null(res, i, 7));
		json_object_set_new(o, "first_time", text_or_null(res, i, 8));
		json_array_append_new(items, o);
	}
	json_object_set_new(out, "has_more", json_boolean(n > p->limit));
	json_object_set_new(out, "items", items);
	PQclear(res);
	reply_take(r, 200, json_dumps(out, JSON_COMPACT), "application/json");
	json_decref(out);
}

/*
 * A CSV field: quoted when it must be; a value a spreadsheet would run as a
 * formula (=, +, -, @, tab, CR first) gets a leading apostrophe, as OWASP
 * advises for CSV injection: an event's message is anyone's text.
 */
static void
csv_field(char **buf, size_t *len, size_t *cap, const char *s, bool last)
{
	size_t need = 2 * strlen(s) + 8;

	if (*len + need > *cap)
	{
		size_t nc = (*cap + need) * 2;
		char  *nb = realloc(*buf, nc);

		if (nb == NULL)
			return;
		*buf = nb;
		*cap = nc;
	}
	(*buf)[(*len)++] = '"';
	if (strchr("=+-@\t\r", s[0]) && s[0] != '\0')
		(*buf)[(*len)++] = '\'';
	for (const char *c = s; *c; c++)
	{
		if (*c == '"')
			(*buf)[(*len)++] = '"';
		(*buf)[(*len)++] = *c;
	}
	(*buf)[(*len)++] = '"';
	if (last)
	{
		(*buf)[(*len)++] = '\r';
		(*buf)[(*len)++] = '\n';
	}
	else
		(*buf)[(*len)++] = ',';
	(*buf)[*len] = '\0';
}

static void
run_events_csv(PGconn *conn, Params *p, Reply *r)
{
	static const char *const header[] = {"event_time",  "type",   "reason", "message",   "count",
	                                     "occurrences", "source", "uid",    "first_time"};
	PGresult                *res = object_events(conn, p, r);
	size_t                   len = 0, cap = 4096;
	char                    *buf;

	if (res == NULL)
		return;
	buf = malloc(cap);
	if (buf == NULL)
	{
		PQclear(res);
		reply_error(r, 500, "out of memory", NULL, NULL);
		return;
	}
	buf[0] = '\0';
	for (int c = 0; c < 9; c++)
		csv_field(&buf, &len, &cap, header[c], c == 8);
	for (int i = 0; i < PQntuples(res) && i < p->limit; i++)
		for (int c = 0; c < 9; c++)
			csv_field(&buf, &len, &cap, PQgetvalue(res, i, c), c == 8);
	PQclear(res);
	reply_take(r, 200, buf, "text/csv; charset=utf-8");
	r->disposition = "attachment; filename=\"events.csv\"";
}

/* ---------------------------------------------------------------- overlays */

/*
 * What to draw over an object's chart: its rollouts (a Deployment's scaling,
 * with the images its ReplicaSets' pods pulled; a ReplicaSet's own images), and
 * for a Pod the trouble of the node it was scheduled on (NodeNotReady, the
 * pressure conditions, reboots, and the node's other warnings) in the range.
 */
static const char overlays_sql[] =
    "WITH node AS ("
    "  SELECT k8s_events.node_from_message(e.message) AS name FROM k8s_events.events AS e"
    "  WHERE $3 OPERATOR(pg_catalog.=) 'Pod' AND e.cluster OPERATOR(pg_catalog.=) $1"
    "    AND e.namespace OPERATOR(pg_catalog.=) $2 AND e.kind OPERATOR(pg_catalog.=) 'Pod'"
    "    AND e.name OPERATOR(pg_catalog.=) $4 AND e.reason OPERATOR(pg_catalog.=) 'Scheduled'"
    "  ORDER BY e.event_time DESC LIMIT 1"
    "), node_trouble AS ("
    "  SELECT e.event_time, e.type, e.reason, e.message, e.occurrences, e.name AS node"
    "  FROM node, k8s_events.events AS e"
    "  WHERE e.cluster OPERATOR(pg_catalog.=) $1 AND e.kind OPERATOR(pg_catalog.=) 'Node'"
    "    AND e.name OPERATOR(pg_catalog.=) node.name"
    "    AND e.reason OPERATOR(pg_catalog.=) ANY ('{NodeNotReady,NodeHasDiskPressure,"
    "NodeHasInsufficientMemory,NodeHasMemoryPressure,NodeHasPIDPressure,NodeNotSchedulable,"
    "Rebooted,NodeReady}'::text[])"
    "    AND e.event_time OPERATOR(pg_catalog.>=) $5::timestamptz"
    "    AND e.event_time OPERATOR(pg_catalog.<) $6::timestamptz"
    "  UNION"
    "  SELECT e.event_time, e.type, e.reason, e.message, e.occurrences, e.name"
    "  FROM node, k8s_events.events AS e"
    "  WHERE e.cluster OPERATOR(pg_catalog.=) $1 AND e.type OPERATOR(pg_catalog.=) 'Warning'"
    "    AND e.source_host OPERATOR(pg_catalog.=) node.name"
    "    AND e.kind OPERATOR(pg_catalog.=) 'Node' AND e.name OPERATOR(pg_catalog.=) node.name"
    "    AND e.event_time OPERATOR(pg_catalog.>=) $5::timestamptz"
    "    AND e.event_time OPERATOR(pg_catalog.<) $6::timestamptz"
    "  ORDER BY 1 LIMIT 1000"
    "), replica_sets AS ("
    "  SELECT DISTINCT k8s_events.replica_set_from_message(e.message) AS name"
    "  FROM k8s_events.events AS e"
    "  WHERE $3 OPERATOR(pg_catalog.=) 'Deployment' AND e.cluster OPERATOR(pg_catalog.=) $1"
    "    AND e.namespace OPERATOR(pg_catalog.=) $2 AND e.kind OPERATOR(pg_catalog.=) 'Deployment'"
    "    AND e.name OPERATOR(pg_catalog.=) $4"
    "    AND e.reason OPERATOR(pg_catalog.=) 'ScalingReplicaSet'"
    "  UNION SELECT $4 WHERE $3 OPERATOR(pg_catalog.=) 'ReplicaSet'"
    "), scaling AS ("
    "  SELECT e.event_time, e.message,"
    "   k8s_events.replica_set_from_message(e.message) AS replica_set"
    "  FROM k8s_events.events AS e"
    "  WHERE $3 OPERATOR(pg_catalog.=) 'Deployment' AND e.cluster OPERATOR(pg_catalog.=) $1"
    "    AND e.namespace OPERATOR(pg_catalog.=) $2 AND e.kind OPERATOR(pg_catalog.=) 'Deployment'"
    "    AND e.name OPERATOR(pg_catalog.=) $4"
    "    AND e.reason OPERATOR(pg_catalog.=) 'ScalingReplicaSet'"
    "    AND e.event_time OPERATOR(pg_catalog.>=) $5::timestamptz"
    "    AND e.event_time OPERATOR(pg_catalog.<) $6::timestamptz"
    "  ORDER BY e.event_time LIMIT 1000"
    "), images AS ("
    "  SELECT o.owner AS replica_set, i.image, min(i.first_time) AS first_time,"
    "   count(DISTINCT o.pod) AS pods"
    "  FROM replica_sets AS rs"
    "  JOIN k8s_events.pod_owners AS o ON o.cluster OPERATOR(pg_catalog.=) $1"
    "   AND o.namespace OPERATOR(pg_catalog.=) $2 AND o.owner_kind OPERATOR(pg_catalog.=) "
    "'ReplicaSet'"
    "   AND o.owner OPERATOR(pg_catalog.=) rs.name"
    "  JOIN k8s_events.pod_images AS i ON i.cluster OPERATOR(pg_catalog.=) o.cluster"
    "   AND i.namespace OPERATOR(pg_catalog.=) o.namespace AND i.pod OPERATOR(pg_catalog.=) o.pod"
    "  GROUP BY 1, 2"
    "  HAVING min(i.first_time) OPERATOR(pg_catalog.<) $6::timestamptz"
    "     AND max(i.last_time) OPERATOR(pg_catalog.>=) $5::timestamptz"
    ")"
    " SELECT json_build_object("
    "  'node', (SELECT node.name FROM node),"
    "  'node_trouble', coalesce((SELECT json_agg(t ORDER BY t.event_time) FROM node_trouble AS t),"
    "   '[]'),"
    "  'scaling', coalesce((SELECT json_agg(s ORDER BY s.event_time) FROM scaling AS s), '[]'),"
    "  'images', coalesce((SELECT json_agg(i ORDER BY i.first_time) FROM images AS i), "
    "'[]'))::text";

static void
run_overlays(PGconn *conn, Params *p, Reply *r)
{
	char        from[RFC3339_BUFLEN], to[RFC3339_BUFLEN];
	const char *v[6] = {
	    p->text[P_CLUSTER], p->text[P_NAMESPACE], p->text[P_KIND], p->text[P_NAME], from, to};

	format_time(p->from_us, from);
	format_time(p->to_us, to);
	run_json(conn, overlays_sql, 6, v, r);
}

/* ---------------------------------------------------------------- table */

static const ApiEndpoint endpoints[] = {
    {"/api/clusters", 0, 0, true, run_clusters},
    {"/api/filters", PARAM(P_CLUSTER) | RANGE, PARAM(P_CLUSTER), true, run_filters},
    {"/api/histogram", OBJECT | RANGE | PARAM(P_TYPE) | PARAM(P_BUCKET) | PARAM(P_BARS),
     PARAM(P_CLUSTER), true, run_histogram},
    {"/api/resources",
     PARAM(P_CLUSTER) | PARAM(P_NAMESPACE) | PARAM(P_KIND) | PARAM(P_TYPE) | PARAM(P_REASON) |
         PARAM(P_Q) | PARAM(P_NODE) | RANGE | PARAM(P_SORT) | PARAM(P_LIMIT) | PARAM(P_OFFSET) |
         PARAM(P_SPARK),
     PARAM(P_CLUSTER), true, run_resources},
    {"/api/resource", OBJECT, PARAM(P_CLUSTER) | PARAM(P_KIND) | PARAM(P_NAME), false,
     run_resource},
    {"/api/events", OBJECT | RANGE | PARAM(P_LIMIT) | PARAM(P_OFFSET),
     PARAM(P_CLUSTER) | PARAM(P_KIND) | PARAM(P_NAME), false, run_events},
    {"/api/events.csv", OBJECT | RANGE | PARAM(P_LIMIT) | PARAM(P_OFFSET),
     PARAM(P_CLUSTER) | PARAM(P_KIND) | PARAM(P_NAME), false, run_events_csv},
    {"/api/overlays", OBJECT | RANGE,
     PARAM(P_CLUSTER) | PARAM(P_NAMESPACE) | PARAM(P_KIND) | PARAM(P_NAME), true, run_overlays},
};

const ApiEndpoint *
api_find(const char *url)
{
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		if (strcmp(url, endpoints[i].path) == 0)
			return &endpoints[i];
	return NULL;
}

unsigned
api_allowed(const ApiEndpoint *ep)
{
	return ep->allowed;
}

bool
api_bounded(const ApiEndpoint *ep)
{
	return ep->bounded;
}

static const char *const param_names[P_COUNT] = {
    "cluster", "namespace", "kind",  "name",   "type", "reason", "q",       "from", "to",
    "bucket",  "bars",      "limit", "offset", "sort", "spark",  "related", "node",
};

void
api_run(const ApiEndpoint *ep, ServeState *st, Params *p, Reply *r)
{
	PGconn *conn;

	for (int i = 0; i < P_COUNT; i++)
		if ((ep->required & PARAM(i)) && p->text[i] == NULL)
		{
			reply_error(r, 400, "missing parameter", param_names[i], "required by this endpoint");
			return;
		}
	conn = db_pool_get(st->pool, 10000);
	if (conn == NULL)
	{
		reply_error(r, 503, "busy", NULL, "every database connection is in use: try again");
		return;
	}
	ep->run(conn, p, r);
	db_pool_put(st->pool, conn);
}
