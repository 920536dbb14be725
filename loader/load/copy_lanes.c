/*
 * copy_lanes.c
 *	  Batches of COPY rows through two connections (see copy_lanes.h).
 *
 * A small state machine per connection, driven with libpq's nonblocking
 * calls from the loader's own loop: between two items it does what can be
 * done at once, and it waits (poll) only when the loader is too far ahead,
 * so memory stays bounded by a batch per connection.
 */
#include "copy_lanes.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* COPY data handed to libpq at a time. */
#define HAND_OVER_BYTES (64 * 1024)

typedef enum LaneState
{
	LANE_IDLE,      /* no transaction */
	LANE_COPYING,   /* COPY open: takes rows */
	LANE_ENDING,    /* end of COPY sent: waiting for its result */
	LANE_COPIED,    /* rows in the temporary table: waiting for its turn to store */
	LANE_INGESTING, /* ingest_copied() sent: waiting for its result */
} LaneState;

typedef struct Lane
{
	PGconn   *conn;
	LaneState state;
	long      rows; /* rows handed to this batch */
	long      seq;  /* the batch's place in the input */
} Lane;

struct CopyLanes
{
	Lane        lanes[COPY_LANES];
	const char *cluster;
	long        batch_rows;
	long        next_seq;  /* given to the next batch that opens */
	long        store_seq; /* the batch whose turn it is to be stored */
	int         filling;   /* the lane taking rows, or -1 */
	bool        failed;
	char        error[1024];
	StoreCounts counts;
};

static bool
fail(CopyLanes *cl, Lane *lane, const char *what, const PGresult *res)
{
	const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(lane->conn);
	size_t      len;

	if (!cl->failed)
	{
		snprintf(cl->error, sizeof(cl->error), "%s: %s", what,
		         msg != NULL && msg[0] != '\0' ? msg : PQerrorMessage(lane->conn));
		len = strlen(cl->error);
		while (len > 0 && cl->error[len - 1] == '\n')
			cl->error[--len] = '\0';
	}
	cl->failed = true;
	return false;
}

CopyLanes *
copy_lanes_new(PGconn *conns[COPY_LANES], const char *cluster, long batch_rows)
{
	CopyLanes *cl = calloc(1, sizeof(CopyLanes));

	if (cl == NULL)
		return NULL;
	for (int i = 0; i < COPY_LANES; i++)
	{
		cl->lanes[i].conn = conns[i];
		PQsetnonblocking(conns[i], 1);
	}
	cl->cluster = cluster;
	cl->batch_rows = batch_rows;
	cl->filling = -1;
	return cl;
}

/* A short command, waited for: PQexec blocks even in nonblocking mode. */
static bool
run(CopyLanes *cl, Lane *lane, const char *sql, ExecStatusType expect)
{
	PGresult *res = PQexec(lane->conn, sql);
	bool      ok = PQresultStatus(res) == expect;

	if (!ok)
		fail(cl, lane, sql, res);
	PQclear(res);
	return ok;
}

static bool
put(CopyLanes *cl, Lane *lane, const char *data, size_t len)
{
	/* Nonblocking libpq queues what the socket does not take yet. */
	if (PQputCopyData(lane->conn, data, (int) len) != 1)
		return fail(cl, lane, "COPY", NULL);
	return true;
}

static bool
open_batch(CopyLanes *cl, int i)
{
	Lane    *lane = &cl->lanes[i];
	CopyRows header = {0};
	bool     ok;

	if (!run(cl, lane, "BEGIN", PGRES_COMMAND_OK) ||
	    !run(cl, lane, "COPY pg_temp.k8s_events_load FROM STDIN (FORMAT binary)", PGRES_COPY_IN))
		return false;
	copy_rows_header(&header);
	ok = put(cl, lane, header.buf.data, header.buf.len);
	ej_free(&header.buf);
	lane->state = LANE_COPYING;
	lane->rows = 0;
	lane->seq = cl->next_seq++;
	cl->filling = i;
	return ok;
}

static bool
close_batch(CopyLanes *cl, Lane *lane)
{
	CopyRows trailer = {0};
	bool     ok;

	copy_rows_trailer(&trailer);
	ok = put(cl, lane, trailer.buf.data, trailer.buf.len);
	ej_free(&trailer.buf);
	if (ok && PQputCopyEnd(lane->conn, NULL) != 1)
		ok = fail(cl, lane, "COPY", NULL);
	lane->state = LANE_ENDING;
	cl->filling = -1;
	return ok;
}

