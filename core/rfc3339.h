/*
 * rfc3339.h
 *	  RFC 3339 timestamps, as Kubernetes writes them (metav1.Time, metav1.MicroTime).
 *
 * Plain C, shared by the extension and the k8s-events program.
 */
#ifndef K8S_EVENTS_RFC3339_H
#define K8S_EVENTS_RFC3339_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)" into microseconds since
 * 1970-01-01T00:00:00Z.  't', 'z' and a space separator are accepted as RFC 3339
 * allows; fractions up to nanoseconds are truncated to microseconds (PostgreSQL's
 * resolution), a leap second :60 rolls into the next minute.  On failure returns
 * false and writes the reason into err.
 */
extern bool rfc3339_parse(const char *text, size_t len, int64_t *usecs, char *err, size_t errlen);

/* Go's zero time.Time, 0001-01-01T00:00:00Z, which Kubernetes treats as "unset". */
#define RFC3339_GO_ZERO_TIME_USECS INT64_C(-62135596800000000)

/*
 * Write usecs as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (fraction only when non-zero).
 * buf needs RFC3339_BUFLEN bytes.  Years outside 1..9999 are not representable.
 */
#define RFC3339_BUFLEN 32
extern bool rfc3339_format(int64_t usecs, char *buf);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
extern int64_t rfc3339_days_from_civil(int64_t year, int month, int day);

#endif
