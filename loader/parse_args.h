/*
 * parse_args.h
 *	  Strict parsing of command-line and query-string values for k8s-events.
 *
 * Each returns false for anything but the whole string being a valid value in
 * range: no leading blanks or '+', no trailing text, no overflow.  NULL is
 * refused, so a missing query argument can be passed straight in.
 */
#ifndef K8S_EVENTS_PARSE_ARGS_H
#define K8S_EVENTS_PARSE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern bool parse_long(const char *s, long lo, long hi, long *out);
extern bool parse_u64(const char *s, uint64_t *out);
extern bool parse_double(const char *s, double lo, double hi, double *out);

/*
 * "now" or "now-<N><d|h|m|s>" as microseconds since the Unix epoch.  Returns
 * false if text is not of that form at all (so the caller can try RFC 3339),
 * true otherwise; when it is of that form but malformed, err is set.
 */
extern bool parse_relative_time(const char *text, int64_t *us, char *err, size_t errlen);

#endif
