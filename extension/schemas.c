/*
 * schemas.c
 *	  The schemas of the partitions and of the workers' tables (schemas.h).
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "commands/extension.h"

#include "schemas.h"

/*
 * Is there a schema of this name that the extension made?  One the database
 * owner made under that name (on a 1.0 schema, say) must never be written
 * to, nor read from, by a superuser worker: a view or a trigger in it would
 * run as the superuser.
 */
static bool
extension_schema(const char *name)
{
	Oid nsp = get_namespace_oid(name, true);
	Oid extension = get_extension_oid("k8s_events", true);

	return OidIsValid(nsp) && OidIsValid(extension) &&
	       getExtensionOfObject(NamespaceRelationId, nsp) == extension;
}

const char *
partition_schema(void)
{
	return extension_schema("k8s_events_partitions") ? "k8s_events_partitions" : "k8s_events";
}

const char *
internal_table(const char *name)
{
	const char *schema =
	    extension_schema("k8s_events_internal") ? "k8s_events_internal" : "k8s_events";

	/* Names are the extension's own identifiers: no quoting needed. */
	return psprintf("%s.%s", schema, name);
}
