/*
 * cluster_name.c
 *	  The cluster-name rule (core/cluster_name.h) as an error, and as the SQL
 *	  function the clusters table's CHECK calls, so that ingest, the watch
 *	  functions and the table refuse a name with the same words.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "cluster_name.h"
#include "core/cluster_name.h"
#include "sql_function.h"

SQL_FUNCTION(k8s_check_cluster_name);

void
check_cluster_name(const char *cluster)
{
	ClusterNameCheck check = cluster_name_check(cluster);

	if (check == CLUSTER_NAME_EMPTY)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("cluster name %s", cluster_name_problem(check)),
		                errhint("Name the cluster the events come from, for example 'prod-eu'.")));
	if (check == CLUSTER_NAME_TOO_LONG)
		ereport(ERROR, (errcode(ERRCODE_NAME_TOO_LONG),
		                errmsg("cluster name %s", cluster_name_problem(check))));
}

/* check_cluster_name(name text) → boolean: true, or the error of an invalid name. */
Datum
k8s_check_cluster_name(PG_FUNCTION_ARGS)
{
	check_cluster_name(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_BOOL(true);
}
