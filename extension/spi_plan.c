/*
 * spi_plan.c
 *	  SPI plans prepared once per process and kept (see spi_plan.h).
 *
 * The write path runs the same few statements for every batch; preparing
 * them once saves parsing and planning each time.  A kept plan lives in its
 * own memory context under CacheMemoryContext, and is re-planned by the plan
 * cache when what it depends on changes.
 */
#include "postgres.h"

#include "spi_plan.h"

SPIPlanPtr
spi_prepare_kept(const char *sql, int nargs, Oid *argtypes)
{
	return spi_prepare_kept_options(sql, nargs, argtypes, 0);
}

SPIPlanPtr
spi_prepare_kept_options(const char *sql, int nargs, Oid *argtypes, int cursor_options)
{
	SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, argtypes, cursor_options);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}
