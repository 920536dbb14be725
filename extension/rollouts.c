/*
 * rollouts.c
 *	  Keeping k8s_events.pod_owners, pod_images and rollouts equal to what the
 *	  stored rows say, in the transaction that stores them.
 *
 * A pod's creation ("Created pod: X", a controller's SuccessfulCreate) and its
 * image pulls (the kubelet's Pulling and Pulled) are different events about
 * different objects, and arrive in any order, in any batches.  Each kind goes
 * to its own table; rollouts, their join per (namespace, owner kind, image),
 * is kept by adding what a batch joins: the owners it touched with every image
 * of their pods (stored or new), and the images it added with the stored
 * owners of their pods.  A (pod, owner kind, image) triple is counted once,
 * when the later of its two rows appears; the newest creation wins by (time,
 * owner name), compared byte-wise, as rollouts_recomputed() picks it.  Only
 * sums and maxima: any order gives the same tables.
 *
 * The messages are read with the parsers of pod_from_message() and
 * image_from_message() (messages.c), so the summaries and SQL agree.
 *
 * Like event_counts, the three outlive the raw rows and expire with
 * k8s_events.summary_retention (rollouts_expire).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "core/messages.h"
#include "rollouts.h"
#include "spi_plan.h"

/*
 * The controllers whose SuccessfulCreate names a pod they created.  The same
 * list as pod_owners_recomputed() in extension/sql/46_rollouts.sql.
 */
static const char *const owner_kinds[] = {"ReplicaSet", "StatefulSet", "DaemonSet", "Job",
                                          "ReplicationController"};

/*
 * $1 cluster; owners $2..$6 (namespace, pod, owner kind, owner, time), images
 * $7..$10 (namespace, pod, image, time): one element per observation.  Every
 * table is written in key order.  The stored rows are read one pod at a time
 * through the tables' keys (OFFSET 0 keeps each a parameterised scan, never a
 * join over all of a cluster's rows); the batch's own rows are joined by hash.
 * A statement does not see its own inserts, so a batch's new rows come from
 * RETURNING and the stored ones from the tables, less those the batch changed.
 * A row RETURNING reports with xmax 0 was inserted; ON CONFLICT's update
 * leaves the locking transaction in xmax (also for a row this transaction
 * inserted earlier).
 * Planned for each batch (CURSOR_OPT_CUSTOM_PLAN): the joins' plans depend on
 * how many elements the arrays hold.
 */
