/*
 * summaries.c
 *	  Keeping k8s_events.resource_summary and k8s_events.event_counts equal to
 *	  what the stored rows say, in the transaction that changes the rows.
 *
 * The write path hands over each batch of rows it stored.  They are sorted by
 * key and aggregated here, so that each distinct key costs one row of one
 * upsert statement per table, and every writer takes the summary rows' locks
 * in the same order.  Writers of one cluster are serialised by its ingest lock
 * and the keys of different clusters are disjoint, so the upserts never wait
 * on each other for long, nor deadlock.
 *
 * Merging is order-independent: counts add up, the first time is a minimum,
 * and the last observation is the greatest by (event_time, count, uid,
 * resource_version), compared byte-wise as COLLATE "C" does in SQL.  The same
 * rows in any order, in any batches, give the same summary.
 *
 * A 1.0 schema (a new library before ALTER EXTENSION k8s_events UPDATE) has no
 * summaries: nothing is written then, and the update builds them from the rows.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "rollouts.h"
#include "spi_plan.h"
#include "summaries.h"
#include "sql_function.h"

SQL_FUNCTION(k8s_add_counts);

/*
 * Is the row being inserted a later observation than the stored last one?  The
 * same order as is_later() below and as resource_summary_recomputed().
 */
#define NEWER                                                                                      \
	"ROW(excluded.last_event_time, excluded.last_count, excluded.last_uid,"                        \
	" excluded.last_resource_version COLLATE pg_catalog.\"C\") OPERATOR(pg_catalog.>)"             \
	" ROW(s.last_event_time, s.last_count, s.last_uid,"                                            \
	" s.last_resource_version COLLATE pg_catalog.\"C\")"

/*
 * $1 cluster, then one array per column, one element per distinct key, in
 * key order.  The last observation of the two is picked by the same ORDER BY
 * as resource_summary_recomputed() uses.  Qualified throughout: a worker runs it.
 */
static const char resource_upsert_sql[] =
    "INSERT INTO k8s_events.resource_summary AS s (cluster, namespace, kind, name, normal,"
    "  warning, observations, first_event_time, last_event_time, last_count, last_uid,"
    "  last_resource_version, last_type, last_reason, last_message, reasons, nodes)"
    " SELECT $1, b.namespace, b.kind, b.name, b.normal, b.warning, b.observations,"
    "  b.first_event_time, b.last_event_time, b.last_count, b.last_uid, b.last_resource_version,"
    "  b.last_type, b.last_reason, b.last_message, b.reasons, b.nodes"
    " FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]),"
    "    pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.text[]),"
    "    pg_catalog.unnest($5::pg_catalog.int8[]), pg_catalog.unnest($6::pg_catalog.int8[]),"
    "    pg_catalog.unnest($7::pg_catalog.int8[]), pg_catalog.unnest($8::pg_catalog.timestamptz[]),"
    "    pg_catalog.unnest($9::pg_catalog.timestamptz[]), "
    "pg_catalog.unnest($10::pg_catalog.int4[]),"
    "    pg_catalog.unnest($11::pg_catalog.uuid[]), pg_catalog.unnest($12::pg_catalog.text[]),"
    "    pg_catalog.unnest($13::pg_catalog.text[]), pg_catalog.unnest($14::pg_catalog.text[]),"
    "    pg_catalog.unnest($15::pg_catalog.text[]), pg_catalog.unnest($16::pg_catalog.jsonb[]),"
    "    pg_catalog.unnest($17::pg_catalog.jsonb[]))"
    "  AS b(namespace, kind, name, normal, warning, observations, first_event_time,"
    "    last_event_time, last_count, last_uid, last_resource_version, last_type, last_reason,"
    "    last_message, reasons, nodes)"
    " ON CONFLICT ON CONSTRAINT resource_summary_key DO UPDATE SET"
    "  normal = s.normal OPERATOR(pg_catalog.+) excluded.normal,"
    "  warning = s.warning OPERATOR(pg_catalog.+) excluded.warning,"
    "  observations = s.observations OPERATOR(pg_catalog.+) excluded.observations,"
    "  first_event_time = LEAST(s.first_event_time, excluded.first_event_time),"
    "  reasons = k8s_events.add_counts(s.reasons, excluded.reasons),"
    "  nodes = k8s_events.add_counts(s.nodes, excluded.nodes),"
    "  last_event_time = CASE WHEN " NEWER
    " THEN excluded.last_event_time ELSE s.last_event_time END,"
    "  last_count = CASE WHEN " NEWER " THEN excluded.last_count ELSE s.last_count END,"
    "  last_uid = CASE WHEN " NEWER " THEN excluded.last_uid ELSE s.last_uid END,"
    "  last_resource_version = CASE WHEN " NEWER
    " THEN excluded.last_resource_version ELSE s.last_resource_version END,"
    "  last_type = CASE WHEN " NEWER " THEN excluded.last_type ELSE s.last_type END,"
    "  last_reason = CASE WHEN " NEWER " THEN excluded.last_reason ELSE s.last_reason END,"
    "  last_message = CASE WHEN " NEWER " THEN excluded.last_message ELSE s.last_message END";

/*
 * event_counts, and the rollups histogram() reads (counts_by_hour, counts_by_day: the same
 * numbers summed over namespaces) from the same arrays in one statement.  The rollups'
 * keys are grouped and locked in key order, like event_counts' (the arrays are sorted).
 * They exist from 1.1 on, as does event_counts, in the schema 1.1 created.
 */
