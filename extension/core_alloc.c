/*
 * core_alloc.c
 *	  core/'s allocator in a backend: palloc, which reports running out of
 *	  memory itself rather than returning NULL.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "core_alloc.h"

static void *
core_palloc(void *ctx, size_t size)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, size, MCXT_ALLOC_HUGE);
}

static void *
core_repalloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	return repalloc_huge(ptr, new_size);
}

static void
core_pfree(void *ctx, void *ptr)
{
	pfree(ptr);
}

const CoreAllocator palloc_allocator = {core_palloc, core_repalloc, core_pfree, NULL};
