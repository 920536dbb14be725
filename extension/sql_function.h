/*
 * sql_function.h
 *	  SQL_FUNCTION(name): PG_FUNCTION_INFO_V1 that also exports the function.
 *
 * The library is built with -fvisibility=hidden (see the Makefile), so that
 * PostgreSQL, which loads it with RTLD_GLOBAL, sees only what it looks up by
 * name.  PostgreSQL 15's PG_FUNCTION_INFO_V1 marks only the info function
 * PGDLLEXPORT; 16 marks the function too, as this does.
 */
#ifndef K8S_EVENTS_SQL_FUNCTION_H
#define K8S_EVENTS_SQL_FUNCTION_H

#include "fmgr.h"

#define SQL_FUNCTION(funcname)                                                                     \
	extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS);                                           \
	PG_FUNCTION_INFO_V1(funcname)

#endif