static const char counts_upsert_sql[] =
    "WITH b AS ("
    "  SELECT * FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.timestamptz[]),"
    "    pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.text[]),"
    "    pg_catalog.unnest($5::pg_catalog.text[]), pg_catalog.unnest($6::pg_catalog.text[]),"
    "    pg_catalog.unnest($7::pg_catalog.int8[]), pg_catalog.unnest($8::pg_catalog.int8[]))"
    "  AS b(hour, namespace, kind, type, reason, occurrences, observations)"
    "), by_hour AS ("
    " INSERT INTO k8s_events_internal.counts_by_hour AS r (cluster, hour, kind, type, reason,"
    "   occurrences, observations)"
    "  SELECT $1, b.hour, b.kind, b.type, b.reason, pg_catalog.sum(b.occurrences),"
    "   pg_catalog.sum(b.observations)"
    "  FROM b GROUP BY 2, 3, 4, 5 ORDER BY 2, 3, 4, 5"
    "  ON CONFLICT ON CONSTRAINT counts_by_hour_key DO UPDATE SET"
    "   occurrences = r.occurrences OPERATOR(pg_catalog.+) excluded.occurrences,"
    "   observations = r.observations OPERATOR(pg_catalog.+) excluded.observations"
    "), by_day AS ("
    " INSERT INTO k8s_events_internal.counts_by_day AS r (cluster, day, kind, type, reason,"
    "   occurrences, observations)"
    "  SELECT $1, pg_catalog.date_bin('1 day', b.hour,"
    "   '1970-01-01 00:00:00+00'::pg_catalog.timestamptz), b.kind, b.type, b.reason,"
    "   pg_catalog.sum(b.occurrences), pg_catalog.sum(b.observations)"
    "  FROM b GROUP BY 2, 3, 4, 5 ORDER BY 2, 3, 4, 5"
    "  ON CONFLICT ON CONSTRAINT counts_by_day_key DO UPDATE SET"
    "   occurrences = r.occurrences OPERATOR(pg_catalog.+) excluded.occurrences,"
    "   observations = r.observations OPERATOR(pg_catalog.+) excluded.observations"
    ")"
    " INSERT INTO k8s_events.event_counts AS c (cluster, hour, namespace, kind, type, reason,"
    "  occurrences, observations)"
    " SELECT $1, b.hour, b.namespace, b.kind, b.type, b.reason, b.occurrences, b.observations"
    " FROM b"
    " ON CONFLICT ON CONSTRAINT event_counts_key DO UPDATE SET"
    "  occurrences = c.occurrences OPERATOR(pg_catalog.+) excluded.occurrences,"
    "  observations = c.observations OPERATOR(pg_catalog.+) excluded.observations";

/*
 * Take a dropped partition's rows out of resource_summary ($1, $2: its range),
 * each object one probe of the summary's key.  An object all of whose rows are
 * in the partition (the usual case: most objects live for minutes) is deleted
 * outright; the others get the same upsert as adding, with the partition's
 * totals negated and its first_event_time kept: when it was first seen is
 * history, as event_counts' hours are (verify_summaries() compares it only
 * where the rows kept can tell).  summaries_after_drop() deletes the row of
 * one that has no rows left (its summary said more than the rows: rows
 * deleted by hand), and looks up again the last observation of one whose last
 * was among the dropped rows.  An
 * object the equality join cannot see (a NULL among its names) or missing from
 * the summary (the INSERT branch: a row with negative counts) comes back with
 * its observations left, and when none are left summaries_before_drop()
 * deletes its row.  The per-reason totals only feed the upsert's reasons.
 * The partition's rows are grouped twice in one pass (GROUPING SETS): per
 * reason, for every column but the nodes, and per source_host, for the nodes.
 *
 * Two ways to the per-reason totals.  In general, from all the partition's
 * rows (%s: the partition, then a WHERE on its rows or nothing).  When nothing
 * older is stored, from the summaries' indexes ($3: the clusters): an object
 * whose last event is before the partition's end has all its rows in it, and
 * goes; one that also has later rows started before that end, and its rows in
 * the partition are read through the object index (%s: the partition).  Those
 * objects are a few per cent of a day's, so this reads no row of the others.
 * Objects with a NULL among their names are left to the general way.
 */
#define PER_REASON_SUMS                                                                            \
	"coalesce(pg_catalog.sum(p.occurrences) FILTER (WHERE p.type OPERATOR(pg_catalog.=)"           \
	"  'Normal'), 0) AS normal,"                                                                   \
	" coalesce(pg_catalog.sum(p.occurrences) FILTER (WHERE p.type OPERATOR(pg_catalog.=)"          \
	"  'Warning'), 0) AS warning,"                                                                 \
	" pg_catalog.count(*) AS observations, pg_catalog.min(p.first_time) AS first_time,"            \
	" pg_catalog.sum(p.occurrences) AS occurrences"

static const char per_reason_from_rows_fmt[] =
    "WITH per_reason AS ("
    "  SELECT p.cluster, p.namespace, p.kind, p.name, p.reason, p.source_host,"
    "   GROUPING(p.reason) OPERATOR(pg_catalog.=) 0 AS by_reason, " PER_REASON_SUMS
    "  FROM %s AS p%s GROUP BY GROUPING SETS ("
    "   (p.cluster, p.namespace, p.kind, p.name, p.reason),"
    "   (p.cluster, p.namespace, p.kind, p.name, p.source_host))"
    "), ";

static const char per_reason_from_summaries_fmt[] =
    "WITH old_objects AS ("
    "  DELETE FROM k8s_events.resource_summary AS s"
    "  WHERE s.cluster OPERATOR(pg_catalog.=) ANY ($3)"
    "   AND s.last_event_time OPERATOR(pg_catalog.<) $2"
    "), per_reason AS ("
    "  SELECT s.cluster, s.namespace, s.kind, s.name, g.reason, g.source_host, g.by_reason,"
    "   g.normal, g.warning, g.observations, g.first_time, g.occurrences"
    "  FROM k8s_events.resource_summary AS s"
    "  CROSS JOIN LATERAL (SELECT p.reason, p.source_host,"
    "    GROUPING(p.reason) OPERATOR(pg_catalog.=) 0 AS by_reason, " PER_REASON_SUMS
    "   FROM %s AS p"
    "   WHERE p.cluster OPERATOR(pg_catalog.=) s.cluster"
    "    AND p.namespace OPERATOR(pg_catalog.=) s.namespace"
    "    AND p.kind OPERATOR(pg_catalog.=) s.kind AND p.name OPERATOR(pg_catalog.=) s.name"
    "   GROUP BY GROUPING SETS ((p.reason), (p.source_host))) AS g"
    "  WHERE s.cluster OPERATOR(pg_catalog.=) ANY ($3)"
    "   AND s.first_event_time OPERATOR(pg_catalog.<) $2"
    "   AND s.last_event_time OPERATOR(pg_catalog.>=) $2"
    "), ";

