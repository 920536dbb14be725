/*
 * module.c
 *	  Library entry point: the module magic and the k8s_events.* settings.
 *
 * Every setting lives under the reserved "k8s_events." prefix, so a typo in
 * postgresql.conf is reported instead of silently creating a placeholder.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "json_backend.h"
#include "settings.h"
#include "shared_state.h"
#include "workers.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void
_PG_init(void)
{
	json_backend_init();
	settings_define();
	MarkGUCPrefixReserved("k8s_events");

	/* The watchers need shared memory and a launcher, which only preloading gives. */
	if (!process_shared_preload_libraries_in_progress)
		return;
	shared_state_install_hooks();
	workers_register_supervisor();
}
