/*
 * spi_plan.h
 *	  SPI plans prepared once per process and kept.
 */
#ifndef K8S_EVENTS_SPI_PLAN_H
#define K8S_EVENTS_SPI_PLAN_H

#include "executor/spi.h"

/* SPI_prepare and SPI_keepplan, or an error; inside SPI. */
extern SPIPlanPtr spi_prepare_kept(const char *sql, int nargs, Oid *argtypes);

/*
 * The same with SPI_prepare_cursor's options: CURSOR_OPT_CUSTOM_PLAN for a
 * statement whose plan depends on the size of its array arguments (a generic
 * plan guesses 10 elements, and would join thousands of rows by nested loops).
 */
extern SPIPlanPtr spi_prepare_kept_options(const char *sql, int nargs, Oid *argtypes,
                                           int cursor_options);

#endif