static const char subtract_sql[] =
    "per_object AS ("
    "  SELECT g.cluster, g.namespace, g.kind, g.name,"
    "    OPERATOR(pg_catalog.-) pg_catalog.sum(g.normal) FILTER (WHERE g.by_reason) AS normal,"
    "    OPERATOR(pg_catalog.-) pg_catalog.sum(g.warning) FILTER (WHERE g.by_reason) AS warning,"
    "    OPERATOR(pg_catalog.-) pg_catalog.sum(g.observations) FILTER (WHERE g.by_reason)"
    "      AS observations,"
    "    pg_catalog.min(g.first_time) AS first_time,"
    "    coalesce(pg_catalog.jsonb_object_agg(g.reason, OPERATOR(pg_catalog.-) g.occurrences)"
    "      FILTER (WHERE g.by_reason AND g.reason IS NOT NULL"
    "       AND g.occurrences OPERATOR(pg_catalog.>) 0),"
    "      '{}'::pg_catalog.jsonb) AS reasons,"
    "    coalesce(pg_catalog.jsonb_object_agg(g.source_host,"
    "       OPERATOR(pg_catalog.-) g.observations)"
    "      FILTER (WHERE NOT g.by_reason AND g.source_host IS NOT NULL),"
    "      '{}'::pg_catalog.jsonb) AS nodes"
    "  FROM per_reason AS g GROUP BY 1, 2, 3, 4"
    "), gone AS ("
    "  DELETE FROM k8s_events.resource_summary AS s USING per_object AS g"
    "  WHERE s.cluster OPERATOR(pg_catalog.=) g.cluster"
    "   AND s.namespace OPERATOR(pg_catalog.=) g.namespace"
    "   AND s.kind OPERATOR(pg_catalog.=) g.kind AND s.name OPERATOR(pg_catalog.=) g.name"
    "   AND s.observations OPERATOR(pg_catalog.+) g.observations OPERATOR(pg_catalog.<=) 0"
    "  RETURNING s.cluster, s.namespace, s.kind, s.name"
    ")"
    " INSERT INTO k8s_events.resource_summary AS s (cluster, namespace, kind, name, normal,"
    "  warning, observations, first_event_time, last_event_time, last_count, last_uid,"
    "  last_resource_version, last_type, last_reason, last_message, reasons, nodes)"
    " SELECT g.cluster, g.namespace, g.kind, g.name, g.normal, g.warning, g.observations,"
    "  g.first_time, g.first_time, 0, '00000000-0000-0000-0000-000000000000', '', NULL, NULL,"
    "  NULL, g.reasons, g.nodes"
    " FROM per_object AS g"
    " WHERE NOT EXISTS (SELECT FROM gone AS d WHERE d.cluster OPERATOR(pg_catalog.=) g.cluster"
    "   AND d.namespace OPERATOR(pg_catalog.=) g.namespace"
    "   AND d.kind OPERATOR(pg_catalog.=) g.kind AND d.name OPERATOR(pg_catalog.=) g.name)"
    " ORDER BY 1, 2, 3, 4"
    " ON CONFLICT ON CONSTRAINT resource_summary_key DO UPDATE SET"
    "  normal = s.normal OPERATOR(pg_catalog.+) excluded.normal,"
    "  warning = s.warning OPERATOR(pg_catalog.+) excluded.warning,"
    "  observations = s.observations OPERATOR(pg_catalog.+) excluded.observations,"
    "  reasons = k8s_events.add_counts(s.reasons, excluded.reasons),"
    "  nodes = k8s_events.add_counts(s.nodes, excluded.nodes)"
    " RETURNING s.cluster, s.namespace, s.kind, s.name,"
    "  s.observations OPERATOR(pg_catalog.>) 0,"
    "  s.observations OPERATOR(pg_catalog.<=) 0,"
    "  s.last_event_time OPERATOR(pg_catalog.>=) $1"
    "  AND s.last_event_time OPERATOR(pg_catalog.<) $2";

/* The clusters resource_summary has rows of, each one probe of its index. */
static const char summary_clusters_sql[] =
    "WITH RECURSIVE c AS ("
    "  SELECT pg_catalog.min(s.cluster) AS cluster FROM k8s_events.resource_summary AS s"
    "  UNION ALL"
    "  SELECT (SELECT pg_catalog.min(s.cluster) FROM k8s_events.resource_summary AS s"
    "          WHERE s.cluster OPERATOR(pg_catalog.>) c.cluster)"
    "  FROM c WHERE c.cluster IS NOT NULL"
    ")"
    " SELECT pg_catalog.array_agg(c.cluster) FROM c WHERE c.cluster IS NOT NULL";

/* Does an object the summaries' way leaves out have rows in the partition, perhaps? */
static const char null_named_spanning_sql[] =
    "SELECT EXISTS (SELECT FROM k8s_events.resource_summary AS s"
    "  WHERE s.cluster OPERATOR(pg_catalog.=) ANY ($3)"
    "   AND s.first_event_time OPERATOR(pg_catalog.<) $2"
    "   AND s.last_event_time OPERATOR(pg_catalog.>=) $2"
    "   AND (s.namespace IS NULL OR s.kind IS NULL OR s.name IS NULL))";

static const char null_named_rows[] =
    " WHERE p.namespace IS NULL OR p.kind IS NULL OR p.name IS NULL";

/*
 * The last observation of objects, again, from the rows left.  The first %s is
 * how a stored row matches the summary row, the second which summary rows:
 * both plain equality, which the (namespace, kind, name, event_time) index and
 * the summary's key serve, with "IS NULL" in place of "=" for the columns an
 * object has no value in (objects with a NULL among them are rare, and done
 * one by one).
 */
static const char recompute_sql_fmt[] =
    "UPDATE k8s_events.resource_summary AS s SET"
    "  (last_event_time, last_count, last_uid, last_resource_version, last_type, last_reason,"
    "   last_message) = (SELECT e.event_time, e.count, e.uid, e.resource_version, e.type,"
    "    e.reason, e.message FROM k8s_events.events AS e WHERE %s"
    "    ORDER BY e.event_time DESC, e.count DESC, e.uid DESC,"
    "      e.resource_version COLLATE pg_catalog.\"C\" DESC LIMIT 1)"
    " %s";

/*
 * An object whose rows are all gone though its summary said otherwise (rows
 * deleted or a partition dropped by hand) has nothing to look up: its
 * summary row goes.  %s: the summary rows, as in recompute_sql_fmt.
 */
static const char delete_orphans_sql_fmt[] =
    "DELETE FROM k8s_events.resource_summary AS s %s"
    " AND NOT EXISTS (SELECT FROM k8s_events.events AS e WHERE %s)";