static const char rollouts_sql[] =
    "WITH o AS ("
    "  SELECT x.namespace, x.pod, x.owner_kind,"
    "   (pg_catalog.array_agg(x.owner ORDER BY x.t DESC, x.owner COLLATE pg_catalog.\"C\" DESC))[1]"
    "    AS owner,"
    "   pg_catalog.max(x.t) AS created_time, pg_catalog.min(x.t) AS first_time,"
    "   pg_catalog.count(*) AS observations"
    "  FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]),"
    "   pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.text[]),"
    "   pg_catalog.unnest($5::pg_catalog.text[]), pg_catalog.unnest($6::pg_catalog.timestamptz[]))"
    "   AS x(namespace, pod, owner_kind, owner, t)"
    "  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    "), i AS ("
    "  SELECT x.namespace, x.pod, x.image, pg_catalog.min(x.t) AS first_time,"
    "   pg_catalog.max(x.t) AS last_time, pg_catalog.count(*) AS observations"
    "  FROM ROWS FROM (pg_catalog.unnest($7::pg_catalog.text[]),"
    "   pg_catalog.unnest($8::pg_catalog.text[]), pg_catalog.unnest($9::pg_catalog.text[]),"
    "   pg_catalog.unnest($10::pg_catalog.timestamptz[])) AS x(namespace, pod, image, t)"
    "  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    "), po AS ("
    "  INSERT INTO k8s_events.pod_owners AS p (cluster, namespace, pod, owner_kind, owner,"
    "   created_time, first_time, observations)"
    "  SELECT $1, o.namespace, o.pod, o.owner_kind, o.owner, o.created_time, o.first_time,"
    "   o.observations FROM o"
    "  ON CONFLICT ON CONSTRAINT pod_owners_key DO UPDATE SET"
    "   owner = CASE WHEN ROW(excluded.created_time, excluded.owner COLLATE pg_catalog.\"C\")"
    "    OPERATOR(pg_catalog.>) ROW(p.created_time, p.owner COLLATE pg_catalog.\"C\")"
    "    THEN excluded.owner ELSE p.owner END,"
    "   created_time = GREATEST(p.created_time, excluded.created_time),"
    "   first_time = LEAST(p.first_time, excluded.first_time),"
    "   observations = p.observations OPERATOR(pg_catalog.+) excluded.observations"
    "  RETURNING p.namespace, p.pod, p.owner_kind, p.owner, p.created_time,"
    "   p.xmax OPERATOR(pg_catalog.=) 0 AS inserted"
    "), pi AS ("
    "  INSERT INTO k8s_events.pod_images AS p (cluster, namespace, pod, image, first_time,"
    "   last_time, observations)"
    "  SELECT $1, i.namespace, i.pod, i.image, i.first_time, i.last_time, i.observations FROM i"
    "  ON CONFLICT ON CONSTRAINT pod_images_key DO UPDATE SET"
    "   first_time = LEAST(p.first_time, excluded.first_time),"
    "   last_time = GREATEST(p.last_time, excluded.last_time),"
    "   observations = p.observations OPERATOR(pg_catalog.+) excluded.observations"
    "  RETURNING p.namespace, p.pod, p.image, p.xmax OPERATOR(pg_catalog.=) 0 AS inserted"
    /* The stored images of the pods whose owners the batch touched, one pod at a time. */
    "), stored_images AS ("
    "  SELECT s.namespace, s.pod, s.image FROM (SELECT DISTINCT po.namespace, po.pod FROM po) AS p"
    "  CROSS JOIN LATERAL (SELECT s.namespace, s.pod, s.image FROM k8s_events.pod_images AS s"
    "   WHERE s.cluster OPERATOR(pg_catalog.=) $1 AND s.namespace OPERATOR(pg_catalog.=) "
    "p.namespace"
    "    AND s.pod OPERATOR(pg_catalog.=) p.pod OFFSET 0) AS s"
    /* The stored owners of the pods whose images the batch added. */
    "), stored_owners AS ("
    "  SELECT s.namespace, s.pod, s.owner_kind, s.owner, s.created_time"
    "  FROM (SELECT DISTINCT pi.namespace, pi.pod FROM pi WHERE pi.inserted) AS p"
    "  CROSS JOIN LATERAL (SELECT s.namespace, s.pod, s.owner_kind, s.owner, s.created_time"
    "   FROM k8s_events.pod_owners AS s"
    "   WHERE s.cluster OPERATOR(pg_catalog.=) $1 AND s.namespace OPERATOR(pg_catalog.=) "
    "p.namespace"
    "    AND s.pod OPERATOR(pg_catalog.=) p.pod OFFSET 0) AS s"
    "), images AS ("
    "  SELECT pi.namespace, pi.pod, pi.image, pi.inserted FROM pi"
    "  UNION ALL"
    "  SELECT s.namespace, s.pod, s.image, false FROM stored_images AS s"
    "  WHERE NOT EXISTS (SELECT FROM pi WHERE pi.namespace OPERATOR(pg_catalog.=) s.namespace"
    "   AND pi.pod OPERATOR(pg_catalog.=) s.pod AND pi.image OPERATOR(pg_catalog.=) s.image)"
    "), pairs AS ("
    /* The owners the batch touched, with every image of their pod. */
    "  SELECT po.namespace, po.owner_kind, im.image, po.owner, po.created_time,"
    "   po.inserted OR im.inserted AS new_pair"
    "  FROM po JOIN images AS im ON im.namespace OPERATOR(pg_catalog.=) po.namespace"
    "   AND im.pod OPERATOR(pg_catalog.=) po.pod"
    "  UNION ALL"
    /* The images the batch added, with the stored owners of their pod it did not touch. */
    "  SELECT pi.namespace, s.owner_kind, pi.image, s.owner, s.created_time, true"
    "  FROM pi JOIN stored_owners AS s ON s.namespace OPERATOR(pg_catalog.=) pi.namespace"
    "   AND s.pod OPERATOR(pg_catalog.=) pi.pod"
    "  WHERE pi.inserted"
    "   AND NOT EXISTS (SELECT FROM po WHERE po.namespace OPERATOR(pg_catalog.=) s.namespace"
    "    AND po.pod OPERATOR(pg_catalog.=) s.pod AND po.owner_kind OPERATOR(pg_catalog.=) "
    "s.owner_kind)"
    ")"
    " INSERT INTO k8s_events.rollouts AS r (cluster, namespace, owner_kind, image, pods,"
    "  last_deployed, last_owner)"
    " SELECT $1, x.namespace, x.owner_kind, x.image, pg_catalog.count(*) FILTER (WHERE x.new_pair),"
    "  pg_catalog.max(x.created_time),"
    "  (pg_catalog.array_agg(x.owner ORDER BY x.created_time DESC,"
    "   x.owner COLLATE pg_catalog.\"C\" DESC))[1]"
    " FROM pairs AS x GROUP BY 2, 3, 4 ORDER BY 2, 3, 4"
    " ON CONFLICT ON CONSTRAINT rollouts_key DO UPDATE SET"
    "  pods = r.pods OPERATOR(pg_catalog.+) excluded.pods,"
    "  last_owner = CASE WHEN ROW(excluded.last_deployed, excluded.last_owner COLLATE "
    "pg_catalog.\"C\")"
    "   OPERATOR(pg_catalog.>) ROW(r.last_deployed, r.last_owner COLLATE pg_catalog.\"C\")"
    "   THEN excluded.last_owner ELSE r.last_owner END,"
    "  last_deployed = GREATEST(r.last_deployed, excluded.last_deployed)"
    /* A stored owner seen again changes nothing: no new row version for it. */
    " WHERE excluded.pods OPERATOR(pg_catalog.>) 0"
    "  OR ROW(excluded.last_deployed, excluded.last_owner COLLATE pg_catalog.\"C\")"
    "   OPERATOR(pg_catalog.>) ROW(r.last_deployed, r.last_owner COLLATE pg_catalog.\"C\")";

/*
 * Retention, in three statements (a statement does not see its own deletes):
 * the rows last seen before $1 go, and the rollouts they were part of are
 * recomputed from what is left.
 */
static const char expire_sql[] =
    "WITH eo AS ("
    "  DELETE FROM k8s_events.pod_owners AS o WHERE o.created_time OPERATOR(pg_catalog.<) $1"
    "  RETURNING o.cluster, o.namespace, o.pod, o.owner_kind"
    "), ei AS ("
    "  DELETE FROM k8s_events.pod_images AS i WHERE i.last_time OPERATOR(pg_catalog.<) $1"
    "  RETURNING i.cluster, i.namespace, i.pod, i.image"
    ")"
    " SELECT DISTINCT g.cluster, g.namespace, g.owner_kind, g.image FROM ("
    "  SELECT eo.cluster, eo.namespace, eo.owner_kind, i.image FROM eo"
    "  JOIN k8s_events.pod_images AS i ON i.cluster OPERATOR(pg_catalog.=) eo.cluster"
    "   AND i.namespace OPERATOR(pg_catalog.=) eo.namespace AND i.pod OPERATOR(pg_catalog.=) eo.pod"
    "  UNION ALL"
    "  SELECT ei.cluster, ei.namespace, o.owner_kind, ei.image FROM ei"
    "  JOIN k8s_events.pod_owners AS o ON o.cluster OPERATOR(pg_catalog.=) ei.cluster"
    "   AND o.namespace OPERATOR(pg_catalog.=) ei.namespace AND o.pod OPERATOR(pg_catalog.=) ei.pod"
    " ) AS g";

static const char groups_from_arrays[] =
    " ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
    "pg_catalog.unnest($2::pg_catalog.text[]),"
    "  pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.text[]))"
    "  AS g(cluster, namespace, owner_kind, image)";

static const char delete_groups_sql_fmt[] =
    "DELETE FROM k8s_events.rollouts AS r USING %s"
    " WHERE r.cluster OPERATOR(pg_catalog.=) g.cluster"
    "  AND r.namespace OPERATOR(pg_catalog.=) g.namespace"
    "  AND r.owner_kind OPERATOR(pg_catalog.=) g.owner_kind AND r.image OPERATOR(pg_catalog.=) "
    "g.image";

static const char recompute_groups_sql_fmt[] =
    "INSERT INTO k8s_events.rollouts (cluster, namespace, owner_kind, image, pods, last_deployed,"
    "  last_owner)"
    " SELECT g.cluster, g.namespace, g.owner_kind, g.image, pg_catalog.count(*),"
    "  pg_catalog.max(o.created_time),"
    "  (pg_catalog.array_agg(o.owner ORDER BY o.created_time DESC,"
    "   o.owner COLLATE pg_catalog.\"C\" DESC))[1]"
    " FROM %s"
    " JOIN k8s_events.pod_images AS i ON i.cluster OPERATOR(pg_catalog.=) g.cluster"
    "  AND i.namespace OPERATOR(pg_catalog.=) g.namespace AND i.image OPERATOR(pg_catalog.=) "
    "g.image"
    " JOIN k8s_events.pod_owners AS o ON o.cluster OPERATOR(pg_catalog.=) i.cluster"
    "  AND o.namespace OPERATOR(pg_catalog.=) i.namespace AND o.pod OPERATOR(pg_catalog.=) i.pod"
    "  AND o.owner_kind OPERATOR(pg_catalog.=) g.owner_kind"
    " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";

/* Plans live for the backend's life; the plan cache revalidates them after DDL. */
static SPIPlanPtr rollouts_plan = NULL;

/* Growable columns of text or timestamptz values, for one array argument each. */
typedef struct Columns
{
	int    n;
	int    capacity;
	int    ncolumns;
	Datum *values[5];
} Columns;

static void
columns_add(Columns *c, const Datum *row)
{
	if (c->n == c->capacity)
	{
		c->capacity = Max(16, c->capacity * 2);
		for (int k = 0; k < c->ncolumns; k++)
			c->values[k] = c->values[k] == NULL
			                   ? palloc(sizeof(Datum) * c->capacity)
			                   : repalloc(c->values[k], sizeof(Datum) * c->capacity);
	}
	for (int k = 0; k < c->ncolumns; k++)
		c->values[k][c->n] = row[k];
	c->n++;
}

static Datum
column_array(const Columns *c, int k, Oid type)
{
	int16 typlen;
	bool  typbyval;
	char  typalign;

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(c->values[k], c->n, type, typlen, typbyval, typalign));
}

