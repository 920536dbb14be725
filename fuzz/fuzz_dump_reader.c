/*
 * fuzz_dump_reader.c
 *	  libFuzzer target: what `k8s-events load` reads (loader/load/dump_reader.c):
 *	  format detection, JSON (a List, an array, NDJSON, frames), YAML documents,
 *	  gzip.  The input is a memory file (a real dump is a seed as it is), read 1
 *	  to 64 bytes at a time (picked from the input, so that every item boundary
 *	  falls inside a read), with a small item limit.  Reading ends (libFuzzer's -timeout catches a
 *loop: gzip may hold far more items than bytes); an item is a value or an error that says why, and
 *a raw malformed item is no longer than the 4096 bytes kept.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "load/dump_reader.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char        path[64], err[512];
	DumpReader *r;
	DumpItem    item;
	int         fd, rc;
	long        items = 0;

	fd = memfd_create("fuzz_dump", 0);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = dump_reader_open(path, err, sizeof(err));
	if (r == NULL)
		abort();
	dump_reader_set_chunk_size(r, 1 + (size * 31 + (size > 0 ? data[size / 2] : 0)) % 64);
	dump_reader_set_max_item(r, 4096);
	while ((rc = dump_reader_next(r, &item, err, sizeof(err))) == 1)
	{
		if (item.value != NULL)
			json_decref(item.value);
		else if (item.error[0] == '\0' || item.raw_len > 4096)
			abort();
		items++;
	}
	if (rc == -1 && err[0] == '\0')
		abort();
	dump_reader_close(r);
	close(fd);
	(void) items;
	return 0;
}
