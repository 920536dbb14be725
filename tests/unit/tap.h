/*
 * tap.h
 *	  What the unit tests in tests/unit share: their "ok - ..." / "not ok - ..."
 *	  output (the convention tests/run and tests/test_core_unit.sh count), and a
 *	  scratch directory for tests that read files.
 *
 * Each test is one translation unit that includes this header once, so the
 * state lives here as static variables. Functions are static inline so that a
 * test that does not use one is not warned about it under -Werror.
 */
#ifndef K8S_EVENTS_TESTS_TAP_H
#define K8S_EVENTS_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The number of failed checks; tap_exit_status() turns it into the exit status. */
static int failures = 0;

static inline void check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One check: "ok - DESCRIPTION" when cond holds, else "not ok - DESCRIPTION",
 * counted in failures. A check whose reason needs showing prints "# " lines
 * itself before calling this.
 */
static inline void
check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		failures++;
}

/*
 * The end of main(): says how many checks failed (as a comment line), and
 * returns the exit status, non-zero when any did, which the runner counts.
 */
static inline int
tap_exit_status(void)
{
	if (failures)
		printf("# %d check(s) failed\n", failures);
	return failures ? 1 : 0;
}

/* ---------------------------------------------------------------- a scratch directory */

/* The directory make_tmpdir() made, for the files a test writes. */
static char tmpdir[256] __attribute__((unused));

/*
 * Make a new directory /tmp/NAME.XXXXXX in tmpdir; false (with the reason on
 * stderr) when it cannot be made, and the test cannot run.
 */
static inline int
make_tmpdir(const char *name)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/%s.XXXXXX", name);
	if (mkdtemp(tmpdir) == NULL)
	{
		perror("mkdtemp");
		return 0;
	}
	return 1;
}

/* Remove tmpdir and all in it; false when that failed. */
static inline int
remove_tmpdir(void)
{
	char cmd[sizeof(tmpdir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0;
}

/*
 * The path of REL inside tmpdir. The result is one of four rotating buffers,
 * so that a call can take a few paths as arguments at once.
 */
static inline char *
tmp_path(const char *rel)
{
	static char path[4][512];
	static int  n = 0;

	n = (n + 1) % 4;
	snprintf(path[n], sizeof(path[n]), "%s/%s", tmpdir, rel);
	return path[n];
}

#endif /* K8S_EVENTS_TESTS_TAP_H */
