/*
 * kubeconfig.c
 *	  kubeconfig files (libyaml's document API) and in-cluster configuration.
 */
#include "kubeconfig.h"

#include "base64.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

/* Larger than any sane kubeconfig; guards against reading a wrong, huge file. */
#define KUBECONFIG_MAX_SIZE ((size_t) 64 * 1024 * 1024)
/* Service-account tokens are a few KiB. */
#define TOKEN_MAX_SIZE     ((size_t) 1024 * 1024)
#define NAMESPACE_MAX_SIZE ((size_t) 4096)

/* ---------------------------------------------------------------- memory */

static void *
kc_alloc(const CoreAllocator *a, size_t size)
{
	if (a)
		return a->alloc(a->ctx, size);
	return malloc(size);
}

static void *
kc_realloc(const CoreAllocator *a, void *ptr, size_t old_size, size_t new_size)
{
	if (a)
		return a->realloc(a->ctx, ptr, old_size, new_size);
	return realloc(ptr, new_size);
}

static void
kc_free(const CoreAllocator *a, void *ptr)
{
	if (ptr == NULL)
		return;
	if (a)
		a->free(a->ctx, ptr);
	else
		free(ptr);
}

/* Credentials should not linger in freed memory; volatile keeps the stores. */
static void
kc_wipe(void *ptr, size_t len)
{
	volatile unsigned char *p = ptr;

	while (len-- > 0)
		*p++ = 0;
}

static void
kc_free_secret(const CoreAllocator *a, void *ptr, size_t len)
{
	if (ptr == NULL)
		return;
	kc_wipe(ptr, len);
	kc_free(a, ptr);
}

static char *
kc_strndup(const CoreAllocator *a, const char *s, size_t len)
{
	char *r = kc_alloc(a, len + 1);

	if (r)
	{
		memcpy(r, s, len);
		r[len] = '\0';
	}
	return r;
}

static char *
kc_concat3(const CoreAllocator *a, const char *x, const char *y, const char *z)
{
	size_t lx = strlen(x), ly = strlen(y), lz = strlen(z);
	char  *r = kc_alloc(a, lx + ly + lz + 1);

	if (r)
	{
		memcpy(r, x, lx);
		memcpy(r + lx, y, ly);
		memcpy(r + lx + ly, z, lz);
		r[lx + ly + lz] = '\0';
	}
	return r;
}

/* ---------------------------------------------------------------- files */

typedef enum ReadStatus
{
	READ_OK,
	READ_ERRNO,    /* *errnum says why */
	READ_TOO_LARGE /* more than max bytes */
} ReadStatus;

