/*
 * base64.h
 *	  Base64 (RFC 4648, standard alphabet) for the *-data fields of a kubeconfig.
 *
 * Plain C, shared by the extension and the k8s-events program.  No allocation:
 * the caller provides the output buffer (base64_decoded_max / base64_encoded_len
 * tell how big).  libcurl has no public decoder, hence this file.
 */
#ifndef K8S_EVENTS_BASE64_H
#define K8S_EVENTS_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* An upper bound on the decoded size of len input characters. */
extern size_t base64_decoded_max(size_t len);

/* The exact encoded size of len bytes, with padding, without a terminating NUL. */
extern size_t base64_encoded_len(size_t len);

/*
 * Decode in[0..inlen) into out (outcap bytes).  Like Go's encoding/base64
 * StdEncoding, which is what kubectl uses, line breaks are ignored; unlike it,
 * spaces and tabs are ignored too (YAML block scalars indent them) and the
 * trailing '=' padding may be omitted.  Anything else that is not in the
 * alphabet, padding in the middle, or a dangling single character is an error
 * (the message gives the offset, never the content).  On success sets *outlen.
 */
extern bool base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap,
                          size_t *outlen, char *err, size_t errlen);

/*
 * Encode in[0..inlen) into out, which must hold base64_encoded_len(inlen) + 1
 * bytes; out is NUL-terminated.  Returns the length written, without the NUL.
 */
extern size_t base64_encode(const unsigned char *in, size_t inlen, char *out);

#endif
