/*
 * static_files.h
 *	  The dashboard page: the files `make` built from dashboard/, read into
 *	  memory when the server starts.
 *
 * Only files found then are served, looked up by their exact path: nothing
 * from a request is ever joined to a file system path.
 */
#ifndef K8S_EVENTS_STATIC_FILES_H
#define K8S_EVENTS_STATIC_FILES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct StaticFile
{
	char       *path; /* "/index.html", "/assets/index-1a2b3c.js" */
	const char *content_type;
	char       *data;
	size_t      len;
	char       *gzip; /* NULL when not worth it */
	size_t      gzip_len;
	bool        immutable; /* a hashed name: cache for good */
} StaticFile;

typedef struct StaticFiles StaticFiles;

/* Every servable file under dir (index.html required); NULL with the reason in err. */
extern StaticFiles *static_files_load(const char *dir, char *err, size_t errlen);
extern void         static_files_free(StaticFiles *files);

/* The file for a request path ("/" and the page's own routes are index.html), or NULL. */
extern const StaticFile *static_files_find(const StaticFiles *files, const char *url);

#endif
