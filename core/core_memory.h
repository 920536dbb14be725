/*
 * core_memory.h
 *	  Allocating through a CoreAllocator (NULL: malloc), for core/ code.
 *
 * Allocators return NULL on failure (the backend's too: its allocations run
 * under curl's callbacks), so callers check.
 */
#ifndef K8S_EVENTS_CORE_MEMORY_H
#define K8S_EVENTS_CORE_MEMORY_H

#include <stdlib.h>
#include <string.h>

#include "core_allocator.h"

static inline void *
core_alloc(const CoreAllocator *a, size_t size)
{
	return a != NULL ? a->alloc(a->ctx, size) : malloc(size);
}

static inline void *
core_realloc(const CoreAllocator *a, void *ptr, size_t old_size, size_t new_size)
{
	if (ptr == NULL)
		return core_alloc(a, new_size);
	return a != NULL ? a->realloc(a->ctx, ptr, old_size, new_size) : realloc(ptr, new_size);
}

static inline void
core_free(const CoreAllocator *a, void *ptr)
{
	if (ptr == NULL)
		return;
	if (a != NULL)
		a->free(a->ctx, ptr);
	else
		free(ptr);
}

static inline char *
core_strndup(const CoreAllocator *a, const char *s, size_t len)
{
	char *r = core_alloc(a, len + 1);

	if (r != NULL)
	{
		memcpy(r, s, len);
		r[len] = '\0';
	}
	return r;
}

static inline char *
core_strdup(const CoreAllocator *a, const char *s)
{
	return s != NULL ? core_strndup(a, s, strlen(s)) : NULL;
}

/* Free a secret (a token, a header holding one) after wiping it. */
static inline void
core_free_secret(const CoreAllocator *a, char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	core_free(a, s);
}

#endif