/* Many objects at once, none with a NULL. */
static const char recompute_from_arrays[] =
    "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]),"
    "    pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.text[]),"
    "    pg_catalog.unnest($4::pg_catalog.text[])) AS k(cluster, namespace, kind, name)"
    " WHERE s.cluster OPERATOR(pg_catalog.=) k.cluster"
    "  AND s.namespace OPERATOR(pg_catalog.=) k.namespace"
    "  AND s.kind OPERATOR(pg_catalog.=) k.kind AND s.name OPERATOR(pg_catalog.=) k.name";

static const char match_rows[] =
    "e.cluster OPERATOR(pg_catalog.=) s.cluster AND e.namespace OPERATOR(pg_catalog.=) s.namespace"
    " AND e.kind OPERATOR(pg_catalog.=) s.kind AND e.name OPERATOR(pg_catalog.=) s.name";

/*
 * Retention of what outlives the raw rows: whole UTC days before the cutoff, and never an
 * hour that still has raw rows (those stay what a recomputation gives).  Whole days, so
 * that the daily rollup stays the sum of the hours event_counts keeps.
 */
static const char expiry_bound_sql[] =
    "SELECT pg_catalog.date_bin('1 day', LEAST($1, k8s_events.raw_rows_since()),"
    " '1970-01-01 00:00:00+00'::pg_catalog.timestamptz)";

/*
 * Expiry deletes and recomputes across clusters (rollouts_expire reads the
 * groups to recompute, then rewrites them): no writer may add to these tables
 * meanwhile, or its batch could pair a pod with an owner being deleted.  Every
 * table at once, before anything is read; the caller bounds the wait.
 */
static const char lock_for_expiry_sql[] =
    "LOCK TABLE k8s_events.event_counts, k8s_events_internal.counts_by_hour,"
    " k8s_events_internal.counts_by_day, k8s_events.pod_owners, k8s_events.pod_images,"
    " k8s_events.rollouts IN SHARE ROW EXCLUSIVE MODE";

static const char expire_counts_sql[] =
    "WITH by_hour AS (DELETE FROM k8s_events_internal.counts_by_hour AS h"
    "  WHERE h.hour OPERATOR(pg_catalog.<) $1"
    "), by_day AS (DELETE FROM k8s_events_internal.counts_by_day AS d"
    "  WHERE d.day OPERATOR(pg_catalog.<) $1"
    ")"
    " DELETE FROM k8s_events.event_counts AS c WHERE c.hour OPERATOR(pg_catalog.<) $1";

/* Plans live for the backend's life; the plan cache revalidates them after DDL. */
static SPIPlanPtr resource_plan = NULL;
static SPIPlanPtr counts_plan = NULL;

struct SummaryDrop
{
	int    n;
	Datum *cluster;
	Datum *namespace;
	Datum *kind;
	Datum *name;
	bool  *nulls;        /* 4 per key: cluster (never), namespace, kind, name */
	bool  *last_dropped; /* its last observation was among the dropped rows */
};

static bool
summaries_installed(void)
{
	Oid nsp = get_namespace_oid("k8s_events", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("resource_summary", nsp)) &&
	       OidIsValid(get_relname_relid("event_counts", nsp));
}

/* ---------------------------------------------------------------- ordering */

/* NULL first, then byte order: the same whoever sorts. */
static int
compare_strings(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int
compare_object(const SummaryRow *a, const SummaryRow *b)
{
	int c;

	if ((c = compare_strings(a->namespace, b->namespace)) != 0)
		return c;
	if ((c = compare_strings(a->kind, b->kind)) != 0)
		return c;
	return compare_strings(a->name, b->name);
}

static int
compare_by_object_reason(const void *pa, const void *pb)
{
	const SummaryRow *a = *(const SummaryRow *const *) pa;
	const SummaryRow *b = *(const SummaryRow *const *) pb;
	int               c = compare_object(a, b);

	return c != 0 ? c : compare_strings(a->reason, b->reason);
}

static TimestampTz
hour_of(TimestampTz t)
{
	/* Floor, also before 2000 (PostgreSQL's epoch), which is on the hour like 1970. */
	TimestampTz r = t % USECS_PER_HOUR;

	return t - (r < 0 ? r + USECS_PER_HOUR : r);
}

static int
compare_by_hour(const void *pa, const void *pb)
{
	const SummaryRow *a = *(const SummaryRow *const *) pa;
	const SummaryRow *b = *(const SummaryRow *const *) pb;
	TimestampTz       ha = hour_of(a->event_time);
	TimestampTz       hb = hour_of(b->event_time);
	int               c;

	if (ha != hb)
		return ha < hb ? -1 : 1;
	if ((c = compare_strings(a->namespace, b->namespace)) != 0)
		return c;
	if ((c = compare_strings(a->kind, b->kind)) != 0)
		return c;
	if ((c = compare_strings(a->type, b->type)) != 0)
		return c;
	return compare_strings(a->reason, b->reason);
}

/* Is a a later observation than b? (event_time, count, uid, resource_version) */
static bool
is_later(const SummaryRow *a, const SummaryRow *b)
{
	int c;

	if (a->event_time != b->event_time)
		return a->event_time > b->event_time;
	if (a->count != b->count)
		return a->count > b->count;
	if ((c = memcmp(a->uid.data, b->uid.data, UUID_LEN)) != 0)
		return c > 0;
	return strcmp(a->resource_version, b->resource_version) > 0;
}

/* ---------------------------------------------------------------- arrays */

typedef struct Column
{
	Oid    type;
	Datum *values;
	bool  *nulls;
} Column;

static void
column_init(Column *c, Oid type, int capacity)
{
	c->type = type;
	c->values = palloc(sizeof(Datum) * capacity);
	c->nulls = palloc(sizeof(bool) * capacity);
}

static void
column_set_text(Column *c, int i, const char *s)
{
	c->nulls[i] = s == NULL;
	c->values[i] = s == NULL ? (Datum) 0 : CStringGetTextDatum(s);
}

static void
column_set(Column *c, int i, Datum value)
{
	c->nulls[i] = false;
	c->values[i] = value;
}

static Datum
column_array(const Column *c, int n)
{
	int   dims[1] = {n};
	int   lbs[1] = {1};
	int16 typlen;
	bool  typbyval;
	char  typalign;

	get_typlenbyvalalign(c->type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(
	    construct_md_array(c->values, c->nulls, 1, dims, lbs, c->type, typlen, typbyval, typalign));
}

/* ---------------------------------------------------------------- writing */

enum
{
	R_NAMESPACE,
	R_KIND,
	R_NAME,
	R_NORMAL,
	R_WARNING,
	R_OBSERVATIONS,
	R_FIRST,
	R_LAST_TIME,
	R_LAST_COUNT,
	R_LAST_UID,
	R_LAST_VERSION,
	R_LAST_TYPE,
	R_LAST_REASON,
	R_LAST_MESSAGE,
	R_REASONS,
	R_NODES,
	R_NCOLUMNS
};

static const Oid resource_types[R_NCOLUMNS] = {
    TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID,
    INT4OID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID,       JSONBOID,
};

enum
{
	C_HOUR,
	C_NAMESPACE,
	C_KIND,
	C_TYPE,
	C_REASON,
	C_OCCURRENCES,
	C_OBSERVATIONS,
	C_NCOLUMNS
};

static const Oid counts_types[C_NCOLUMNS] = {
    TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID,
};

static SPIPlanPtr
prepare_upsert(const char *sql, const Oid *column_types, int ncolumns)
{
	Oid argtypes[R_NCOLUMNS + 1];

	argtypes[0] = TEXTOID;
	for (int c = 0; c < ncolumns; c++)
		argtypes[c + 1] = get_array_type(column_types[c]);
	return spi_prepare_kept(sql, ncolumns + 1, argtypes);
}

static void
run_upsert(SPIPlanPtr plan, const char *cluster, Column *columns, int ncolumns, int nkeys)
{
	Datum args[R_NCOLUMNS + 1];

	args[0] = CStringGetTextDatum(cluster);
	for (int c = 0; c < ncolumns; c++)
		args[c + 1] = column_array(&columns[c], nkeys);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not update the summaries of cluster \"%s\"", cluster);
}

static Datum
reasons_jsonb(SummaryRow **rows, int from, int to)
{
	JsonbParseState *state = NULL;
	JsonbValue      *object;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = from; i < to;)
	{
		const char *reason = rows[i]->reason;
		int64       total = 0;
		int         j;

		for (j = i; j < to && compare_strings(rows[j]->reason, reason) == 0; j++)
			total += rows[j]->occurrences;
		if (reason != NULL && total > 0)
		{
			JsonbValue key = {.type = jbvString};
			JsonbValue value = {.type = jbvNumeric};

			key.val.string.val = (char *) reason;
			key.val.string.len = strlen(reason);
			value.val.numeric = int64_to_numeric(total);
			pushJsonbValue(&state, WJB_KEY, &key);
			pushJsonbValue(&state, WJB_VALUE, &value);
		}
		i = j;
	}
	object = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(object));
}

