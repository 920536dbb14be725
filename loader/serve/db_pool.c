/*
 * db_pool.c
 *	  The dashboard's reader connections (see db_pool.h).
 */
#include "serve/db_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/deadline.h"

struct DbPool
{
	pthread_mutex_t lock;
	pthread_cond_t  freed;
	char           *conninfo;
	int             size;
	int             nfree;
	PGconn        **free; /* the idle ones, a stack */
};

/*
 * Settings the queries rely on, pinned per connection rather than trusted from
 * the role or database: names resolve in pg_catalog (every object is qualified),
 * timestamps print as UTC ISO, nothing can write, no query runs away.
 */
static const char session_sql[] = "SET search_path = pg_catalog, pg_temp;"
                                  "SET TimeZone = 'UTC';"
                                  "SET DateStyle = 'ISO, YMD';"
                                  "SET IntervalStyle = 'postgres';"
                                  "SET default_transaction_read_only = on;"
                                  "SET statement_timeout = '15s';"
                                  "SET lock_timeout = '5s';"
                                  "SET idle_in_transaction_session_timeout = '60s';"
                                  "SET jit = off;"
                                  "SET client_min_messages = warning";

static void
first_line(char *dst, size_t len, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	if (n >= len)
		n = len - 1;
	memcpy(dst, msg, n);
	dst[n] = '\0';
}

PGconn *
db_connect(const char *conninfo, char *err, size_t errlen)
{
	/*
	 * Not waiting on an unreachable server for minutes: a request answers 503,
	 * SIGTERM is not held up (the conninfo may say otherwise: it comes after).
	 */
	const char *keys[] = {"connect_timeout",           "keepalives_idle", "dbname",
	                      "fallback_application_name", "client_encoding", NULL};
	const char *values[] = {"5", "30", conninfo, "k8s-events serve", "UTF8", NULL};
	PGconn     *conn = PQconnectdbParams(keys, values, 1);
	PGresult   *res;

	if (conn == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		first_line(err, errlen, PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	res = PQexec(conn, session_sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		first_line(err, errlen, PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	return conn;
}

/*
 * The functions that store, drop or configure: a role that may run one is not
 * a reader, whatever else it lacks.
 */
static const char reader_check_sql[] =
    "SELECT r.rolsuper,"
    " (SELECT string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text)"
    "  FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
    "  WHERE n.nspname IN ('k8s_events', 'k8s_events_internal', 'k8s_events_partitions')"
    "   AND c.relkind IN ('r', 'p')"
    "   AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')),"
    " (SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.oid::regprocedure::text)"
    "  FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace"
    "  WHERE n.nspname = 'k8s_events'"
    "   AND p.proname IN ('ingest', 'ingest_report', 'ingest_copied', 'create_load_table',"
    "    'create_partitions', 'drop_partitions', 'watch_begin', 'watch_store', 'watch_set_state',"
    "    'rebuild_summaries', 'add_cluster', 'set_cluster_enabled', 'remove_cluster')"
    "   AND has_function_privilege(p.oid, 'EXECUTE')),"
    " has_schema_privilege('k8s_events', 'CREATE'),"
    " has_table_privilege('k8s_events.resource_summary', 'SELECT'),"
    " current_user"
    " FROM pg_roles AS r WHERE r.rolname = current_user";

bool
db_check_reader(PGconn *conn, char *err, size_t errlen)
{
	PGresult   *res;
	PGresult   *ext;
	const char *who;
	bool        ok = false;

	ext = PQexec(conn, "SELECT extversion FROM pg_extension WHERE extname = 'k8s_events'");
	if (PQresultStatus(ext) != PGRES_TUPLES_OK || PQntuples(ext) != 1)
	{
		if (PQresultStatus(ext) != PGRES_TUPLES_OK)
			first_line(err, errlen, PQerrorMessage(conn));
		else
			snprintf(err, errlen,
			         "the k8s_events extension is not installed in database \"%s\" "
			         "(CREATE EXTENSION k8s_events, as its owner)",
			         PQdb(conn));
		PQclear(ext);
		return false;
	}
	PQclear(ext);
	res = PQexec(conn, reader_check_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		first_line(err, errlen, PQerrorMessage(conn));
		PQclear(res);
		return false;
	}
	who = PQgetvalue(res, 0, 5);
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		snprintf(err, errlen, "role \"%s\" is a superuser: connect as a role that only reads", who);
	else if (!PQgetisnull(res, 0, 1))
		snprintf(err, errlen, "role \"%s\" can write to %.200s%s", who, PQgetvalue(res, 0, 1),
		         strlen(PQgetvalue(res, 0, 1)) > 200 ? "..." : "");
	else if (!PQgetisnull(res, 0, 2))
		snprintf(err, errlen, "role \"%s\" can run %.200s%s", who, PQgetvalue(res, 0, 2),
		         strlen(PQgetvalue(res, 0, 2)) > 200 ? "..." : "");
	else if (strcmp(PQgetvalue(res, 0, 3), "t") == 0)
		snprintf(err, errlen, "role \"%s\" can create objects in schema k8s_events", who);
	else if (strcmp(PQgetvalue(res, 0, 4), "t") != 0)
		snprintf(
		    err, errlen,
		    "role \"%s\" cannot read k8s_events.resource_summary (GRANT k8s_events_reader TO %s)",
		    who, who);
	else
		ok = true;
	PQclear(res);
	return ok;
}

DbPool *
db_pool_open(const char *conninfo, int size, char *err, size_t errlen)
{
	DbPool *pool = calloc(1, sizeof(DbPool));

	if (pool == NULL || (pool->free = calloc((size_t) size, sizeof(PGconn *))) == NULL ||
	    (pool->conninfo = strdup(conninfo)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		if (pool)
			free(pool->free);
		free(pool);
		return NULL;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->freed, NULL);
	pool->size = size;
	for (int i = 0; i < size; i++)
	{
		PGconn *conn = db_connect(conninfo, err, errlen);

		if (conn == NULL)
		{
			db_pool_close(pool);
			return NULL;
		}
		pool->free[pool->nfree++] = conn;
	}
	return pool;
}

void
db_pool_close(DbPool *pool)
{
	if (pool == NULL)
		return;
	for (int i = 0; i < pool->nfree; i++)
		PQfinish(pool->free[i]);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->freed);
	free(pool->free);
	free(pool->conninfo);
	free(pool);
}

PGconn *
db_pool_get(DbPool *pool, int wait_ms)
{
	struct timespec until;
	PGconn         *conn = NULL;

	until = deadline_after_ms(wait_ms);
	pthread_mutex_lock(&pool->lock);
	while (pool->nfree == 0)
		if (pthread_cond_timedwait(&pool->freed, &pool->lock, &until) == ETIMEDOUT)
			break;
	if (pool->nfree > 0)
		conn = pool->free[--pool->nfree];
	pthread_mutex_unlock(&pool->lock);
	return conn;
}

void
db_pool_put(DbPool *pool, PGconn *conn)
{
	/*
	 * A lost connection is made again here, outside the lock, so the next
	 * request finds it working; if that fails too, the next query fails and
	 * says why, and it is tried again then.
	 */
	if (PQstatus(conn) != CONNECTION_OK)
	{
		char    err[256];
		PGconn *fresh = db_connect(pool->conninfo, err, sizeof(err));

		if (fresh != NULL)
		{
			PQfinish(conn);
			conn = fresh;
		}
	}
	pthread_mutex_lock(&pool->lock);
	pool->free[pool->nfree++] = conn;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
}
