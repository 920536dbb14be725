/*
 * static_files.c
 *	  The page's files, read once (see static_files.h).
 */
#define _GNU_SOURCE
#include "serve/static_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#define MAX_FILES       512
#define MAX_TOTAL_BYTES (32 * 1024 * 1024)
#define MAX_DEPTH       4

struct StaticFiles
{
	StaticFile files[MAX_FILES];
	int        n;
	size_t     total;
};

static const struct
{
	const char *ext;
	const char *type;
	bool        compress;
} types[] = {
    {".html", "text/html; charset=utf-8", true},
    {".js", "text/javascript; charset=utf-8", true},
    {".mjs", "text/javascript; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},
    {".json", "application/json", true},
    {".map", "application/json", true},
    {".svg", "image/svg+xml", true},
    {".txt", "text/plain; charset=utf-8", true},
    {".png", "image/png", false},
    {".ico", "image/x-icon", false},
    {".woff2", "font/woff2", false},
};

static int
type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return -1;
	for (int i = 0; i < (int) (sizeof(types) / sizeof(types[0])); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return i;
	return -1;
}

/* Names a URL can carry as they are: letters, digits, '.', '-', '_', not starting with '.'. */
static bool
plain_name(const char *name)
{
	if (name[0] == '.' || name[0] == '\0')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '-' || *p == '_'))
			return false;
	return true;
}

static bool
gzip_of(StaticFile *f)
{
	z_stream zs = {0};
	uLong    bound;

	if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	bound = deflateBound(&zs, (uLong) f->len);
	f->gzip = malloc(bound);
	if (f->gzip == NULL)
	{
		deflateEnd(&zs);
		return false;
	}
	zs.next_in = (Bytef *) f->data;
	zs.avail_in = (uInt) f->len;
	zs.next_out = (Bytef *) f->gzip;
	zs.avail_out = (uInt) bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
	{
		deflateEnd(&zs);
		free(f->gzip);
		f->gzip = NULL;
		return false;
	}
	f->gzip_len = zs.total_out;
	deflateEnd(&zs);
	return true;
}

static bool
read_file(StaticFiles *files, const char *fs_path, const char *url_path, int type, char *err,
          size_t errlen)
{
	FILE       *fp;
	struct stat st;
	StaticFile *f;

	if (files->n == MAX_FILES)
	{
		snprintf(err, errlen, "more than %d files in the page's directory", MAX_FILES);
		return false;
	}
	fp = fopen(fs_path, "rb");
	if (fp == NULL || fstat(fileno(fp), &st) != 0)
	{
		snprintf(err, errlen, "cannot read %s: %s", fs_path, strerror(errno));
		if (fp)
			fclose(fp);
		return false;
	}
	if (files->total + (size_t) st.st_size > MAX_TOTAL_BYTES)
	{
		snprintf(err, errlen, "the page's files are more than %d MB", MAX_TOTAL_BYTES >> 20);
		fclose(fp);
		return false;
	}
	f = &files->files[files->n];
	memset(f, 0, sizeof(*f));
	f->len = (size_t) st.st_size;
	f->data = malloc(f->len + 1);
	f->path = strdup(url_path);
	if (f->data == NULL || f->path == NULL || fread(f->data, 1, f->len, fp) != f->len)
	{
		snprintf(err, errlen, "cannot read %s", fs_path);
		free(f->data);
		free(f->path);
		fclose(fp);
		return false;
	}
	fclose(fp);
	f->content_type = types[type].type;
	/* Vite names what it builds "name-<hash>.ext" under assets/. */
	f->immutable = strncmp(url_path, "/assets/", 8) == 0;
	if (types[type].compress && f->len > 512 && gzip_of(f) && f->gzip_len >= f->len)
	{
		free(f->gzip);
		f->gzip = NULL;
	}
	files->total += f->len;
	files->n++;
	return true;
}

static bool
walk(StaticFiles *files, const char *fs_dir, const char *url_dir, int depth, char *err,
     size_t errlen)
{
	DIR           *d = opendir(fs_dir);
	struct dirent *e;
	bool           ok = true;

	if (d == NULL)
	{
		snprintf(err, errlen, "cannot open %s: %s", fs_dir, strerror(errno));
		return false;
	}
	while (ok && (e = readdir(d)) != NULL)
	{
		char        fs_path[4096];
		char        url_path[1024];
		struct stat st;
		int         type;

		if (!plain_name(e->d_name))
			continue;
		if (snprintf(fs_path, sizeof(fs_path), "%s/%s", fs_dir, e->d_name) >=
		        (int) sizeof(fs_path) ||
		    snprintf(url_path, sizeof(url_path), "%s/%s", url_dir, e->d_name) >=
		        (int) sizeof(url_path))
			continue;
		/* Not lstat: an installed page may be a link farm; only what it points to is read. */
		if (stat(fs_path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
		{
			if (depth < MAX_DEPTH)
				ok = walk(files, fs_path, url_path, depth + 1, err, errlen);
		}
		else if (S_ISREG(st.st_mode) && (type = type_of(e->d_name)) >= 0)
			ok = read_file(files, fs_path, url_path, type, err, errlen);
	}
	closedir(d);
	return ok;
}

StaticFiles *
static_files_load(const char *dir, char *err, size_t errlen)
{
	StaticFiles *files = calloc(1, sizeof(StaticFiles));

	if (files == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!walk(files, dir, "", 0, err, errlen))
	{
		static_files_free(files);
		return NULL;
	}
	if (static_files_find(files, "/") == NULL)
	{
		snprintf(err, errlen, "%s has no index.html: build the page first (make dashboard)", dir);
		static_files_free(files);
		return NULL;
	}
	return files;
}

void
static_files_free(StaticFiles *files)
{
	if (files == NULL)
		return;
	for (int i = 0; i < files->n; i++)
	{
		free(files->files[i].path);
		free(files->files[i].data);
		free(files->files[i].gzip);
	}
	free(files);
}

const StaticFile *
static_files_find(const StaticFiles *files, const char *url)
{
	/* The page's own routes: every view is the one page, its state in the query string. */
	if (strcmp(url, "/") == 0 || strcmp(url, "/resource") == 0)
		url = "/index.html";
	for (int i = 0; i < files->n; i++)
		if (strcmp(files->files[i].path, url) == 0)
			return &files->files[i];
	return NULL;
}