/* The whole file, NUL-terminated, from the allocator. */
static ReadStatus
kc_read_file(const char *path, size_t max, const CoreAllocator *a, char **out, size_t *outlen,
             int *errnum)
{
	FILE  *f;
	char  *buf = NULL;
	size_t len = 0;
	size_t cap = 0;

	*out = NULL;
	*outlen = 0;
	f = fopen(path, "rb");
	if (f == NULL)
	{
		*errnum = errno;
		return READ_ERRNO;
	}
	for (;;)
	{
		size_t n;

		if (cap - len < 4096 + 1)
		{
			size_t ncap = cap ? cap * 2 : 8192;
			char  *nbuf;

			if (ncap > max + 4096 + 1)
				ncap = max + 4096 + 1;
			nbuf = buf ? kc_realloc(a, buf, cap, ncap) : kc_alloc(a, ncap);
			if (nbuf == NULL)
			{
				kc_free_secret(a, buf, cap);
				fclose(f);
				*errnum = ENOMEM;
				return READ_ERRNO;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (len > max)
		{
			kc_free_secret(a, buf, cap);
			fclose(f);
			return READ_TOO_LARGE;
		}
		if (n == 0)
		{
			if (ferror(f))
			{
				*errnum = errno ? errno : EIO;
				kc_free_secret(a, buf, cap);
				fclose(f);
				return READ_ERRNO;
			}
			break;
		}
	}
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return READ_OK;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool
kube_read_token_file(const char *path, const CoreAllocator *allocator, char **token, char *err,
                     size_t errlen)
{
	char      *buf;
	size_t     len;
	size_t     start = 0;
	int        errnum = 0;
	ReadStatus st;

	*token = NULL;
	st = kc_read_file(path, TOKEN_MAX_SIZE, allocator, &buf, &len, &errnum);
	if (st == READ_TOO_LARGE)
	{
		snprintf(err, errlen, "token file \"%s\" is larger than %zu bytes", path, TOKEN_MAX_SIZE);
		return false;
	}
	if (st != READ_OK)
	{
		snprintf(err, errlen, "could not read token file \"%s\": %s", path, strerror(errnum));
		return false;
	}
	while (len > 0 && is_space(buf[len - 1]))
		buf[--len] = '\0';
	while (start < len && is_space(buf[start]))
		start++;
	if (start == len)
	{
		kc_free_secret(allocator, buf, len);
		snprintf(err, errlen, "token file \"%s\" is empty", path);
		return false;
	}
	if (start > 0)
	{
		memmove(buf, buf + start, len - start + 1);
		kc_wipe(buf + len - start + 1, start);
	}
	*token = buf;
	return true;
}

/* ---------------------------------------------------------------- parsing */

typedef struct Parse
{
	yaml_document_t     *doc;
	const char          *name;     /* of the kubeconfig, for messages */
	const char          *base_dir; /* for relative paths, or NULL */
	const CoreAllocator *alloc;
	char                *err;
	size_t               errlen;
} Parse;

static bool kc_error(Parse *ps, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Always returns false, for "return kc_error(...)". */
static bool
kc_error(Parse *ps, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;
	int     n;

	if (node)
		n = snprintf(ps->err, ps->errlen, "kubeconfig %s: line %lu: ", ps->name,
		             (unsigned long) node->start_mark.line + 1);
	else
		n = snprintf(ps->err, ps->errlen, "kubeconfig %s: ", ps->name);
	if (n < 0 || (size_t) n >= ps->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - (size_t) n, fmt, ap);
	va_end(ap);
	return false;
}

static bool
kc_nomem(Parse *ps)
{
	return kc_error(ps, NULL, "out of memory");
}

static bool
scalar_is(const yaml_node_t *node, const char *s)
{
	size_t len = strlen(s);

	return node && node->type == YAML_SCALAR_NODE && node->data.scalar.length == len &&
	       memcmp(node->data.scalar.value, s, len) == 0;
}

/* A YAML null: absent, "~", "null", or nothing at all.  Empty strings count too (Go's zero). */
static bool
is_null(const yaml_node_t *node)
{
	const char *v;

	if (node == NULL)
		return true;
	if (node->type != YAML_SCALAR_NODE)
		return false;
	if (node->data.scalar.length == 0)
		return true;
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *) node->data.scalar.value;
	return strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

static yaml_node_t *
map_get(Parse *ps, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++)
	{
		yaml_node_t *k = yaml_document_get_node(ps->doc, pair->key);

		if (scalar_is(k, key))
			return yaml_document_get_node(ps->doc, pair->value);
	}
	return NULL;
}

/* The scalar under key as a C string (pointing into the document), or NULL. */
static bool
get_scalar(Parse *ps, const yaml_node_t *map, const char *key, const char *what, const char **out)
{
	yaml_node_t *v = map_get(ps, map, key);

	*out = NULL;
	if (is_null(v))
		return true;
	if (v->type != YAML_SCALAR_NODE)
		return kc_error(ps, v, "\"%s\" of %s must be a string", key, what);
	*out = (const char *) v->data.scalar.value;
	return true;
}

static bool
get_string(Parse *ps, const yaml_node_t *map, const char *key, const char *what, char **out)
{
	const char *v;

	*out = NULL;
	if (!get_scalar(ps, map, key, what, &v))
		return false;
	if (v == NULL)
		return true;
	*out = kc_strndup(ps->alloc, v, strlen(v));
	return *out ? true : kc_nomem(ps);
}

/* A file path, resolved against the kubeconfig's directory as kubectl does. */
static bool
get_path(Parse *ps, const yaml_node_t *map, const char *key, const char *what, char **out)
{
	const char *v;

	*out = NULL;
	if (!get_scalar(ps, map, key, what, &v))
		return false;
	if (v == NULL)
		return true;
	if (v[0] == '/' || ps->base_dir == NULL || ps->base_dir[0] == '\0')
		*out = kc_strndup(ps->alloc, v, strlen(v));
	else
		*out = kc_concat3(ps->alloc, ps->base_dir, "/", v);
	return *out ? true : kc_nomem(ps);
}

static bool
get_data(Parse *ps, const yaml_node_t *map, const char *key, const char *what, KubeBytes *out)
{
	yaml_node_t   *node = map_get(ps, map, key);
	const char    *v;
	size_t         cap;
	size_t         len;
	unsigned char *buf;
	char           b64err[128];

	out->data = NULL;
	out->len = 0;
	if (!get_scalar(ps, map, key, what, &v))
		return false;
	if (v == NULL)
		return true;
	cap = base64_decoded_max(node->data.scalar.length) + 1;
	buf = kc_alloc(ps->alloc, cap);
	if (buf == NULL)
		return kc_nomem(ps);
	if (!base64_decode(v, node->data.scalar.length, buf, cap - 1, &len, b64err, sizeof(b64err)))
	{
		kc_free_secret(ps->alloc, buf, cap);
		return kc_error(ps, node, "\"%s\" of %s: %s", key, what, b64err);
	}
	if (len == 0)
	{
		kc_free(ps->alloc, buf);
		return true;
	}
	buf[len] = '\0';
	out->data = buf;
	out->len = len;
	return true;
}

/* YAML 1.1 booleans, as sigs.k8s.io/yaml (go-yaml v2) reads them. */
static bool
get_bool(Parse *ps, const yaml_node_t *map, const char *key, const char *what, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
	                                  "on",   "On",   "ON",   "y",   "Y"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
	                                 "off",   "Off",   "OFF",   "n",  "N"};
	yaml_node_t             *node = map_get(ps, map, key);
	size_t                   i;

	*out = false;
	if (is_null(node))
		return true;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
	{
		if (scalar_is(node, yes[i]))
		{
			*out = true;
			return true;
		}
		if (scalar_is(node, no[i]))
			return true;
	}
	return kc_error(ps, node, "\"%s\" of %s must be true or false", key, what);
}

/* Append the names of a named list to buf, for "it has: a, b" in messages. */
static void
list_names(Parse *ps, const yaml_node_t *list, char *buf, size_t buflen)
{
	yaml_node_item_t *item;
	size_t            used = 0;

	buf[0] = '\0';
	if (list == NULL || list->type != YAML_SEQUENCE_NODE)
		return;
	for (item = list->data.sequence.items.start; item < list->data.sequence.items.top; item++)
	{
		yaml_node_t *name = map_get(ps, yaml_document_get_node(ps->doc, *item), "name");
		int          n;

		if (name == NULL || name->type != YAML_SCALAR_NODE)
			continue;
		n = snprintf(buf + used, buflen - used, "%s\"%s\"", used ? ", " : "",
		             (const char *) name->data.scalar.value);
		if (n < 0 || (size_t) n >= buflen - used)
		{
			/* Truncated: end the list visibly rather than mid-name. */
			if (buflen > 4)
				strcpy(buf + buflen - 4, "...");
			return;
		}
		used += (size_t) n;
	}
}

/*
 * In the list under key ("clusters"), the item whose name is name, and its
 * body (the value of field, "cluster").  *found is false when there is none.
 */
static bool
find_named(Parse *ps, const yaml_node_t *root, const char *key, const char *field, const char *name,
           bool *found, yaml_node_t **body, yaml_node_t **item_out)
{
	yaml_node_t      *list = map_get(ps, root, key);
	yaml_node_item_t *item;

	*found = false;
	*body = NULL;
	*item_out = NULL;
	if (is_null(list))
		return true;
	if (list->type != YAML_SEQUENCE_NODE)
		return kc_error(ps, list, "\"%s\" must be a list", key);
	for (item = list->data.sequence.items.start; item < list->data.sequence.items.top; item++)
	{
		yaml_node_t *entry = yaml_document_get_node(ps->doc, *item);
		yaml_node_t *v;

		if (entry == NULL || entry->type != YAML_MAPPING_NODE)
			return kc_error(ps, entry, "every item of \"%s\" must be a mapping", key);
		/* The first of duplicate names wins. */
		if (!scalar_is(map_get(ps, entry, "name"), name))
			continue;
		v = map_get(ps, entry, field);
		if (!is_null(v) && v->type != YAML_MAPPING_NODE)
			return kc_error(ps, v, "\"%s\" of %s \"%s\" must be a mapping", field, field, name);
		*found = true;
		*body = is_null(v) ? NULL : v;
		*item_out = entry;
		return true;
	}
	return true;
}

static bool
not_found(Parse *ps, const yaml_node_t *root, const char *key, const char *fmt_prefix)
{
	char names[256];

	list_names(ps, map_get(ps, root, key), names, sizeof(names));
	if (names[0])
		return kc_error(ps, NULL, "%s (%s: %s)", fmt_prefix, key, names);
	return kc_error(ps, NULL, "%s (it has no %s)", fmt_prefix, key);
}

static bool
parse_user(Parse *ps, const yaml_node_t *user, const char *uname, KubeConfig *out)
{
	char                     what[300];
	yaml_node_t             *exec;
	yaml_node_t             *provider;
	const char              *username;
	const char              *password;
	static const char *const impersonation[] = {"as", "as-uid", "as-groups", "as-user-extra"};
	size_t                   i;

	snprintf(what, sizeof(what), "user \"%s\"", uname);
	exec = map_get(ps, user, "exec");
	if (!is_null(exec))
	{
		const char *cmd = NULL;

		(void) get_scalar(ps, exec, "command", what, &cmd);
		return kc_error(ps, exec,
		                "user \"%s\" uses an exec plugin (%s), which is not supported; use a "
		                "token or a client certificate",
		                uname, cmd ? cmd : "no command");
	}
	provider = map_get(ps, user, "auth-provider");
	if (!is_null(provider))
	{
		const char *pname = NULL;

		(void) get_scalar(ps, provider, "name", what, &pname);
		return kc_error(ps, provider,
		                "user \"%s\" uses the auth-provider \"%s\", which is not supported; use "
		                "a token or a client certificate",
		                uname, pname ? pname : "");
	}
	for (i = 0; i < sizeof(impersonation) / sizeof(impersonation[0]); i++)
	{
		yaml_node_t *v = map_get(ps, user, impersonation[i]);

		if (!is_null(v))
			return kc_error(ps, v,
			                "user \"%s\" uses impersonation (\"%s\"), which is not supported",
			                uname, impersonation[i]);
	}

	if (!get_string(ps, user, "token", what, &out->token) ||
	    !get_path(ps, user, "tokenFile", what, &out->token_file) ||
	    !get_data(ps, user, "client-certificate-data", what, &out->client_cert_data) ||
	    !get_data(ps, user, "client-key-data", what, &out->client_key_data))
		return false;
	if (out->client_cert_data.data == NULL &&
	    !get_path(ps, user, "client-certificate", what, &out->client_cert_file))
		return false;
	if (out->client_key_data.data == NULL &&
	    !get_path(ps, user, "client-key", what, &out->client_key_file))
		return false;

	if (!get_scalar(ps, user, "username", what, &username) ||
	    !get_scalar(ps, user, "password", what, &password))
		return false;
	if ((username || password) && !out->token && !out->token_file && !out->client_cert_data.data &&
	    !out->client_cert_file)
		return kc_error(ps, map_get(ps, user, username ? "username" : "password"),
		                "user \"%s\" uses basic authentication (username and password), which "
		                "is not supported; use a token or a client certificate",
		                uname);

	/* A certificate without its key (or the reverse) can only fail at the TLS handshake. */
	if ((out->client_cert_data.data || out->client_cert_file) &&
	    !(out->client_key_data.data || out->client_key_file))
		return kc_error(ps, user, "user \"%s\" has a client certificate but no client key", uname);
	if ((out->client_key_data.data || out->client_key_file) &&
	    !(out->client_cert_data.data || out->client_cert_file))
		return kc_error(ps, user, "user \"%s\" has a client key but no client certificate", uname);
	return true;
}

static bool
parse_cluster(Parse *ps, const yaml_node_t *cluster, const char *cname, KubeConfig *out)
{
	char        what[300];
	const char *server;
	bool        tls;

	snprintf(what, sizeof(what), "cluster \"%s\"", cname);
	if (!get_scalar(ps, cluster, "server", what, &server))
		return false;
	if (server == NULL)
		return kc_error(ps, cluster, "cluster \"%s\" has no server", cname);
	if (!get_data(ps, cluster, "certificate-authority-data", what, &out->ca_data))
		return false;
	if (out->ca_data.data == NULL &&
	    !get_path(ps, cluster, "certificate-authority", what, &out->ca_file))
		return false;
	if (!get_bool(ps, cluster, "insecure-skip-tls-verify", what, &out->insecure_skip_tls_verify) ||
	    !get_string(ps, cluster, "tls-server-name", what, &out->tls_server_name) ||
	    !get_string(ps, cluster, "proxy-url", what, &out->proxy_url))
		return false;

	if (strstr(server, "://"))
		out->server = kc_strndup(ps->alloc, server, strlen(server));
	else
	{
		/* client-go's defaultServerURL: https when anything about TLS is configured. */
		tls = out->ca_data.data || out->ca_file || out->insecure_skip_tls_verify ||
		      out->client_cert_data.data || out->client_cert_file;
		out->server = kc_concat3(ps->alloc, tls ? "https://" : "http://", server, "");
	}
	return out->server ? true : kc_nomem(ps);
}

static bool
parse_document(Parse *ps, const char *context, KubeConfig *out)
{
	yaml_node_t *root = yaml_document_get_root_node(ps->doc);
	yaml_node_t *ctx_body, *ctx_item;
	yaml_node_t *cluster_body, *cluster_item;
	yaml_node_t *user_body, *user_item;
	const char  *ctx_name = context;
	const char  *cluster_name;
	const char  *user_name;
	bool         found;
	char         msg[400];
	char         what[300];

	if (root == NULL)
		return kc_error(ps, NULL, "the file is empty");
	if (root->type != YAML_MAPPING_NODE)
		return kc_error(ps, root, "not a kubeconfig: the document is not a mapping");

	if (ctx_name == NULL || ctx_name[0] == '\0')
	{
		if (!get_scalar(ps, root, "current-context", "the kubeconfig", &ctx_name))
			return false;
		if (ctx_name == NULL)
			return kc_error(ps, NULL, "no current-context is set; name a context");
	}
	if (!find_named(ps, root, "contexts", "context", ctx_name, &found, &ctx_body, &ctx_item))
		return false;
	if (!found)
	{
		snprintf(msg, sizeof(msg), "%scontext \"%s\" not found",
		         context && context[0] ? "" : "current-", ctx_name);
		return not_found(ps, root, "contexts", msg);
	}
	snprintf(what, sizeof(what), "context \"%s\"", ctx_name);
	if (!get_scalar(ps, ctx_body, "cluster", what, &cluster_name) ||
	    !get_scalar(ps, ctx_body, "user", what, &user_name) ||
	    !get_string(ps, ctx_body, "namespace", what, &out->namespace))
		return false;
	if (cluster_name == NULL)
		return kc_error(ps, ctx_item, "context \"%s\" names no cluster", ctx_name);

	if (!find_named(ps, root, "clusters", "cluster", cluster_name, &found, &cluster_body,
	                &cluster_item))
		return false;
	if (!found)
	{
		snprintf(msg, sizeof(msg), "context \"%s\" refers to cluster \"%s\", which is not defined",
		         ctx_name, cluster_name);
		return not_found(ps, root, "clusters", msg);
	}
	if (!parse_cluster(ps, cluster_body, cluster_name, out))
		return false;

	if (user_name)
	{
		if (!find_named(ps, root, "users", "user", user_name, &found, &user_body, &user_item))
			return false;
		if (!found)
		{
			snprintf(msg, sizeof(msg), "context \"%s\" refers to user \"%s\", which is not defined",
			         ctx_name, user_name);
			return not_found(ps, root, "users", msg);
		}
		if (user_body && !parse_user(ps, user_body, user_name, out))
			return false;
		out->user_name = kc_strndup(ps->alloc, user_name, strlen(user_name));
		if (out->user_name == NULL)
			return kc_nomem(ps);
	}
	out->context = kc_strndup(ps->alloc, ctx_name, strlen(ctx_name));
	out->cluster_name = kc_strndup(ps->alloc, cluster_name, strlen(cluster_name));
	if (out->context == NULL || out->cluster_name == NULL)
		return kc_nomem(ps);
	return true;
}

static void
yaml_error(Parse *ps, const yaml_parser_t *parser)
{
	const char *problem = parser->problem ? parser->problem : "malformed YAML";

	switch (parser->error)
	{
		case YAML_MEMORY_ERROR:
			(void) kc_nomem(ps);
			break;
		case YAML_READER_ERROR:
			(void) kc_error(ps, NULL, "invalid YAML at byte %zu: %s", parser->problem_offset,
			                problem);
			break;
		default:
			if (parser->context)
				(void) kc_error(ps, NULL,
				                "invalid YAML at line %lu, column %lu: %s (%s at line %lu)",
				                (unsigned long) parser->problem_mark.line + 1,
				                (unsigned long) parser->problem_mark.column + 1, problem,
				                parser->context, (unsigned long) parser->context_mark.line + 1);
			else
				(void) kc_error(ps, NULL, "invalid YAML at line %lu, column %lu: %s",
				                (unsigned long) parser->problem_mark.line + 1,
				                (unsigned long) parser->problem_mark.column + 1, problem);
			break;
	}
}

/*
 * libyaml keeps copies of the text (its input buffers) and of every scalar (the
 * document's nodes), tokens and keys among them, and frees them without
 * wiping: wipe them first.  Its own allocations, so malloc'd, and its public
 * structs say where they are.
 */
static void
wipe_yaml(yaml_parser_t *parser, yaml_document_t *doc)
{
	if (doc != NULL)
		for (yaml_node_t *n = doc->nodes.start; n != NULL && n < doc->nodes.top; n++)
			if (n->type == YAML_SCALAR_NODE && n->data.scalar.value != NULL)
				kc_wipe(n->data.scalar.value, n->data.scalar.length);
	if (parser->buffer.start != NULL)
		kc_wipe(parser->buffer.start, (size_t) (parser->buffer.end - parser->buffer.start));
	if (parser->raw_buffer.start != NULL)
		kc_wipe(parser->raw_buffer.start,
		        (size_t) (parser->raw_buffer.end - parser->raw_buffer.start));
}

bool
kube_config_parse(const char *text, size_t len, const char *name, const char *base_dir,
                  const char *context, const CoreAllocator *allocator, KubeConfig *out, char *err,
                  size_t errlen)
{
	yaml_parser_t   parser;
	yaml_document_t doc;
	Parse           ps;
	bool            ok;

	memset(out, 0, sizeof(*out));
	ps.doc = &doc;
	ps.name = name ? name : "(memory)";
	ps.base_dir = base_dir;
	ps.alloc = allocator;
	ps.err = err;
	ps.errlen = errlen;

	if (!yaml_parser_initialize(&parser))
		return kc_nomem(&ps);
	yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
	if (!yaml_parser_load(&parser, &doc))
	{
		yaml_error(&ps, &parser);
		wipe_yaml(&parser, NULL);
		yaml_parser_delete(&parser);
		return false;
	}
	ok = parse_document(&ps, context, out);
	wipe_yaml(&parser, &doc);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (!ok)
		kube_config_free(out, allocator);
	return ok;
}

bool
kube_config_load(const char *path, const char *context, const CoreAllocator *allocator,
                 KubeConfig *out, char *err, size_t errlen)
{
	char       *text;
	size_t      len;
	int         errnum = 0;
	ReadStatus  st;
	char       *dir = NULL;
	const char *slash;
	bool        ok;

	memset(out, 0, sizeof(*out));
	st = kc_read_file(path, KUBECONFIG_MAX_SIZE, allocator, &text, &len, &errnum);
	if (st == READ_TOO_LARGE)
	{
		snprintf(err, errlen, "kubeconfig %s is larger than %zu bytes", path, KUBECONFIG_MAX_SIZE);
		return false;
	}
	if (st != READ_OK)
	{
		snprintf(err, errlen, "could not read kubeconfig %s: %s", path, strerror(errnum));
		return false;
	}

	/* kubectl resolves relative paths against the absolute directory of the file. */
	slash = strrchr(path, '/');
	if (path[0] == '/')
		dir = kc_strndup(allocator, path, slash == path ? 1 : (size_t) (slash - path));
	else
	{
		char cwd[4096];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
		{
			snprintf(err, errlen, "could not resolve the directory of kubeconfig %s: %s", path,
			         strerror(errno));
			kc_free_secret(allocator, text, len);
			return false;
		}
		if (slash)
		{
			char *rel = kc_strndup(allocator, path, (size_t) (slash - path));

			dir = rel ? kc_concat3(allocator, cwd, "/", rel) : NULL;
			kc_free(allocator, rel);
		}
		else
			dir = kc_strndup(allocator, cwd, strlen(cwd));
	}
	if (dir == NULL)
	{
		snprintf(err, errlen, "kubeconfig %s: out of memory", path);
		kc_free_secret(allocator, text, len);
		return false;
	}
	/* "/" must not become "//x". */
	ok = kube_config_parse(text, len, path, strcmp(dir, "/") == 0 ? "" : dir, context, allocator,
	                       out, err, errlen);
	kc_free(allocator, dir);
	kc_free_secret(allocator, text, len);
	return ok;
}

/* ---------------------------------------------------------------- in-cluster */

static bool
valid_port(const char *port)
{
	long  v;
	char *end;

	if (port[0] < '0' || port[0] > '9')
		return false;
	errno = 0;
	v = strtol(port, &end, 10);
	return errno == 0 && *end == '\0' && v >= 1 && v <= 65535;
}

bool
kube_config_in_cluster(const KubeInClusterSource *source, const CoreAllocator *allocator,
                       KubeConfig *out, char *err, size_t errlen)
{
	KubeInClusterSource src;
	char               *token = NULL;
	char               *ns;
	size_t              nslen;
	int                 errnum = 0;
	ReadStatus          st;
	FILE               *f;
	bool                v6;
	char               *hostport;

	memset(out, 0, sizeof(*out));
	memset(&src, 0, sizeof(src));
	if (source)
		src = *source;
	if (src.host == NULL)
		src.host = getenv("KUBERNETES_SERVICE_HOST");
	if (src.port == NULL)
		src.port = getenv("KUBERNETES_SERVICE_PORT");
	if (src.token_file == NULL)
		src.token_file = KUBE_SA_TOKEN_FILE;
	if (src.ca_file == NULL)
		src.ca_file = KUBE_SA_CA_FILE;
	if (src.namespace_file == NULL)
		src.namespace_file = KUBE_SA_NAMESPACE_FILE;

	if (src.host == NULL || src.host[0] == '\0' || src.port == NULL || src.port[0] == '\0')
	{
		snprintf(err, errlen,
		         "no in-cluster configuration: KUBERNETES_SERVICE_HOST and "
		         "KUBERNETES_SERVICE_PORT must be set (not running in a Kubernetes pod?)");
		return false;
	}
	if (!valid_port(src.port))
	{
		snprintf(err, errlen, "KUBERNETES_SERVICE_PORT \"%s\" is not a port number", src.port);
		return false;
	}

	/* Check the credentials now, for a clear error; the token is read again at each connection. */
	if (!kube_read_token_file(src.token_file, allocator, &token, err, errlen))
		return false;
	kc_free_secret(allocator, token, strlen(token));
	f = fopen(src.ca_file, "rb");
	if (f == NULL)
	{
		snprintf(err, errlen, "could not read CA file \"%s\": %s", src.ca_file, strerror(errno));
		return false;
	}
	fclose(f);

	v6 = strchr(src.host, ':') != NULL && src.host[0] != '[';
	hostport = kc_concat3(allocator, v6 ? "[" : "", src.host, v6 ? "]:" : ":");
	if (hostport)
	{
		out->server = kc_concat3(allocator, "https://", hostport, src.port);
		kc_free(allocator, hostport);
	}
	out->token_file = kc_strndup(allocator, src.token_file, strlen(src.token_file));
	out->ca_file = kc_strndup(allocator, src.ca_file, strlen(src.ca_file));
	if (out->server == NULL || out->token_file == NULL || out->ca_file == NULL)
		goto nomem;

	st = kc_read_file(src.namespace_file, NAMESPACE_MAX_SIZE, allocator, &ns, &nslen, &errnum);
	if (st == READ_OK)
	{
		size_t start = 0;

		while (nslen > 0 && is_space(ns[nslen - 1]))
			ns[--nslen] = '\0';
		while (start < nslen && is_space(ns[start]))
			start++;
		if (start < nslen)
			out->namespace = kc_strndup(allocator, ns + start, nslen - start);
		kc_free(allocator, ns);
		if (start < nslen && out->namespace == NULL)
			goto nomem;
	}
	else if (!(st == READ_ERRNO && errnum == ENOENT))
	{
		if (st == READ_TOO_LARGE)
			snprintf(err, errlen, "namespace file \"%s\" is larger than %zu bytes",
			         src.namespace_file, NAMESPACE_MAX_SIZE);
		else
			snprintf(err, errlen, "could not read namespace file \"%s\": %s", src.namespace_file,
			         strerror(errnum));
		kube_config_free(out, allocator);
		return false;
	}
	return true;

nomem:
	kube_config_free(out, allocator);
	snprintf(err, errlen, "out of memory");
	return false;
}

/* ---------------------------------------------------------------- freeing */

static void
free_bytes(KubeBytes *b, const CoreAllocator *a)
{
	kc_free_secret(a, b->data, b->len);
	b->data = NULL;
	b->len = 0;
}

void
kube_config_free(KubeConfig *cfg, const CoreAllocator *allocator)
{
	kc_free(allocator, cfg->context);
	kc_free(allocator, cfg->cluster_name);
	kc_free(allocator, cfg->user_name);
	kc_free(allocator, cfg->server);
	kc_free(allocator, cfg->tls_server_name);
	kc_free(allocator, cfg->proxy_url);
	kc_free(allocator, cfg->ca_file);
	free_bytes(&cfg->ca_data, allocator);
	kc_free(allocator, cfg->client_cert_file);
	free_bytes(&cfg->client_cert_data, allocator);
	kc_free(allocator, cfg->client_key_file);
	free_bytes(&cfg->client_key_data, allocator);
	if (cfg->token)
		kc_free_secret(allocator, cfg->token, strlen(cfg->token));
	kc_free(allocator, cfg->token_file);
	kc_free(allocator, cfg->namespace);
	memset(cfg, 0, sizeof(*cfg));
}
