/*
 * messages.c
 *	  The SQL functions pod_from_message(), image_from_message(),
 *	  node_from_message(), replica_set_from_message() and parse_image(), over
 *	  core/messages.c and core/image_ref.c.
 *
 * The message parsers are hand-written prefix matches rather than regular
 * expressions: they run once per row over millions of events, and the message
 * forms are fixed strings in the Kubernetes sources:
 *
 *	controller_utils.go (ReplicaSet, Job, DaemonSet ...)  "Created pod: X", "Deleted pod: X"
 *	stateful_pod_control.go     "create Pod X in StatefulSet S successful" (also update, delete,
 *								"... failed error: ...", and the PVC forms "create Claim C Pod X
 *								in StatefulSet S success", "... Claim C for Pod X in ...")
 *	scheduler                   "Successfully assigned ns/X to node" (before 1.13 without ns/),
 *								"skip schedule deleting pod: ns/X"
 *	kubelet image_manager.go    "Pulling image \"X\"" (before 1.12 "pulling ..."),
 *								"Successfully pulled image \"X\" in ...", "Container image \"X\"
 *								already present on machine" / "is not present with pull policy
 *								of Never", "Failed to pull image \"X\": ...", "Back-off pulling
 *								image \"X\"", "Failed to inspect image \"X\": ...", "Failed to
 *								apply default image tag \"X\": ..."
 *
 * and client-go's event aggregator may put "(combined from similar events): " in
 * front of any of them.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "core/image_ref.h"
#include "core/messages.h"
#include "sql_function.h"

SQL_FUNCTION(pod_from_message);
SQL_FUNCTION(image_from_message);
SQL_FUNCTION(node_from_message);
SQL_FUNCTION(replica_set_from_message);
SQL_FUNCTION(parse_image);

/* How much of a bad reference the error message repeats. */
#define REF_QUOTE_MAX 200

/* The part of its message argument that find names, or NULL. */
static Datum
message_part(FunctionCallInfo fcinfo,
             bool (*find)(const char *message, size_t len, const char **part, size_t *part_len))
{
	text       *message = PG_GETARG_TEXT_PP(0);
	const char *start;
	size_t      len;

	if (!find(VARDATA_ANY(message), VARSIZE_ANY_EXHDR(message), &start, &len))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(start, (int) len));
}

Datum
pod_from_message(PG_FUNCTION_ARGS)
{
	return message_part(fcinfo, message_pod);
}

Datum
image_from_message(PG_FUNCTION_ARGS)
{
	return message_part(fcinfo, message_image);
}

Datum
node_from_message(PG_FUNCTION_ARGS)
{
	return message_part(fcinfo, message_node);
}

Datum
replica_set_from_message(PG_FUNCTION_ARGS)
{
	return message_part(fcinfo, message_replica_set);
}

static Datum
part_datum(ImageRefPart part, bool *isnull)
{
	*isnull = part.ptr == NULL;
	if (*isnull)
		return (Datum) 0;
	return PointerGetDatum(cstring_to_text_with_len(part.ptr, (int) part.len));
}

Datum
parse_image(PG_FUNCTION_ARGS)
{
	text          *ref = PG_GETARG_TEXT_PP(0);
	const char    *data = VARDATA_ANY(ref);
	int            len = VARSIZE_ANY_EXHDR(ref);
	ImageRef       parsed;
	char           err[512];
	TupleDesc      tupdesc;
	Datum          values[4];
	bool           nulls[4];
	StringInfoData repo;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("function returning record called in context "
		                       "that cannot accept type record")));

	if (!image_ref_parse(data, (size_t) len, &parsed, err, sizeof(err)))
	{
		int shown = pg_mbcliplen(data, len, REF_QUOTE_MAX);

		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("invalid image reference: \"%.*s%s\"", shown, data,
		                       shown < len ? "..." : ""),
		                errdetail_internal("%s", err)));
	}

	values[0] = part_datum(parsed.registry, &nulls[0]);
	initStringInfo(&repo);
	appendStringInfoString(&repo, parsed.repository_prefix);
	appendBinaryStringInfo(&repo, parsed.repository.ptr, (int) parsed.repository.len);
	values[1] = PointerGetDatum(cstring_to_text_with_len(repo.data, repo.len));
	nulls[1] = false;
	values[2] = part_datum(parsed.tag, &nulls[2]);
	values[3] = part_datum(parsed.digest, &nulls[3]);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
