/*
 * image_ref.h
 *	  Container image references ("nginx", "quay.io/org/app:1.2@sha256:..."), split
 *	  the way Docker and the kubelet understand them.
 *
 * Plain C, shared by the extension and the k8s-events program.
 *
 * The grammar is github.com/distribution/reference (reference.go, regexp.go) plus
 * Docker's normalisation (normalize.go):
 *
 *	reference   := name [ ":" tag ] [ "@" digest ]
 *	name        := [ registry "/" ] path
 *	registry    := host [ ":" port ]        host: DNS-like name, IPv4, or [IPv6]
 *	path        := component ( "/" component )*
 *	component   := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *	tag         := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *	digest      := algorithm ":" hex        (sha256, sha384 or sha512, lower-case hex)
 *
 * The first "/"-separated component is a registry only when it contains '.' or ':',
 * is "localhost", or has an upper-case letter (path components never do); otherwise
 * the registry is docker.io.  "index.docker.io" is folded into "docker.io", and a
 * one-component path on docker.io gets the "library/" namespace.
 */
#ifndef K8S_EVENTS_IMAGE_REF_H
#define K8S_EVENTS_IMAGE_REF_H

#include <stdbool.h>
#include <stddef.h>

/* Longest repository path distribution/reference accepts (RepositoryNameTotalLengthMax). */
#define IMAGE_REF_PATH_MAX 255
/* Longest tag: one leading character plus up to 127 more. */
#define IMAGE_REF_TAG_MAX 128

/*
 * A piece of the result: either a slice of the parsed input or a static string
 * (the defaults "docker.io" and "latest").  ptr is NULL when the piece is absent.
 */
typedef struct ImageRefPart
{
	const char *ptr;
	size_t      len;
} ImageRefPart;

typedef struct ImageRef
{
	ImageRefPart registry; /* never absent: "docker.io" by default */
	/* The repository is repository_prefix followed by repository. */
	const char  *repository_prefix; /* "" or "library/" */
	ImageRefPart repository;
	ImageRefPart tag;           /* absent only when there is a digest and no tag */
	bool         tag_defaulted; /* tag is the implied "latest" */
	ImageRefPart digest;        /* "algorithm:hex", or absent */
} ImageRef;

/*
 * Parse ref[0..len) (no NUL needed).  On success fills *out, whose parts point into
 * ref or at static strings, and returns true.  On failure returns false and writes
 * a one-sentence reason (capitalised, ending in '.') into err.
 */
extern bool image_ref_parse(const char *ref, size_t len, ImageRef *out, char *err, size_t errlen);

#endif
