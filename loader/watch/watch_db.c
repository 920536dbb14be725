/*
 * watch_db.c
 *	  The PostgreSQL side of `k8s-events watch` (see watch_db.h).
 *
 * Everything goes through the SECURITY DEFINER functions of the extension
 * (extension/sql/70_watch_client.sql), so a role with k8s_events_writer is
 * enough and no row can be written around ingest.  A batch and its
 * checkpoint commit in the one statement of watch_store; nothing here keeps
 * a checkpoint of its own: after a lost connection the caller begins again
 * and resumes from what the server returns.
 */
#define _GNU_SOURCE /* ppoll */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "core/monotonic.h"
#include "watch_db.h"

/* libpq's own connect_timeout does not apply to an asynchronous connection. */
#define CONNECT_TIMEOUT_MS 30000

/* A message from libpq without its trailing newline. */
static void
copy_message(char *err, size_t errlen, const char *prefix, const char *message)
{
	size_t len;

	snprintf(err, errlen, "%s%s", prefix, message != NULL ? message : "");
	len = strlen(err);
	while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
		err[--len] = '\0';
}

/* Connect, waiting in ppoll() so that SIGINT and SIGTERM still stop us at once. */
static PGconn *
connect_now(WatchDb *db, char *err, size_t errlen)
{
	/* UTF-8, whatever PGCLIENTENCODING says: the frames are UTF-8 and are sent as they came. */
	const char *keys[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
	const char *values[] = {db->conninfo != NULL ? db->conninfo : "", "k8s-events watch", "UTF8",
	                        NULL};
	PGconn     *conn = PQconnectStartParams(keys, values, 1);
	PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
	int64_t                   deadline = monotonic_ms() + CONNECT_TIMEOUT_MS;

	if (conn == NULL)
	{
		snprintf(err, errlen, "cannot connect to PostgreSQL: out of memory");
		return NULL;
	}
	while (PQstatus(conn) != CONNECTION_BAD && poll_status != PGRES_POLLING_OK &&
	       poll_status != PGRES_POLLING_FAILED)
	{
		struct pollfd   pfd = {PQsocket(conn),
                             poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
		int64_t         left = deadline - monotonic_ms();
		struct timespec ts;
		int             n;

		if (left <= 0)
		{
			snprintf(err, errlen, "cannot connect to PostgreSQL: timed out after %d s",
			         CONNECT_TIMEOUT_MS / 1000);
			PQfinish(conn);
			return NULL;
		}
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		n = ppoll(&pfd, 1, &ts, db->wait_mask);
		if (*db->stop)
		{
			snprintf(err, errlen, "cannot connect to PostgreSQL: interrupted");
			PQfinish(conn);
			return NULL;
		}
		if (n < 0 && errno != EINTR)
		{
			snprintf(err, errlen, "cannot connect to PostgreSQL: ppoll: %s", strerror(errno));
			PQfinish(conn);
			return NULL;
		}
		if (n > 0)
			poll_status = PQconnectPoll(conn);
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		copy_message(err, errlen, "cannot connect to PostgreSQL: ", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Whether trying again later can help, by SQLSTATE. */
static WatchDbResult
classify(const char *sqlstate)
{
	if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
	    strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0)
		return WATCH_DB_UNREACHABLE;
	/* Privileges, a missing or different extension, bad names, the worker's cluster. */
	if (strncmp(sqlstate, "42", 2) == 0 || strncmp(sqlstate, "22", 2) == 0 ||
	    strcmp(sqlstate, "3F000") == 0 || strcmp(sqlstate, "0A000") == 0 ||
	    strcmp(sqlstate, "55006") == 0)
		return WATCH_DB_FATAL;
	return WATCH_DB_RETRY;
}

/*
 * Describe a failed query: the server's message, detail and hint, plus what
 * to do about the errors a user of this program meets first.
 */
static WatchDbResult
query_failed(WatchDb *db, PGresult *res, const char *what, char *err, size_t errlen)
{
	const char   *sqlstate = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char   *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char   *detail = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char   *hint = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	WatchDbResult result;
	int           n;

	if (PQstatus(db->conn) != CONNECTION_OK || sqlstate == NULL || primary == NULL)
	{
		char prefix[128];

		snprintf(prefix, sizeof(prefix), "%s: lost the connection to PostgreSQL: ", what);
		copy_message(err, errlen, prefix, PQerrorMessage(db->conn));
		db->begun = false;
		return WATCH_DB_UNREACHABLE;
	}
	result = classify(sqlstate);
	if (result == WATCH_DB_UNREACHABLE)
		db->begun = false;
	n = snprintf(err, errlen, "%s: %s", what, primary);
	if (detail != NULL && n >= 0 && (size_t) n < errlen)
		n += snprintf(err + n, errlen - (size_t) n, "\nDETAIL: %s", detail);
	if (hint != NULL && n >= 0 && (size_t) n < errlen)
		n += snprintf(err + n, errlen - (size_t) n, "\nHINT: %s", hint);
	if (strcmp(sqlstate, "42501") == 0 && n >= 0 && (size_t) n < errlen)
		snprintf(err + n, errlen - (size_t) n,
		         "\nHINT: The role needs k8s_events_writer: GRANT k8s_events_writer TO %s;",
		         PQuser(db->conn));
	else if ((strcmp(sqlstate, "3F000") == 0 || strcmp(sqlstate, "42883") == 0) && n >= 0 &&
	         (size_t) n < errlen)
		snprintf(err + n, errlen - (size_t) n,
		         "\nHINT: Is the k8s_events extension installed, and up to date, in database "
		         "\"%s\"?",
		         PQdb(db->conn));
	return result;
}

WatchDbResult
watch_db_begin(WatchDb *db, char **checkpoint, char *err, size_t errlen)
{
	const char   *params[2] = {db->cluster, db->client};
	PGresult     *res;
	WatchDbResult result;

	*checkpoint = NULL;
	if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK)
	{
		PQfinish(db->conn);
		db->conn = NULL;
	}
	if (db->conn == NULL)
	{
		db->begun = false;
		db->conn = connect_now(db, err, errlen);
		if (db->conn == NULL)
			return WATCH_DB_UNREACHABLE;
		/* ingest counts occurrences against what other writers committed: it needs this. */
		res = PQexec(db->conn,
		             "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED");
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			result = query_failed(db, res, "cannot set up the session", err, errlen);
			PQclear(res);
			return result;
		}
		PQclear(res);
	}
	res = PQexecParams(db->conn, "SELECT k8s_events.watch_begin($1, $2)", 2, NULL, params, NULL,
	                   NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		char what[300];

		snprintf(what, sizeof(what), "cannot watch cluster \"%s\"", db->cluster);
		result = query_failed(db, res, what, err, errlen);
		PQclear(res);
		return result;
	}
	if (!PQgetisnull(res, 0, 0))
	{
		*checkpoint = strdup(PQgetvalue(res, 0, 0));
		if (*checkpoint == NULL)
		{
			PQclear(res);
			snprintf(err, errlen, "out of memory");
			return WATCH_DB_FATAL;
		}
	}
	PQclear(res);
	db->begun = true;
	return WATCH_DB_OK;
}

/* {"\\x0102",...}: raw bytes need not be text in any encoding. */
static void
bytea_array(ej_buf *b, const ListWatchReject *rejects, int n)
{
	static const char hex[] = "0123456789abcdef";

	ej_puts(b, "{");
	for (int i = 0; i < n; i++)
	{
		ej_puts(b, i == 0 ? "\"\\\\x" : ",\"\\\\x");
		ej_reserve(b, rejects[i].len * 2);
		for (size_t j = 0; j < rejects[i].len; j++)
		{
			unsigned char c = (unsigned char) rejects[i].data[j];

			b->data[b->len++] = hex[c >> 4];
			b->data[b->len++] = hex[c & 15];
		}
		b->data[b->len] = '\0';
		ej_puts(b, "\"");
	}
	ej_puts(b, "}");
}

static void
text_array(ej_buf *b, const ListWatchReject *rejects, int n)
{
	ej_puts(b, "{");
	for (int i = 0; i < n; i++)
	{
		ej_puts(b, i == 0 ? "\"" : ",\"");
		for (const char *p = rejects[i].reason; *p != '\0'; p++)
		{
			if (*p == '"' || *p == '\\')
				ej_append(b, "\\", 1);
			ej_append(b, p, 1);
		}
		ej_puts(b, "\"");
	}
	ej_puts(b, "}");
}

WatchDbResult
watch_db_store(WatchDb *db, const ListWatchBatch *batch, WatchDbCounts *counts, char *err,
               size_t errlen)
{
	ej_buf        raw = {0};
	ej_buf        reasons = {0};
	const char   *params[5];
	PGresult     *res;
	WatchDbResult result = WATCH_DB_OK;

	memset(counts, 0, sizeof(*counts));
	if (!db->begun || PQstatus(db->conn) != CONNECTION_OK)
	{
		snprintf(err, errlen, "cannot store a batch: lost the connection to PostgreSQL");
		db->begun = false;
		return WATCH_DB_UNREACHABLE;
	}
	if (batch->nrejects > 0)
	{
		bytea_array(&raw, batch->rejects, batch->nrejects);
		text_array(&reasons, batch->rejects, batch->nrejects);
	}
	params[0] = db->cluster;
	params[1] = batch->payload; /* NUL-terminated after payload_len, and holds no NUL before */
	params[2] = batch->resource_version;
	params[3] = batch->nrejects > 0 ? raw.data : NULL;
	params[4] = batch->nrejects > 0 ? reasons.data : NULL;
	res =
	    PQexecParams(db->conn,
	                 "SELECT stored, duplicates, rejected FROM k8s_events.watch_store($1, $2, $3, "
	                 "$4::pg_catalog.bytea[], $5::pg_catalog.text[])",
	                 5, NULL, params, NULL, NULL, 0);
	ej_free(&raw);
	ej_free(&reasons);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		result = query_failed(db, res, "cannot store a batch", err, errlen);
		/* Whatever it was, the next batch starts from the checkpoint the server has. */
		db->begun = false;
	}
	else
	{
		counts->stored = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		counts->duplicates = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		counts->rejected = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	}
	PQclear(res);
	return result;
}

WatchDbResult
watch_db_set_state(WatchDb *db, const char *state, const char *last_error, int64_t relists,
                   int64_t reconnects, char *err, size_t errlen)
{
	char          relists_text[24];
	char          reconnects_text[24];
	const char   *params[5] = {db->cluster, state, last_error, relists_text, reconnects_text};
	PGresult     *res;
	WatchDbResult result = WATCH_DB_OK;

	if (!db->begun || PQstatus(db->conn) != CONNECTION_OK)
		return WATCH_DB_UNREACHABLE;
	snprintf(relists_text, sizeof(relists_text), "%lld", (long long) relists);
	snprintf(reconnects_text, sizeof(reconnects_text), "%lld", (long long) reconnects);
	res = PQexecParams(db->conn,
	                   "SELECT k8s_events.watch_set_state($1, $2, $3, $4::pg_catalog.int8, "
	                   "$5::pg_catalog.int8)",
	                   5, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		result = query_failed(db, res, "cannot report status", err, errlen);
	PQclear(res);
	return result;
}

void
watch_db_close(WatchDb *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->begun = false;
}
