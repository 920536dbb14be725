/*
 * core_allocator.h
 *	  Where core/ gets memory: the caller decides (palloc in the server, malloc
 *	  in the k8s-events program).
 */
#ifndef K8S_EVENTS_CORE_ALLOCATOR_H
#define K8S_EVENTS_CORE_ALLOCATOR_H

#include <stddef.h>

/*
 * A NULL CoreAllocator pointer means malloc/realloc/free.  alloc and realloc
 * return NULL on failure (or, like palloc, do not return); core never calls
 * realloc or free with NULL.  old_size lets allocators without a realloc of
 * their own copy.
 */
typedef struct CoreAllocator
{
	void *(*alloc)(void *ctx, size_t size);
	void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
	void (*free)(void *ctx, void *ptr);
	void *ctx;
} CoreAllocator;

#endif
