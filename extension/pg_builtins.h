/*
 * pg_builtins.h
 *	  utils/builtins.h for files that also use jansson.
 *
 * PostgreSQL's fmgrprotos.h declares the SQL function json_object(), and
 * jansson's json_object() constructor has the same name.  Renaming the SQL
 * function's declaration while it is read lets both headers live in one file;
 * we never call that SQL function from C.  Include this before jansson.h.
 *
 * The clash is also one of symbols: in a backend, a call to json_object()
 * binds to the server's function, so code here must never call jansson's
 * json_object() (see new_json_object in json_backend.c).
 */
#ifndef K8S_EVENTS_PG_BUILTINS_H
#define K8S_EVENTS_PG_BUILTINS_H

#define json_object json_object_sql_function
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#undef json_object

#endif