static bool
is_owner_kind(const char *kind)
{
	for (size_t i = 0; i < lengthof(owner_kinds); i++)
		if (strcmp(kind, owner_kinds[i]) == 0)
			return true;
	return false;
}

static Datum
text_of(const char *s, size_t len)
{
	return PointerGetDatum(cstring_to_text_with_len(s, (int) len));
}

void
rollouts_add(const char *cluster, SummaryRow *const *rows, int n)
{
	Columns owners = {.ncolumns = 5};
	Columns images = {.ncolumns = 4};
	Oid     argtypes[10];
	Datum   args[10];

	for (int i = 0; i < n; i++)
	{
		const SummaryRow *r = rows[i];
		const char       *found;
		size_t            len;

		if (r->reason == NULL || r->kind == NULL || r->namespace == NULL || r->name == NULL ||
		    r->message == NULL)
			continue;
		if (strcmp(r->reason, "SuccessfulCreate") == 0 && is_owner_kind(r->kind) &&
		    message_pod(r->message, strlen(r->message), &found, &len))
		{
			Datum row[5] = {CStringGetTextDatum(r->namespace), text_of(found, len),
			                CStringGetTextDatum(r->kind), CStringGetTextDatum(r->name),
			                TimestampTzGetDatum(r->event_time)};

			columns_add(&owners, row);
		}
		else if ((strcmp(r->reason, "Pulling") == 0 || strcmp(r->reason, "Pulled") == 0) &&
		         strcmp(r->kind, "Pod") == 0 &&
		         message_image(r->message, strlen(r->message), &found, &len))
		{
			Datum row[4] = {CStringGetTextDatum(r->namespace), CStringGetTextDatum(r->name),
			                text_of(found, len), TimestampTzGetDatum(r->event_time)};

			columns_add(&images, row);
		}
	}
	if (owners.n == 0 && images.n == 0)
		return;

	argtypes[0] = TEXTOID;
	for (int k = 1; k < 10; k++)
		argtypes[k] = (k == 5 || k == 9) ? TIMESTAMPTZARRAYOID : TEXTARRAYOID;
	if (rollouts_plan == NULL)
		rollouts_plan =
		    spi_prepare_kept_options(rollouts_sql, 10, argtypes, CURSOR_OPT_CUSTOM_PLAN);

	args[0] = CStringGetTextDatum(cluster);
	for (int k = 0; k < 5; k++)
		args[1 + k] = column_array(&owners, k, k == 4 ? TIMESTAMPTZOID : TEXTOID);
	for (int k = 0; k < 4; k++)
		args[6 + k] = column_array(&images, k, k == 3 ? TIMESTAMPTZOID : TEXTOID);
	if (SPI_execute_plan(rollouts_plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not update the rollouts of cluster \"%s\"", cluster);
}

void
rollouts_expire(TimestampTz bound)
{
	Oid     argtypes[4] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Oid     bound_type[1] = {TIMESTAMPTZOID};
	Datum   bound_arg[1] = {TimestampTzGetDatum(bound)};
	Datum   args[4];
	Columns groups = {.ncolumns = 4};

	if (SPI_execute_with_args(expire_sql, 1, bound_type, bound_arg, NULL, false, 0) !=
	    SPI_OK_SELECT)
		elog(ERROR, "could not expire k8s_events.pod_owners and pod_images");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum row[4];

		/* Copied out of SPI's tuple table, which the next statement frees. */
		for (int k = 0; k < 4; k++)
			row[k] = PointerGetDatum(
			    cstring_to_text(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, k + 1)));
		columns_add(&groups, row);
	}
	SPI_freetuptable(SPI_tuptable);
	if (groups.n == 0)
		return;
	for (int k = 0; k < 4; k++)
		args[k] = column_array(&groups, k, TEXTOID);
	if (SPI_execute_with_args(psprintf(delete_groups_sql_fmt, groups_from_arrays), 4, argtypes,
	                          args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not expire k8s_events.rollouts");
	if (SPI_execute_with_args(psprintf(recompute_groups_sql_fmt, groups_from_arrays), 4, argtypes,
	                          args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not recompute k8s_events.rollouts after retention");
}
