/*
 * core_alloc.c
 *	  core/'s allocator in a backend: palloc in CurrentMemoryContext that
 *	  returns NULL when memory runs out rather than raising an error.
 *
 * core/ checks every allocation, and its code may run under a library's
 * frames (curl's callbacks) that an ereport() must not longjmp through.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "core_alloc.h"

static void *
core_palloc(void *ctx, size_t size)
{
	/* MemoryContextAllocExtended raises an error for a size it cannot serve at all. */
	if (!AllocHugeSizeIsValid(size))
		return NULL;
	return MemoryContextAllocExtended(CurrentMemoryContext, size,
	                                  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

/* repalloc cannot return NULL in every PostgreSQL 15: a new chunk, a copy, the old one freed. */
static void *
core_repalloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	void *moved = core_palloc(ctx, new_size);

	if (moved != NULL)
	{
		memcpy(moved, ptr, Min(old_size, new_size));
		pfree(ptr);
	}
	return moved;
}

static void
core_pfree(void *ctx, void *ptr)
{
	pfree(ptr);
}

const CoreAllocator palloc_allocator = {core_palloc, core_repalloc, core_pfree, NULL};
