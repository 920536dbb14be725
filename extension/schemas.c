/*
 * schemas.c
 *	  The schemas of the partitions and of the workers' tables (schemas.h).
 */
#include "postgres.h"

#include "catalog/namespace.h"

#include "schemas.h"

static bool
schema_exists(const char *name)
{
	return OidIsValid(get_namespace_oid(name, true));
}

const char *
partition_schema(void)
{
	return schema_exists("k8s_events_partitions") ? "k8s_events_partitions" : "k8s_events";
}

const char *
internal_table(const char *name)
{
	const char *schema =
	    schema_exists("k8s_events_internal") ? "k8s_events_internal" : "k8s_events";

	/* Names are the extension's own identifiers: no quoting needed. */
	return psprintf("%s.%s", schema, name);
}
