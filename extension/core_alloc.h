/*
 * core_alloc.h
 *	  The CoreAllocator that core/ code uses inside the server: palloc in
 *	  CurrentMemoryContext, so its memory goes with the caller's context.
 */
#ifndef K8S_EVENTS_CORE_ALLOC_H
#define K8S_EVENTS_CORE_ALLOC_H

#include "core/core_allocator.h"

extern const CoreAllocator palloc_allocator;

#endif
