/*
 * db_pool.h
 *	  A few libpq connections as the dashboard's reader role, shared by the
 *	  request threads.
 *
 * Every connection is set up the same way (db_connect): the server's own
 * search_path, read-only transactions, a statement timeout, UTC, no JIT (the
 * dashboard's queries are short; compiling them costs more than running them).
 */
#ifndef K8S_EVENTS_DB_POOL_H
#define K8S_EVENTS_DB_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

typedef struct DbPool DbPool;

/* A connection set up for the server, or NULL with the reason in err. */
extern PGconn *db_connect(const char *conninfo, char *err, size_t errlen);

/*
 * Whether the connection's role may only read the store: refuses a superuser, a
 * role that can change any of the extension's tables or run a function that
 * writes, and one that cannot read the summaries.  false with the reason in err.
 */
extern bool db_check_reader(PGconn *conn, char *err, size_t errlen);

extern DbPool *db_pool_open(const char *conninfo, int size, char *err, size_t errlen);
extern void    db_pool_close(DbPool *pool);

/* A connection, waiting up to wait_ms for one to be free; NULL if none was. */
extern PGconn *db_pool_get(DbPool *pool, int wait_ms);

/* Give it back; a connection whose query failed for want of the server is reset. */
extern void db_pool_put(DbPool *pool, PGconn *conn);

#endif
