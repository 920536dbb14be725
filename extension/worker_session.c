/*
 * worker_session.c
 *	  The session settings every background worker of ours pins for itself.
 *
 * The launcher and the watchers connect to k8s_events.database as the
 * bootstrap superuser, and connecting applies whatever the database's owner
 * (or any role's ALTER ROLE ... IN DATABASE) set there: a search_path that
 * puts a schema they own before pg_catalog would run their functions and
 * operators as superuser; a default isolation level, read-only default or
 * lock timeout of theirs would make every batch fail.  So right after
 * connecting, each worker sets what its SQL depends on, at PGC_S_OVERRIDE:
 * above the database's and the roles' settings and the configuration file,
 * still below a function's own SET clause (which our SECURITY DEFINER
 * functions use for the same search_path).  The SQL the workers run is also
 * schema-qualified throughout, operators included; this is the second wall.
 *
 * Settings a DBA chooses for good reasons and that change no result
 * (synchronous_commit, default_tablespace, work_mem, the planner's enable_*)
 * are left alone.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/timeout.h"

#include "workers.h"

typedef struct PinnedSetting
{
	const char *name;
	const char *value;
} PinnedSetting;

static const PinnedSetting pinned_settings[] = {
    /* Name lookup: our objects are qualified, everything else is pg_catalog's. */
    {"search_path", "pg_catalog, pg_temp"},
    /* One READ COMMITTED read-write transaction per batch: each sees the last commit. */
    {"default_transaction_isolation", "read committed"},
    {"default_transaction_read_only", "off"},
    {"default_transaction_deferrable", "off"},
    /* Who we are, after session_authorization (below): no database-level SET ROLE. */
    {"role", "none"},
    /* Triggers on our tables (the launcher's wake-up, NOTIFY) must fire. */
    {"session_replication_role", "origin"},
    /*
     * Timeouts of our own.  A batch waits for a lock only behind DDL on the
     * events table or a partition; past this it fails and the launcher
     * starts the watcher again after a backoff, rather than waiting forever or
     * failing at once because someone set lock_timeout = 1ms.
     */
    {"lock_timeout", "2min"},
    /* Armed around each transaction by worker_arm_statement_timeout(): see there. */
    {"statement_timeout", "15min"},
    /* How SQL text and values are read and written. */
    {"standard_conforming_strings", "on"},
    {"backslash_quote", "safe_encoding"},
    {"transform_null_equals", "off"},
    {"array_nulls", "on"},
    {"DateStyle", "ISO, YMD"},
    {"IntervalStyle", "postgres"},
    {"extra_float_digits", "1"},
    {"bytea_output", "hex"},
    /* Results, not only plans: a GIN search limit drops rows. */
    {"gin_fuzzy_search_limit", "0"},
    /* New partitions are heap tables like their parent. */
    {"default_table_access_method", "heap"},
    /* An error ends a batch, not the process, where we catch it. */
    {"exit_on_error", "off"},
};

/*
 * PostgreSQL arms statement_timeout only for statements from a client
 * (postgres.c), never in a background worker; the idle timeouts, likewise,
 * only in a client's backend, so they need no pinning.  A worker arms its
 * own around each unit of work: a batch or partition maintenance that runs
 * past it is cancelled (an error: the worker is started again).
 */
void
worker_arm_statement_timeout(void)
{
	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
}

void
worker_disarm_statement_timeout(void)
{
	disable_timeout(STATEMENT_TIMEOUT, false);
}

void
worker_pin_session_settings(void)
{
	/*
	 * A database owner may ALTER DATABASE ... SET session_authorization to
	 * itself: the worker would then run as that role.  Back to the bootstrap
	 * superuser we connected as; its check looks the role up, hence the
	 * transaction.
	 */
	StartTransactionCommand();
	SetConfigOption("session_authorization", GetUserNameFromId(BOOTSTRAP_SUPERUSERID, false),
	                PGC_SUSET, PGC_S_OVERRIDE);
	for (size_t i = 0; i < lengthof(pinned_settings); i++)
		SetConfigOption(pinned_settings[i].name, pinned_settings[i].value, PGC_SUSET,
		                PGC_S_OVERRIDE);
	CommitTransactionCommand();
}
