/*
 * kubeconfig.h
 *	  Where a Kubernetes API server is and how to authenticate to it: from a
 *	  kubeconfig file (libyaml), or from inside a pod (in-cluster config).
 *
 * Plain C, shared by the extension's watcher and the k8s-events program.
 * Memory comes from the caller's allocator; errors are returned as text that
 * names files, contexts, clusters and users, never credentials.
 *
 * Supported, as kubectl reads them:
 *   clusters[].cluster: server, certificate-authority, certificate-authority-data,
 *       insecure-skip-tls-verify, tls-server-name, proxy-url
 *   users[].user: token, tokenFile, client-certificate, client-certificate-data,
 *       client-key, client-key-data
 *   contexts[].context: cluster, user, namespace; current-context
 * Relative file paths are resolved against the kubeconfig's directory.  A
 * *-data field overrides its file field (kubectl warns and does the same).
 * Not supported, with an error saying so: exec plugins, auth-providers,
 * impersonation (as, as-groups, ...), and username/password without another
 * credential.  One file only: merging the files of $KUBECONFIG is the caller's.
 */
#ifndef K8S_EVENTS_KUBECONFIG_H
#define K8S_EVENTS_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core_allocator.h"

#define KUBE_ERR_LEN 512

/* Defaults of the in-cluster configuration (the service account's mount). */
#define KUBE_SA_DIR            "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_SA_TOKEN_FILE     KUBE_SA_DIR "/token"
#define KUBE_SA_CA_FILE        KUBE_SA_DIR "/ca.crt"
#define KUBE_SA_NAMESPACE_FILE KUBE_SA_DIR "/namespace"

/* Bytes decoded from a *-data field; data is NUL-terminated (PEM is text). */
typedef struct KubeBytes
{
	unsigned char *data; /* NULL when absent */
	size_t         len;
} KubeBytes;

/*
 * One connection.  Every string is NUL-terminated and owned by the struct
 * (free with kube_config_free), or NULL when absent.  For each of CA, client
 * certificate and client key at most one of file and data is set; curl takes
 * the data as CURLOPT_CAINFO_BLOB / CURLOPT_SSLCERT_BLOB / CURLOPT_SSLKEY_BLOB.
 */
typedef struct KubeConfig
{
	char *context;      /* the context used (NULL for in-cluster) */
	char *cluster_name; /* its cluster and user names, for messages */
	char *user_name;    /* NULL when the context names no user */

	char *server; /* "https://host:port[/path]"; "https://" added when no scheme */
	char *tls_server_name;
	char *proxy_url;
	bool  insecure_skip_tls_verify;

	char     *ca_file; /* absolute path, or as given when no directory is known */
	KubeBytes ca_data;
	char     *client_cert_file;
	KubeBytes client_cert_data;
	char     *client_key_file;
	KubeBytes client_key_data;

	/*
	 * A token file is re-read at every connection (bound service-account
	 * tokens rotate); like client-go, fall back to token when it can't be read.
	 */
	char *token;
	char *token_file;

	/* The context's (or the pod's) namespace: kubectl's default, not a watch scope. */
	char *namespace;
} KubeConfig;

/*
 * Read the kubeconfig file at path and describe the connection of context
 * (NULL or "": the current-context).  On failure returns false with a message
 * in err and leaves *out empty.
 */
extern bool kube_config_load(const char *path, const char *context, const CoreAllocator *allocator,
                             KubeConfig *out, char *err, size_t errlen);

/*
 * The same from kubeconfig text in memory.  name is used in messages (e.g. the
 * path); base_dir resolves relative paths (NULL: leave them as they are).
 */
extern bool kube_config_parse(const char *text, size_t len, const char *name, const char *base_dir,
                              const char *context, const CoreAllocator *allocator, KubeConfig *out,
                              char *err, size_t errlen);

/* Where the in-cluster configuration comes from; a NULL field means the default. */
typedef struct KubeInClusterSource
{
	const char *host;           /* default: $KUBERNETES_SERVICE_HOST */
	const char *port;           /* default: $KUBERNETES_SERVICE_PORT */
	const char *token_file;     /* default: KUBE_SA_TOKEN_FILE */
	const char *ca_file;        /* default: KUBE_SA_CA_FILE */
	const char *namespace_file; /* default: KUBE_SA_NAMESPACE_FILE */
} KubeInClusterSource;

/*
 * The configuration of a pod's service account, as client-go's InClusterConfig:
 * server https://HOST:PORT (an IPv6 HOST in brackets), token_file, ca_file, and
 * the namespace from its file when that exists.  The token file must be
 * readable now (it is not kept: re-read it at each connection); a missing CA
 * file is an error.  source may be NULL.
 */
extern bool kube_config_in_cluster(const KubeInClusterSource *source,
                                   const CoreAllocator *allocator, KubeConfig *out, char *err,
                                   size_t errlen);

/*
 * Read a bearer token from a file, without surrounding white space, into
 * *token (NUL-terminated, from allocator).  Errors name the file, never its
 * content; an empty file is an error.
 */
extern bool kube_read_token_file(const char *path, const CoreAllocator *allocator, char **token,
                                 char *err, size_t errlen);

/* Free what *cfg owns and empty it.  Safe on an empty (zeroed) KubeConfig. */
extern void kube_config_free(KubeConfig *cfg, const CoreAllocator *allocator);

#endif