static int
compare_hosts(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *) pa, *(const char *const *) pb);
}

/*
 * {"node": observations} of one object's rows, rows[from..to): the hosts that
 * reported them (jsonb sorts the keys itself, but each must appear once).
 */
static Datum
nodes_jsonb(SummaryRow **rows, int from, int to)
{
	JsonbParseState *state = NULL;
	JsonbValue      *object;
	const char     **hosts = palloc(sizeof(char *) * (to - from));
	int              n = 0;

	for (int i = from; i < to; i++)
		if (rows[i]->source_host != NULL)
			hosts[n++] = rows[i]->source_host;
	qsort(hosts, n, sizeof(char *), compare_hosts);
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < n;)
	{
		JsonbValue key = {.type = jbvString};
		JsonbValue value = {.type = jbvNumeric};
		int        j = i;

		while (j < n && strcmp(hosts[j], hosts[i]) == 0)
			j++;
		key.val.string.val = (char *) hosts[i];
		key.val.string.len = strlen(hosts[i]);
		value.val.numeric = int64_to_numeric(j - i);
		pushJsonbValue(&state, WJB_KEY, &key);
		pushJsonbValue(&state, WJB_VALUE, &value);
		i = j;
	}
	object = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	pfree(hosts);
	return JsonbPGetDatum(JsonbValueToJsonb(object));
}

static void
add_resources(const char *cluster, SummaryRow **rows, int n)
{
	Column columns[R_NCOLUMNS];
	int    nkeys = 0;

	qsort(rows, n, sizeof(SummaryRow *), compare_by_object_reason);
	for (int c = 0; c < R_NCOLUMNS; c++)
		column_init(&columns[c], resource_types[c], n);
	for (int i = 0; i < n;)
	{
		const SummaryRow *last = rows[i];
		int64             normal = 0, warning = 0;
		TimestampTz       first = rows[i]->first_time;
		int               j;

		for (j = i; j < n && compare_object(rows[j], rows[i]) == 0; j++)
		{
			const SummaryRow *r = rows[j];

			if (r->type != NULL && strcmp(r->type, "Normal") == 0)
				normal += r->occurrences;
			else if (r->type != NULL && strcmp(r->type, "Warning") == 0)
				warning += r->occurrences;
			first = Min(first, r->first_time);
			if (is_later(r, last))
				last = r;
		}
		column_set_text(&columns[R_NAMESPACE], nkeys, rows[i]->namespace);
		column_set_text(&columns[R_KIND], nkeys, rows[i]->kind);
		column_set_text(&columns[R_NAME], nkeys, rows[i]->name);
		column_set(&columns[R_NORMAL], nkeys, Int64GetDatum(normal));
		column_set(&columns[R_WARNING], nkeys, Int64GetDatum(warning));
		column_set(&columns[R_OBSERVATIONS], nkeys, Int64GetDatum(j - i));
		column_set(&columns[R_FIRST], nkeys, TimestampTzGetDatum(first));
		column_set(&columns[R_LAST_TIME], nkeys, TimestampTzGetDatum(last->event_time));
		column_set(&columns[R_LAST_COUNT], nkeys, Int32GetDatum(last->count));
		column_set(&columns[R_LAST_UID], nkeys, UUIDPGetDatum((pg_uuid_t *) &last->uid));
		column_set_text(&columns[R_LAST_VERSION], nkeys, last->resource_version);
		column_set_text(&columns[R_LAST_TYPE], nkeys, last->type);
		column_set_text(&columns[R_LAST_REASON], nkeys, last->reason);
		column_set_text(&columns[R_LAST_MESSAGE], nkeys, last->message);
		column_set(&columns[R_REASONS], nkeys, reasons_jsonb(rows, i, j));
		column_set(&columns[R_NODES], nkeys, nodes_jsonb(rows, i, j));
		nkeys++;
		i = j;
	}
	if (resource_plan == NULL)
		resource_plan = prepare_upsert(resource_upsert_sql, resource_types, R_NCOLUMNS);
	run_upsert(resource_plan, cluster, columns, R_NCOLUMNS, nkeys);
}