static long long
column_ll(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0 : strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

/* The result of the command in flight, once it is all here; NULL while busy. */
static bool
take_result(CopyLanes *cl, Lane *lane, ExecStatusType expect, PGresult **out)
{
	PGresult *res;
	PGresult *extra;

	*out = NULL;
	if (PQflush(lane->conn) < 0 || !PQconsumeInput(lane->conn))
		return fail(cl, lane, "connection", NULL);
	if (PQisBusy(lane->conn))
		return true;
	res = PQgetResult(lane->conn);
	while ((extra = PQgetResult(lane->conn)) != NULL)
		PQclear(extra);
	if (PQresultStatus(res) != expect)
	{
		fail(cl, lane, expect == PGRES_COMMAND_OK ? "COPY" : "storing a batch", res);
		PQclear(res);
		return false;
	}
	*out = res;
	return true;
}

/* Move one lane on as far as it can go without waiting; *moved if it did. */
static bool
advance(CopyLanes *cl, int i, bool *moved)
{
	Lane     *lane = &cl->lanes[i];
	PGresult *res;

	switch (lane->state)
	{
		case LANE_IDLE:
		case LANE_COPYING:
			break;
		case LANE_ENDING:
			if (!take_result(cl, lane, PGRES_COMMAND_OK, &res))
				return false;
			if (res != NULL)
			{
				PQclear(res);
				lane->state = LANE_COPIED;
				*moved = true;
			}
			break;
		case LANE_COPIED:
			if (lane->seq == cl->store_seq)
			{
				const char *params[1] = {cl->cluster};

				if (!PQsendQueryParams(lane->conn,
				                       "SELECT received, stored, duplicates, rejected, expired "
				                       "FROM k8s_events.ingest_copied($1, 'k8s-events load')",
				                       1, NULL, params, NULL, NULL, 0))
					return fail(cl, lane, "storing a batch", NULL);
				lane->state = LANE_INGESTING;
				*moved = true;
			}
			break;
		case LANE_INGESTING:
			if (!take_result(cl, lane, PGRES_TUPLES_OK, &res))
				return false;
			if (res != NULL)
			{
				StoreCounts got = {column_ll(res, 1), column_ll(res, 2), column_ll(res, 3),
				                   column_ll(res, 4)};

				PQclear(res);
				if (!run(cl, lane, "COMMIT", PGRES_COMMAND_OK))
					return false;
				cl->counts.stored += got.stored;
				cl->counts.duplicates += got.duplicates;
				cl->counts.rejected += got.rejected;
				cl->counts.expired += got.expired;
				cl->store_seq++;
				lane->state = LANE_IDLE;
				*moved = true;
			}
			break;
	}
	return true;
}

/* Hand the buffered rows to the filling lane, opening a batch on an idle one if needed. */
static bool
hand_over(CopyLanes *cl, CopyRows *rows)
{
	Lane *lane;

	if (rows->rows == 0)
		return true;
	if (cl->filling < 0)
	{
		for (int i = 0; i < COPY_LANES && cl->filling < 0; i++)
			if (cl->lanes[i].state == LANE_IDLE && !open_batch(cl, i))
				return false;
		if (cl->filling < 0)
			return true; /* both busy: the rows wait in the buffer */
	}
	lane = &cl->lanes[cl->filling];

	/*
	 * libpq moves what it has not sent yet to the front of its buffer after
	 * every send, so a large batch queued at once would be copied over and
	 * over: hand it over in pieces, as fast as the socket takes them.
	 */
	while (rows->sent < rows->buf.len)
	{
		size_t n = rows->buf.len - rows->sent;
		int    pending = PQflush(lane->conn);

		if (pending < 0)
			return fail(cl, lane, "COPY", NULL);
		if (pending > 0)
			return true; /* the socket is full: the rest goes later */
		if (n > HAND_OVER_BYTES)
			n = HAND_OVER_BYTES;
		if (!put(cl, lane, rows->buf.data + rows->sent, n))
			return false;
		rows->sent += n;
	}
	if (PQflush(lane->conn) < 0)
		return fail(cl, lane, "COPY", NULL);
	lane->rows += rows->rows;
	rows->buf.len = 0;
	rows->sent = 0;
	rows->rows = 0;
	if (lane->rows >= cl->batch_rows)
		return close_batch(cl, lane);
	return true;
}

static bool
step(CopyLanes *cl, CopyRows *rows, bool *moved)
{
	for (int i = 0; i < COPY_LANES; i++)
		if (!advance(cl, i, moved))
			return false;
	return hand_over(cl, rows);
}

/* Sleep until a connection has something for us, or can take more. */
static bool
wait_for_server(CopyLanes *cl)
{
	struct pollfd fds[COPY_LANES];
	int           n = 0;

	for (int i = 0; i < COPY_LANES; i++)
	{
		Lane *lane = &cl->lanes[i];

		if (lane->state == LANE_IDLE || lane->state == LANE_COPIED)
			continue;
		fds[n].fd = PQsocket(lane->conn);
		fds[n].events = POLLIN | (PQflush(lane->conn) == 1 ? POLLOUT : 0);
		n++;
	}
	if (n > 0 && poll(fds, n, 1000) < 0)
	{
		snprintf(cl->error, sizeof(cl->error), "poll: %m");
		cl->failed = true;
		return false;
	}
	return true;
}

bool
copy_lanes_push(CopyLanes *cl, CopyRows *rows, bool wait)
{
	bool moved = false;

	if (cl->failed || !step(cl, rows, &moved))
		return false;
	while (wait && rows->rows > 0)
	{
		if (!wait_for_server(cl) || !step(cl, rows, &moved))
			return false;
	}
	return true;
}

static bool
all_idle(const CopyLanes *cl)
{
	for (int i = 0; i < COPY_LANES; i++)
		if (cl->lanes[i].state != LANE_IDLE)
			return false;
	return true;
}

bool
copy_lanes_finish(CopyLanes *cl, CopyRows *rows)
{
	bool moved;

	if (cl->failed)
		return false;
	for (;;)
	{
		moved = false;
		if (!step(cl, rows, &moved))
			return false;
		/* The last batch need not be full. */
		if (cl->filling >= 0 && rows->rows == 0 && !close_batch(cl, &cl->lanes[cl->filling]))
			return false;
		if (rows->rows == 0 && all_idle(cl))
			return true;
		if (!moved && !wait_for_server(cl))
			return false;
	}
}

long
copy_lanes_room(const CopyLanes *cl)
{
	return cl->filling < 0 ? cl->batch_rows : cl->batch_rows - cl->lanes[cl->filling].rows;
}

const StoreCounts *
copy_lanes_counts(const CopyLanes *cl)
{
	return &cl->counts;
}

const char *
copy_lanes_error(const CopyLanes *cl)
{
	return cl->error;
}

void
copy_lanes_close(CopyLanes *cl)
{
	if (cl == NULL)
		return;
	for (int i = 0; i < COPY_LANES; i++)
		PQfinish(cl->lanes[i].conn);
	free(cl);
}
