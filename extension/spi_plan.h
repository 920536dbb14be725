/*
 * spi_plan.h
 *	  SPI plans prepared once per process and kept.
 */
#ifndef K8S_EVENTS_SPI_PLAN_H
#define K8S_EVENTS_SPI_PLAN_H

#include "executor/spi.h"

/* SPI_prepare and SPI_keepplan, or an error; inside SPI. */
extern SPIPlanPtr spi_prepare_kept(const char *sql, int nargs, Oid *argtypes);

#endif