static void
add_counts(const char *cluster, SummaryRow **rows, int n)
{
	Column columns[C_NCOLUMNS];
	int    nkeys = 0;

	qsort(rows, n, sizeof(SummaryRow *), compare_by_hour);
	for (int c = 0; c < C_NCOLUMNS; c++)
		column_init(&columns[c], counts_types[c], n);
	for (int i = 0; i < n;)
	{
		int64 occurrences = 0;
		int   j;

		for (j = i; j < n && compare_by_hour(&rows[j], &rows[i]) == 0; j++)
			occurrences += rows[j]->occurrences;
		column_set(&columns[C_HOUR], nkeys, TimestampTzGetDatum(hour_of(rows[i]->event_time)));
		column_set_text(&columns[C_NAMESPACE], nkeys, rows[i]->namespace);
		column_set_text(&columns[C_KIND], nkeys, rows[i]->kind);
		column_set_text(&columns[C_TYPE], nkeys, rows[i]->type);
		column_set_text(&columns[C_REASON], nkeys, rows[i]->reason);
		column_set(&columns[C_OCCURRENCES], nkeys, Int64GetDatum(occurrences));
		column_set(&columns[C_OBSERVATIONS], nkeys, Int64GetDatum(j - i));
		nkeys++;
		i = j;
	}
	if (counts_plan == NULL)
		counts_plan = prepare_upsert(counts_upsert_sql, counts_types, C_NCOLUMNS);
	run_upsert(counts_plan, cluster, columns, C_NCOLUMNS, nkeys);
}

struct SummaryBatch
{
	MemoryContext cxt;
	SummaryRow   *rows;
	int           n;
	int           capacity;
};

SummaryBatch *
summary_batch_begin(void)
{
	MemoryContext cxt =
	    AllocSetContextCreate(CurrentMemoryContext, "k8s_events summaries", ALLOCSET_DEFAULT_SIZES);
	SummaryBatch *batch = MemoryContextAllocZero(cxt, sizeof(SummaryBatch));

	batch->cxt = cxt;
	return batch;
}

static const char *
copy_string(MemoryContext cxt, const char *s)
{
	return s == NULL ? NULL : MemoryContextStrdup(cxt, s);
}

void
summary_batch_add(SummaryBatch *batch, const SummaryRow *row)
{
	SummaryRow *r;

	if (batch->n == batch->capacity)
	{
		batch->capacity = Max(64, batch->capacity * 2);
		batch->rows = batch->rows == NULL
		                  ? MemoryContextAlloc(batch->cxt, sizeof(SummaryRow) * batch->capacity)
		                  : repalloc(batch->rows, sizeof(SummaryRow) * batch->capacity);
	}
	r = &batch->rows[batch->n++];
	*r = *row;
	r->namespace = copy_string(batch->cxt, row->namespace);
	r->kind = copy_string(batch->cxt, row->kind);
	r->name = copy_string(batch->cxt, row->name);
	r->type = copy_string(batch->cxt, row->type);
	r->reason = copy_string(batch->cxt, row->reason);
	r->message = copy_string(batch->cxt, row->message);
	r->source_host = copy_string(batch->cxt, row->source_host);
	r->resource_version = copy_string(batch->cxt, row->resource_version);
}

void
summary_batch_write(SummaryBatch *batch, const char *cluster)
{
	if (batch->n > 0 && summaries_installed())
	{
		MemoryContext old = MemoryContextSwitchTo(batch->cxt);
		SummaryRow  **order = palloc(sizeof(SummaryRow *) * batch->n);

		for (int i = 0; i < batch->n; i++)
			order[i] = &batch->rows[i];
		add_resources(cluster, order, batch->n);
		add_counts(cluster, order, batch->n);
		rollouts_add(cluster, order, batch->n);
		MemoryContextSwitchTo(old);
	}
	MemoryContextDelete(batch->cxt);
}

/* ---------------------------------------------------------------- retention */

static char *match_with_nulls(const char *alias, const bool *nulls, bool summary);

/*
 * The row of an object the subtraction emptied but could not delete with the
 * others (a NULL among its names, or missing from the summary): rare, so one
 * statement each.
 */
