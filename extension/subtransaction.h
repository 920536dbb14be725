/*
 * subtransaction.h
 *	  Running a step whose ERROR the caller wants to handle, not to die of.
 */
#ifndef K8S_EVENTS_SUBTRANSACTION_H
#define K8S_EVENTS_SUBTRANSACTION_H

#include "utils/elog.h"

/*
 * Run fn(arg) in a subtransaction.  true if it returned; false if it raised
 * an ERROR, which is then rolled back with the subtransaction, and *error
 * holds a copy of it (in the caller's memory context).  The caller's
 * transaction, memory context and resource owner are as before either way.
 */
extern bool run_in_subtransaction(void (*fn)(void *), void *arg, ErrorData **error);

#endif