static void
delete_emptied(HeapTuple tuple, TupleDesc desc)
{
	Oid   texttypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum values[4];
	bool  nulls[4];
	char  argnulls[4];
	char *sql;

	for (int c = 0; c < 4; c++)
	{
		values[c] = SPI_getbinval(tuple, desc, c + 1, &nulls[c]);
		argnulls[c] = nulls[c] ? 'n' : ' ';
	}
	sql = psprintf("DELETE FROM k8s_events.resource_summary AS s WHERE %s",
	               match_with_nulls("s", nulls, true));
	if (SPI_execute_with_args(sql, 4, texttypes, values, argnulls, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete emptied rows of k8s_events.resource_summary");
}

/*
 * Run one subtraction and note, from what it returns, the objects to look up
 * again after the drop, and delete the rows it emptied but could not delete.
 */
static void
subtract(SummaryDrop *drop, const char *sql, int nargs, Oid *argtypes, Datum *args)
{
	SPITupleTable *returned;
	uint64         processed;
	int            n;

	if (SPI_execute_with_args(sql, nargs, argtypes, args, NULL, false, 0) !=
	    SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not take a partition out of k8s_events.resource_summary");
	/* Kept past the statements below, which replace SPI_tuptable. */
	returned = SPI_tuptable;
	processed = SPI_processed;
	n = drop->n + processed;
	drop->cluster = repalloc(drop->cluster, sizeof(Datum) * Max(n, 1));
	drop->namespace = repalloc(drop->namespace, sizeof(Datum) * Max(n, 1));
	drop->kind = repalloc(drop->kind, sizeof(Datum) * Max(n, 1));
	drop->name = repalloc(drop->name, sizeof(Datum) * Max(n, 1));
	drop->nulls = repalloc(drop->nulls, sizeof(bool) * 4 * Max(n, 1));
	drop->last_dropped = repalloc(drop->last_dropped, sizeof(bool) * Max(n, 1));
	for (uint64 i = 0; i < processed; i++)
	{
		HeapTuple tuple = returned->vals[i];
		TupleDesc desc = returned->tupdesc;
		bool      isnull;
		bool     *nulls = &drop->nulls[4 * drop->n];

		if (DatumGetBool(SPI_getbinval(tuple, desc, 6, &isnull)))
		{
			delete_emptied(tuple, desc);
			continue;
		}
		if (!DatumGetBool(SPI_getbinval(tuple, desc, 5, &isnull)))
			continue;
		/* Copied out of SPI's tuple table, freed below. */
		drop->cluster[drop->n] = datumCopy(SPI_getbinval(tuple, desc, 1, &nulls[0]), false, -1);
		drop->namespace[drop->n] = SPI_getbinval(tuple, desc, 2, &nulls[1]);
		drop->kind[drop->n] = SPI_getbinval(tuple, desc, 3, &nulls[2]);
		drop->name[drop->n] = SPI_getbinval(tuple, desc, 4, &nulls[3]);
		if (!nulls[1])
			drop->namespace[drop->n] = datumCopy(drop->namespace[drop->n], false, -1);
		if (!nulls[2])
			drop->kind[drop->n] = datumCopy(drop->kind[drop->n], false, -1);
		if (!nulls[3])
			drop->name[drop->n] = datumCopy(drop->name[drop->n], false, -1);
		drop->last_dropped[drop->n] = DatumGetBool(SPI_getbinval(tuple, desc, 7, &isnull));
		drop->n++;
	}
	SPI_freetuptable(returned);
}

SummaryDrop *
summaries_before_drop(Oid partition, TimestampTz from, TimestampTz to, bool oldest)
{
	SummaryDrop *drop = palloc0(sizeof(SummaryDrop));
	char        *name;
	Oid          argtypes[3] = {TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTARRAYOID};
	Datum        args[3] = {TimestampTzGetDatum(from), TimestampTzGetDatum(to), (Datum) 0};
	bool         isnull = true;
	int          nestlevel;
	char         mem[32];

	if (!summaries_installed())
		return drop;
	drop->cluster = palloc(sizeof(Datum));
	drop->namespace = palloc(sizeof(Datum));
	drop->kind = palloc(sizeof(Datum));
	drop->name = palloc(sizeof(Datum));
	drop->nulls = palloc0(sizeof(bool) * 4);
	drop->last_dropped = palloc0(sizeof(bool));
	name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(partition)),
	                                  get_rel_name(partition));
	/*
	 * A maintenance operation's memory for its aggregation: with a session's
	 * work_mem (4 MB by default) the per-reason totals of a busy day spill to
	 * disk, twice.
	 */
	nestlevel = NewGUCNestLevel();
	snprintf(mem, sizeof(mem), "%d", Max(work_mem, maintenance_work_mem));
	(void) set_config_option("work_mem", mem, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
	                         false);
	if (!oldest)
		subtract(drop, psprintf("%s%s", psprintf(per_reason_from_rows_fmt, name, ""), subtract_sql),
		         2, argtypes, args);
	else
	{
		if (SPI_execute(summary_clusters_sql, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not read the clusters of k8s_events.resource_summary");
		args[2] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		/* No summary rows at all: nothing to take out. */
		if (!isnull)
		{
			args[2] = datumCopy(args[2], false, -1);
			subtract(drop,
			         psprintf("%s%s", psprintf(per_reason_from_summaries_fmt, name), subtract_sql),
			         3, argtypes, args);
			if (SPI_execute_with_args(null_named_spanning_sql, 3, argtypes, args, NULL, true, 1) !=
			        SPI_OK_SELECT ||
			    SPI_processed != 1)
				elog(ERROR, "could not read k8s_events.resource_summary");
			if (DatumGetBool(
			        SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
				subtract(drop,
				         psprintf("%s%s", psprintf(per_reason_from_rows_fmt, name, null_named_rows),
				                  subtract_sql),
				         2, argtypes, args);
		}
	}
	AtEOXact_GUC(true, nestlevel);
	return drop;
}

static Datum
key_array(const SummaryDrop *drop, const Datum *values, int column)
{
	bool *nulls = palloc(sizeof(bool) * Max(drop->n, 1));
	int   dims[1] = {drop->n};
	int   lbs[1] = {1};

	for (int i = 0; i < drop->n; i++)
		nulls[i] = drop->nulls[4 * i + column];
	return PointerGetDatum(construct_md_array((Datum *) values, nulls, 1, dims, lbs, TEXTOID, -1,
	                                          false, TYPALIGN_INT));
}

/* The condition on stored rows (e) or summary rows (s) of one object with NULLs among its names. */
static char *
match_with_nulls(const char *alias, const bool *nulls, bool summary)
{
	static const char *const columns[4] = {"cluster", "namespace", "kind", "name"};
	StringInfoData           cond;

	initStringInfo(&cond);
	for (int c = 0; c < 4; c++)
	{
		if (c > 0)
			appendStringInfoString(&cond, " AND ");
		if (nulls[c])
			appendStringInfo(&cond, "%s.%s IS NULL", alias, columns[c]);
		else if (summary)
			appendStringInfo(&cond, "%s.%s OPERATOR(pg_catalog.=) $%d", alias, columns[c], c + 1);
		else
			appendStringInfo(&cond, "%s.%s OPERATOR(pg_catalog.=) s.%s", alias, columns[c],
			                 columns[c]);
	}
	return cond.data;
}

void
summaries_after_drop(SummaryDrop *drop)
{
	Oid   argtypes[4] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Oid   texttypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum args[4];
	int   plain = 0;

	/* Objects with NULLs among their names one by one, the others in one statement. */
	for (int i = 0; i < drop->n; i++)
	{
		bool *nulls = &drop->nulls[4 * i];
		Datum values[4] = {drop->cluster[i], drop->namespace[i], drop -> kind[i], drop -> name[i]};
		char  argnulls[4];
		char *rows;
		char *which;
		char *sql;

		if (!nulls[1] && !nulls[2] && !nulls[3])
		{
			/* Keep it, compacted to the front, for the statement below. */
			drop->cluster[plain] = drop->cluster[i];
			drop->namespace[plain] = drop->namespace[i];
			drop->kind[plain] = drop->kind[i];
			drop->name[plain] = drop->name[i];
			drop->last_dropped[plain] = drop->last_dropped[i];
			memset(&drop->nulls[4 * plain], 0, 4 * sizeof(bool));
			plain++;
			continue;
		}
		for (int c = 0; c < 4; c++)
			argnulls[c] = nulls[c] ? 'n' : ' ';
		rows = match_with_nulls("e", nulls, false);
		which = psprintf("WHERE %s", match_with_nulls("s", nulls, true));
		if (SPI_execute_with_args(psprintf(delete_orphans_sql_fmt, which, rows), 4, texttypes,
		                          values, argnulls, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete emptied rows of k8s_events.resource_summary");
		if (!drop->last_dropped[i])
			continue;
		sql = psprintf(recompute_sql_fmt, rows, which);
		if (SPI_execute_with_args(sql, 4, texttypes, values, argnulls, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not recompute k8s_events.resource_summary after a partition drop");
	}
	if (plain == 0)
		return;
	drop->n = plain;
	args[0] = key_array(drop, drop->cluster, 0);
	args[1] = key_array(drop, drop->namespace, 1);
	args[2] = key_array(drop, drop->kind, 2);
	args[3] = key_array(drop, drop->name, 3);
	/* recompute_from_arrays reads "FROM ... WHERE": a DELETE says "USING ... WHERE". */
	if (SPI_execute_with_args(psprintf(delete_orphans_sql_fmt,
	                                   psprintf("USING%s", recompute_from_arrays + strlen("FROM")),
	                                   match_rows),
	                          4, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete emptied rows of k8s_events.resource_summary");
	/* Those left whose last observation went: the others' is still stored. */
	drop->n = 0;
	for (int i = 0; i < plain; i++)
		if (drop->last_dropped[i])
		{
			drop->cluster[drop->n] = drop->cluster[i];
			drop->namespace[drop->n] = drop->namespace[i];
			drop->kind[drop->n] = drop->kind[i];
			drop->name[drop->n] = drop->name[i];
			drop->n++;
		}
	if (drop->n == 0)
		return;
	args[0] = key_array(drop, drop->cluster, 0);
	args[1] = key_array(drop, drop->namespace, 1);
	args[2] = key_array(drop, drop->kind, 2);
	args[3] = key_array(drop, drop->name, 3);
	if (SPI_execute_with_args(psprintf(recompute_sql_fmt, match_rows, recompute_from_arrays), 4,
	                          argtypes, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not recompute k8s_events.resource_summary after a partition drop");
}

void
summaries_expire_counts(TimestampTz cutoff)
{
	Oid         argtypes[1] = {TIMESTAMPTZOID};
	Datum       args[1] = {TimestampTzGetDatum(cutoff)};
	bool        isnull;
	TimestampTz bound;

	if (!summaries_installed())
		return;
	if (SPI_execute(lock_for_expiry_sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not lock k8s_events' summaries for their expiry");
	if (SPI_execute_with_args(expiry_bound_sql, 1, argtypes, args, NULL, true, 1) !=
	        SPI_OK_SELECT ||
	    SPI_processed != 1)
		elog(ERROR, "could not compute the expiry of k8s_events' summaries");
	bound = DatumGetTimestampTz(
	    SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	/* No partition at all: raw_rows_since() is infinity, and the cutoff decides. */
	if (isnull || TIMESTAMP_NOT_FINITE(bound))
		return;
	args[0] = TimestampTzGetDatum(bound);
	if (SPI_execute_with_args(expire_counts_sql, 1, argtypes, args, NULL, false, 0) !=
	    SPI_OK_DELETE)
		elog(ERROR, "could not expire k8s_events.event_counts");
	rollouts_expire(bound);
}

/* ---------------------------------------------------------------- add_counts() */

typedef struct Count
{
	char *key;
	int   len;
	int64 value;
} Count;

static int
compare_counts(const void *pa, const void *pb)
{
	const Count *a = pa;
	const Count *b = pb;
	int          c = memcmp(a->key, b->key, Min(a->len, b->len));

	return c != 0 ? c : a->len - b->len;
}

/* The pairs of a {"key": integer} object, appended to counts. */
static int
collect_counts(Jsonb *jb, Count *counts, int n, const char *argname)
{
	JsonbIterator     *it;
	JsonbValue         v;
	JsonbIteratorToken token;
	char              *key = NULL;
	int                len = 0;

	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("add_counts: %s is not a JSON object", argname),
		                errhint("Pass objects of the form {\"reason\": 12}.")));
	it = JsonbIteratorInit(&jb->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (token == WJB_KEY)
		{
			key = v.val.string.val;
			len = v.val.string.len;
		}
		else if (token == WJB_VALUE)
		{
			if (v.type != jbvNumeric)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				                errmsg("add_counts: the value of \"%.*s\" in %s is not a number",
				                       len, key, argname)));
			counts[n].key = key;
			counts[n].len = len;
			counts[n].value =
			    DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v.val.numeric)));
			n++;
		}
	}
	return n;
}

/* add_counts(a jsonb, b jsonb) → jsonb: key by key sums, positive totals only. */
Datum
k8s_add_counts(PG_FUNCTION_ARGS)
{
	Jsonb           *a = PG_GETARG_JSONB_P(0);
	Jsonb           *b = PG_GETARG_JSONB_P(1);
	int              capacity = JB_ROOT_COUNT(a) + JB_ROOT_COUNT(b);
	Count           *counts = palloc(sizeof(Count) * Max(capacity, 1));
	int              n = 0;
	JsonbParseState *state = NULL;
	JsonbValue      *object;

	n = collect_counts(a, counts, n, "the first argument");
	n = collect_counts(b, counts, n, "the second argument");
	qsort(counts, n, sizeof(Count), compare_counts);
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < n;)
	{
		int64 total = 0;
		int   j;

		for (j = i; j < n && compare_counts(&counts[j], &counts[i]) == 0; j++)
			total += counts[j].value;
		if (total > 0)
		{
			JsonbValue key = {.type = jbvString};
			JsonbValue value = {.type = jbvNumeric};

			key.val.string.val = counts[i].key;
			key.val.string.len = counts[i].len;
			value.val.numeric = int64_to_numeric(total);
			pushJsonbValue(&state, WJB_KEY, &key);
			pushJsonbValue(&state, WJB_VALUE, &value);
		}
		i = j;
	}
	object = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(object));
}
