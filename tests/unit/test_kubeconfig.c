/*
 * test_kubeconfig.c
 *	  Unit tests of core/kubeconfig and core/base64: prints "ok - ..." /
 *	  "not ok - ..." lines and exits non-zero when a check failed.
 */
#define _GNU_SOURCE
#include "core/base64.h"
#include "core/kubeconfig.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Compare and explain. */
static int
same(const char *what, const char *got, const char *expected)
{
	if (streq(got, expected))
		return 1;
	printf("# %s:\n#   got      %s\n#   expected %s\n", what, got ? got : "(null)",
	       expected ? expected : "(null)");
	return 0;
}

/* ---------------------------------------------------------------- a counting allocator */

typedef struct CountingAlloc
{
	long live; /* blocks allocated and not freed */
} CountingAlloc;

static void *
ca_alloc(void *ctx, size_t size)
{
	((CountingAlloc *) ctx)->live++;
	return malloc(size);
}

static void *
ca_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	(void) ctx;
	(void) old_size;
	return realloc(ptr, new_size);
}

static void
ca_free(void *ctx, void *ptr)
{
	((CountingAlloc *) ctx)->live--;
	free(ptr);
}

static CountingAlloc counter;
static CoreAllocator alloc = {ca_alloc, ca_realloc, ca_free, &counter};

/* ---------------------------------------------------------------- files */

static void
write_file(const char *rel, const char *content)
{
	char  path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	f = fopen(path, "w");
	if (f == NULL)
	{
		perror(path);
		exit(2);
	}
	fputs(content, f);
	fclose(f);
}

/* Load and expect failure with exactly this message; the config must stay empty. */
static void
expect_error(const char *desc, const char *rel, const char *context, const char *expected)
{
	KubeConfig cfg;
	char       err[KUBE_ERR_LEN] = "";
	char       full[1024];
	bool       ok;
	long       before = counter.live;

	ok = kube_config_load(tmp_path(rel), context, &alloc, &cfg, err, sizeof(err));
	snprintf(full, sizeof(full), "kubeconfig %s: %s", tmp_path(rel), expected);
	check(!ok && same(desc, err, full) && cfg.server == NULL && counter.live == before, "%s", desc);
	if (ok)
		kube_config_free(&cfg, &alloc);
	if (strstr(err, "s3cr3t") || strstr(err, "c3VwZXI"))
		check(0, "%s: the error shows a credential", desc);
}

/* ---------------------------------------------------------------- base64 */

static void
test_base64(void)
{
	unsigned char out[64];
	size_t        len = 0;
	char          err[128];
	char          enc[64];
	int           ok = 1;
	int           n;
	unsigned char all[256];

	check(base64_decode("aGVsbG8=", 8, out, sizeof(out), &len, err, sizeof(err)) && len == 5 &&
	          memcmp(out, "hello", 5) == 0,
	      "base64: padded");
	check(base64_decode("aGVsbG8", 7, out, sizeof(out), &len, err, sizeof(err)) && len == 5 &&
	          memcmp(out, "hello", 5) == 0,
	      "base64: padding may be omitted");
	check(base64_decode("aGVs\n  bG8h\r\n", 13, out, sizeof(out), &len, err, sizeof(err)) &&
	          len == 6 && memcmp(out, "hello!", 6) == 0,
	      "base64: line breaks and indentation are ignored");
	check(base64_decode("", 0, out, sizeof(out), &len, err, sizeof(err)) && len == 0,
	      "base64: empty");
	check(!base64_decode("aGV*bG8=", 8, out, sizeof(out), &len, err, sizeof(err)) &&
	          same("err", err, "invalid base64: unexpected character at offset 3"),
	      "base64: a character outside the alphabet is an error with its offset");
	check(!base64_decode("aGVsb", 5, out, sizeof(out), &len, err, sizeof(err)) &&
	          same("err", err, "invalid base64: truncated input (one character too many)"),
	      "base64: a dangling character is an error");
	check(!base64_decode("aG=sbG8=", 8, out, sizeof(out), &len, err, sizeof(err)) &&
	          same("err", err, "invalid base64: data after padding at offset 3"),
	      "base64: padding in the middle is an error");
	check(!base64_decode("aGVsbG8===", 10, out, sizeof(out), &len, err, sizeof(err)) &&
	          same("err", err, "invalid base64: too much padding at offset 8"),
	      "base64: too much padding is an error");
	check(!base64_decode("aGVsbG8=", 8, out, 4, &len, err, sizeof(err)) &&
	          same("err", err, "base64 output buffer too small"),
	      "base64: a small output buffer is an error, not an overflow");
	for (n = 0; n < 256; n++)
		all[n] = (unsigned char) n;
	for (n = 0; n <= 40; n++)
	{
		size_t        elen = base64_encode(all + 200, (size_t) n, enc);
		unsigned char back[64];

		if (elen != base64_encoded_len((size_t) n) ||
		    !base64_decode(enc, elen, back, base64_decoded_max(elen), &len, err, sizeof(err)) ||
		    len != (size_t) n || memcmp(back, all + 200, (size_t) n) != 0)
			ok = 0;
	}
	check(ok, "base64: encode/decode round trip of 0 to 40 bytes");
	base64_encode((const unsigned char *) "hello", 5, enc);
	check(same("encode", enc, "aGVsbG8="), "base64: encode matches RFC 4648");
}

/* ---------------------------------------------------------------- kubeconfig */

/* base64 of "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n" etc. */
#define CA_PEM   "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
#define CA_B64   "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
#define CERT_B64 "Q0VSVAo=" /* "CERT\n" */
#define KEY_B64  "S0VZCg==" /* "KEY\n" */

static const char *main_config = "apiVersion: v1\n"
                                 "kind: Config\n"
                                 "current-context: dev\n"
                                 "preferences: {}\n"
                                 "clusters:\n"
                                 "- name: dev-cluster\n"
                                 "  cluster:\n"
                                 "    server: https://dev.example.com:6443\n"
                                 "    certificate-authority-data: " CA_B64 "\n"
                                 "- name: prod-cluster\n"
                                 "  cluster:\n"
                                 "    server: https://[2001:db8::1]:443/k8s\n"
                                 "    certificate-authority: certs/ca.pem\n"
                                 "    tls-server-name: api.prod\n"
                                 "- name: lab-cluster\n"
                                 "  cluster:\n"
                                 "    server: lab.internal:8443\n"
                                 "    insecure-skip-tls-verify: true\n"
                                 "    proxy-url: http://proxy.local:3128\n"
                                 "- name: both-cluster\n"
                                 "  cluster:\n"
                                 "    server: https://both\n"
                                 "    certificate-authority: /etc/ca.pem\n"
                                 "    certificate-authority-data: " CA_B64 "\n"
                                 "- name: plain-cluster\n"
                                 "  cluster:\n"
                                 "    server: localhost:8001\n"
                                 "contexts:\n"
                                 "- name: dev\n"
                                 "  context:\n"
                                 "    cluster: dev-cluster\n"
                                 "    user: dev-user\n"
                                 "    namespace: team-a\n"
                                 "- name: prod\n"
                                 "  context: {cluster: prod-cluster, user: prod-user}\n"
                                 "- name: lab\n"
                                 "  context:\n"
                                 "    cluster: lab-cluster\n"
                                 "    user: lab-user\n"
                                 "- name: both\n"
                                 "  context:\n"
                                 "    cluster: both-cluster\n"
                                 "    user: both-user\n"
                                 "- name: anonymous\n"
                                 "  context:\n"
                                 "    cluster: plain-cluster\n"
                                 "users:\n"
                                 "- name: dev-user\n"
                                 "  user:\n"
                                 "    token: s3cr3t-dev-token\n"
                                 "- name: prod-user\n"
                                 "  user:\n"
                                 "    client-certificate: certs/client.crt\n"
                                 "    client-key: /abs/client.key\n"
                                 "- name: lab-user\n"
                                 "  user:\n"
                                 "    tokenFile: ../tokens/lab\n"
                                 "- name: both-user\n"
                                 "  user:\n"
                                 "    client-certificate: c.crt\n"
                                 "    client-certificate-data: |\n"
                                 "      " CERT_B64 "\n"
                                 "    client-key: c.key\n"
                                 "    client-key-data: " KEY_B64 "\n"
                                 "    token: s3cr3t-both\n"
                                 "    tokenFile: /var/tok\n";

static void
test_kubeconfig_contexts(void)
{
	KubeConfig cfg;
	char       err[KUBE_ERR_LEN] = "";
	char       expect[512];
	bool       ok;

	write_file("config", main_config);

	ok = kube_config_load(tmp_path("config"), NULL, &alloc, &cfg, err, sizeof(err));
	check(ok, "current-context loads%s%s", ok ? "" : ": ", ok ? "" : err);
	if (ok)
	{
		check(same("context", cfg.context, "dev") &&
		          same("cluster", cfg.cluster_name, "dev-cluster") &&
		          same("user", cfg.user_name, "dev-user"),
		      "current-context: context, cluster and user names");
		check(same("server", cfg.server, "https://dev.example.com:6443"),
		      "current-context: server");
		check(cfg.ca_data.len == strlen(CA_PEM) &&
		          memcmp(cfg.ca_data.data, CA_PEM, cfg.ca_data.len) == 0 &&
		          cfg.ca_data.data[cfg.ca_data.len] == '\0' && cfg.ca_file == NULL,
		      "certificate-authority-data is decoded (and NUL-terminated), no CA file");
		check(same("token", cfg.token, "s3cr3t-dev-token") && cfg.token_file == NULL,
		      "inline token");
		check(same("namespace", cfg.namespace, "team-a"), "namespace from the context");
		check(!cfg.insecure_skip_tls_verify && cfg.proxy_url == NULL &&
		          cfg.client_cert_file == NULL && cfg.client_cert_data.data == NULL &&
		          cfg.client_key_file == NULL && cfg.client_key_data.data == NULL,
		      "absent fields are NULL/false");
		kube_config_free(&cfg, &alloc);
	}

	ok = kube_config_load(tmp_path("config"), "prod", &alloc, &cfg, err, sizeof(err));
	check(ok, "a named context loads%s%s", ok ? "" : ": ", ok ? "" : err);
	if (ok)
	{
		check(same("context", cfg.context, "prod") &&
		          same("server", cfg.server, "https://[2001:db8::1]:443/k8s") &&
		          same("tls-server-name", cfg.tls_server_name, "api.prod"),
		      "named context: server with IPv6 and a path, tls-server-name");
		snprintf(expect, sizeof(expect), "%s/certs/ca.pem", tmpdir);
		check(same("ca_file", cfg.ca_file, expect) && cfg.ca_data.data == NULL,
		      "a relative certificate-authority is resolved against the kubeconfig's directory");
		snprintf(expect, sizeof(expect), "%s/certs/client.crt", tmpdir);
		check(same("client_cert_file", cfg.client_cert_file, expect) &&
		          same("client_key_file", cfg.client_key_file, "/abs/client.key"),
		      "client-certificate resolved, absolute client-key kept");
		check(cfg.token == NULL && cfg.token_file == NULL && cfg.namespace == NULL,
		      "no token, no namespace");
		kube_config_free(&cfg, &alloc);
	}

	ok = kube_config_load(tmp_path("config"), "lab", &alloc, &cfg, err, sizeof(err));
	check(ok, "context lab loads%s%s", ok ? "" : ": ", ok ? "" : err);
	if (ok)
	{
		check(cfg.insecure_skip_tls_verify, "insecure-skip-tls-verify: true");
		check(same("server", cfg.server, "https://lab.internal:8443"),
		      "a server without a scheme gets https:// when TLS is configured");
		check(same("proxy", cfg.proxy_url, "http://proxy.local:3128"), "proxy-url");
		snprintf(expect, sizeof(expect), "%s/../tokens/lab", tmpdir);
		check(same("token_file", cfg.token_file, expect) && cfg.token == NULL,
		      "tokenFile, resolved relative to the kubeconfig");
		kube_config_free(&cfg, &alloc);
	}

	ok = kube_config_load(tmp_path("config"), "both", &alloc, &cfg, err, sizeof(err));
	check(ok, "context both loads%s%s", ok ? "" : ": ", ok ? "" : err);
	if (ok)
	{
		check(cfg.ca_file == NULL && cfg.ca_data.len == strlen(CA_PEM),
		      "certificate-authority-data overrides certificate-authority");
		check(cfg.client_cert_file == NULL && cfg.client_cert_data.len == 5 &&
		          memcmp(cfg.client_cert_data.data, "CERT\n", 5) == 0,
		      "client-certificate-data (a block scalar) overrides client-certificate");
		check(cfg.client_key_file == NULL && cfg.client_key_data.len == 4 &&
		          memcmp(cfg.client_key_data.data, "KEY\n", 4) == 0,
		      "client-key-data overrides client-key");
		check(same("token", cfg.token, "s3cr3t-both") &&
		          same("tokenFile", cfg.token_file, "/var/tok"),
		      "token and tokenFile are both kept (the file wins when readable, like client-go)");
		kube_config_free(&cfg, &alloc);
	}

	ok = kube_config_load(tmp_path("config"), "anonymous", &alloc, &cfg, err, sizeof(err));
	check(ok && same("server", cfg.server, "http://localhost:8001") && cfg.user_name == NULL &&
	          cfg.token == NULL,
	      "a context without a user, server without scheme nor TLS: http:// (kubectl proxy)");
	if (ok)
		kube_config_free(&cfg, &alloc);
	check(counter.live == 0, "every allocation was freed (%ld left)", counter.live);
}

static void
test_kubeconfig_relative_load(void)
{
	KubeConfig cfg;
	char       err[KUBE_ERR_LEN] = "";
	char       expect[512];
	char       cwd[512];
	char       sub[512];
	bool       ok;

	/* Loaded by a relative path: paths are resolved against its absolute directory. */
	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	mkdir(sub, 0700);
	write_file("sub/kc", main_config);
	if (getcwd(cwd, sizeof(cwd)) == NULL || chdir(tmpdir) != 0)
	{
		check(0, "chdir");
		return;
	}
	ok = kube_config_load("sub/kc", "prod", &alloc, &cfg, err, sizeof(err));
	snprintf(expect, sizeof(expect), "%s/sub/certs/ca.pem", tmpdir);
	check(ok && same("ca_file", cfg.ca_file, expect),
	      "a kubeconfig named by a relative path resolves against its absolute directory");
	if (ok)
		kube_config_free(&cfg, &alloc);
	ok = kube_config_load("kc-nonexistent", NULL, &alloc, &cfg, err, sizeof(err));
	check(!ok && same("err", err,
	                  "could not read kubeconfig kc-nonexistent: No such file or directory"),
	      "a missing kubeconfig file");
	if (chdir(cwd) != 0)
		check(0, "chdir back");

	/* Parsed from memory without a directory: paths are left as they are. */
	ok = kube_config_parse(main_config, strlen(main_config), "inline", NULL, "prod", NULL, &cfg,
	                       err, sizeof(err));
	check(ok && same("ca_file", cfg.ca_file, "certs/ca.pem"),
	      "kube_config_parse without a base directory keeps relative paths (malloc allocator)");
	if (ok)
		kube_config_free(&cfg, NULL);
}

static void
test_kubeconfig_formats(void)
{
	KubeConfig  cfg;
	char        err[KUBE_ERR_LEN] = "";
	bool        ok;
	const char *json =
	    "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"current-context\":\"j\","
	    "\"clusters\":[{\"name\":\"c\",\"cluster\":{\"server\":\"https://j:1\","
	    "\"insecure-skip-tls-verify\":false}}],"
	    "\"contexts\":[{\"name\":\"j\",\"context\":{\"cluster\":\"c\",\"user\":\"u\"}}],"
	    "\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"t\"}}]}";
	const char *anchors = "current-context: a\n"
	                      "clusters:\n"
	                      "- name: c\n"
	                      "  cluster: &cl\n"
	                      "    server: https://anchor:443\n"
	                      "    insecure-skip-tls-verify: yes\n"
	                      "- name: c\n"
	                      "  cluster:\n"
	                      "    server: https://second:443\n"
	                      "contexts:\n"
	                      "- name: a\n"
	                      "  context: {cluster: c, user: u, namespace: ~}\n"
	                      "users:\n"
	                      "- name: u\n"
	                      "  user:\n"
	                      "    token: \"\"\n"
	                      "    tokenFile: null\n";

	ok =
	    kube_config_parse(json, strlen(json), "j.json", "/d", NULL, &alloc, &cfg, err, sizeof(err));
	check(ok && same("server", cfg.server, "https://j:1") && same("token", cfg.token, "t") &&
	          !cfg.insecure_skip_tls_verify,
	      "a kubeconfig written as JSON");
	if (ok)
		kube_config_free(&cfg, &alloc);

	ok = kube_config_parse(anchors, strlen(anchors), "a.yaml", "/d", NULL, &alloc, &cfg, err,
	                       sizeof(err));
	check(ok && same("server", cfg.server, "https://anchor:443") && cfg.insecure_skip_tls_verify &&
	          cfg.namespace == NULL && cfg.token == NULL && cfg.token_file == NULL,
	      "first of duplicate names wins; yes is true; ~, null and \"\" are absent");
	if (ok)
		kube_config_free(&cfg, &alloc);
	else
		printf("# %s\n", err);
	check(counter.live == 0, "every allocation was freed (%ld left)", counter.live);
}

static void
test_kubeconfig_errors(void)
{
	write_file("exec", "current-context: eks\n"
	                   "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	                   "contexts: [{name: eks, context: {cluster: c, user: aws}}]\n"
	                   "users:\n"
	                   "- name: aws\n"
	                   "  user:\n"
	                   "    token: s3cr3t\n"
	                   "    exec:\n"
	                   "      apiVersion: client.authentication.k8s.io/v1beta1\n"
	                   "      command: aws\n"
	                   "      args: [eks, get-token]\n");
	expect_error("an exec user is refused, naming the user and the command", "exec", NULL,
	             "line 9: user \"aws\" uses an exec plugin (aws), which is not supported; use a "
	             "token or a client certificate");

	write_file("authprov", "current-context: gke\n"
	                       "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	                       "contexts: [{name: gke, context: {cluster: c, user: g}}]\n"
	                       "users:\n"
	                       "- name: g\n"
	                       "  user:\n"
	                       "    auth-provider:\n"
	                       "      name: gcp\n"
	                       "      config: {access-token: s3cr3t}\n");
	expect_error("an auth-provider user is refused", "authprov", NULL,
	             "line 8: user \"g\" uses the auth-provider \"gcp\", which is not supported; use "
	             "a token or a client certificate");

	write_file("basic", "current-context: b\n"
	                    "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	                    "contexts: [{name: b, context: {cluster: c, user: u}}]\n"
	                    "users: [{name: u, user: {username: admin, password: s3cr3t}}]\n");
	expect_error("username/password alone is refused", "basic", NULL,
	             "line 4: user \"u\" uses basic authentication (username and password), which "
	             "is not supported; use a token or a client certificate");

	write_file("imp", "current-context: b\n"
	                  "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	                  "contexts: [{name: b, context: {cluster: c, user: u}}]\n"
	                  "users: [{name: u, user: {token: s3cr3t, as: admin}}]\n");
	expect_error("impersonation is refused", "imp", NULL,
	             "line 4: user \"u\" uses impersonation (\"as\"), which is not supported");

	write_file("nokey", "current-context: b\n"
	                    "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	                    "contexts: [{name: b, context: {cluster: c, user: u}}]\n"
	                    "users: [{name: u, user: {client-certificate: a.crt}}]\n");
	expect_error("a client certificate without a key", "nokey", NULL,
	             "line 4: user \"u\" has a client certificate but no client key");

	write_file("malformed", "apiVersion: v1\n"
	                        "clusters:\n"
	                        "- name: c\n"
	                        "  cluster:\n"
	                        "    server: https://x\n"
	                        "   bad: indentation\n"
	                        "contexts: []\n");
	expect_error("malformed YAML reports its line", "malformed", NULL,
	             "invalid YAML at line 6, column 4: did not find expected key (while parsing a "
	             "block mapping at line 3)");

	write_file("tab", "current-context: x\n\tclusters: []\n");
	expect_error("a tab indentation reports its line", "tab", NULL,
	             "invalid YAML at line 2, column 1: found a tab character that violates "
	             "indentation (while scanning a plain scalar at line 1)");

	write_file("badutf8", "current-context: \xff\xfe\n");
	expect_error("invalid UTF-8", "badutf8", NULL,
	             "invalid YAML at byte 17: invalid leading UTF-8 octet");

	write_file("empty", "");
	expect_error("an empty file", "empty", NULL, "the file is empty");

	write_file("scalar", "just a string\n");
	expect_error("a document that is not a mapping", "scalar", NULL,
	             "line 1: not a kubeconfig: the document is not a mapping");

	write_file("config", main_config);
	expect_error("an unknown named context lists the contexts", "config", "staging",
	             "context \"staging\" not found (contexts: \"dev\", \"prod\", \"lab\", \"both\", "
	             "\"anonymous\")");

	write_file("nocurrent", "clusters: []\ncontexts: []\n");
	expect_error("no current-context and no context named", "nocurrent", NULL,
	             "no current-context is set; name a context");

	write_file("curmissing", "current-context: gone\ncontexts: []\n");
	expect_error("a current-context that does not exist", "curmissing", NULL,
	             "current-context \"gone\" not found (it has no contexts)");

	write_file("nocluster", "current-context: a\n"
	                        "clusters: [{name: other, cluster: {server: 'https://x'}}]\n"
	                        "contexts: [{name: a, context: {cluster: missing, user: u}}]\n");
	expect_error("a context naming a missing cluster", "nocluster", NULL,
	             "context \"a\" refers to cluster \"missing\", which is not defined (clusters: "
	             "\"other\")");

	write_file("nouser", "current-context: a\n"
	                     "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	                     "contexts: [{name: a, context: {cluster: c, user: ghost}}]\n");
	expect_error("a context naming a missing user", "nouser", NULL,
	             "context \"a\" refers to user \"ghost\", which is not defined (it has no users)");

	write_file("ctxnocluster", "current-context: a\n"
	                           "contexts:\n"
	                           "- name: a\n"
	                           "  context: {user: u}\n");
	expect_error("a context without a cluster", "ctxnocluster", NULL,
	             "line 3: context \"a\" names no cluster");

	write_file("noserver", "current-context: a\n"
	                       "clusters:\n"
	                       "- name: c\n"
	                       "  cluster:\n"
	                       "    insecure-skip-tls-verify: true\n"
	                       "contexts: [{name: a, context: {cluster: c}}]\n");
	expect_error("a cluster without a server", "noserver", NULL,
	             "line 5: cluster \"c\" has no server");

	write_file("badb64", "current-context: a\n"
	                     "clusters:\n"
	                     "- name: c\n"
	                     "  cluster:\n"
	                     "    server: https://x\n"
	                     "    certificate-authority-data: c3VwZXI*\n"
	                     "contexts: [{name: a, context: {cluster: c}}]\n");
	expect_error("invalid base64 in a -data field", "badb64", NULL,
	             "line 6: \"certificate-authority-data\" of cluster \"c\": invalid base64: "
	             "unexpected character at offset 7");

	write_file("badbool", "current-context: a\n"
	                      "clusters:\n"
	                      "- name: c\n"
	                      "  cluster:\n"
	                      "    server: https://x\n"
	                      "    insecure-skip-tls-verify: maybe\n"
	                      "contexts: [{name: a, context: {cluster: c}}]\n");
	expect_error("a non-boolean insecure-skip-tls-verify", "badbool", NULL,
	             "line 6: \"insecure-skip-tls-verify\" of cluster \"c\" must be true or false");

	write_file("notlist", "current-context: a\n"
	                      "clusters: {c: {server: x}}\n"
	                      "contexts: [{name: a, context: {cluster: c}}]\n");
	expect_error("clusters that are not a list", "notlist", NULL,
	             "line 2: \"clusters\" must be a list");

	write_file("tokenlist", "current-context: a\n"
	                        "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	                        "contexts: [{name: a, context: {cluster: c, user: u}}]\n"
	                        "users:\n"
	                        "- name: u\n"
	                        "  user:\n"
	                        "    token: [s3cr3t]\n");
	expect_error("a token that is not a string (its content not shown)", "tokenlist", NULL,
	             "line 7: \"token\" of user \"u\" must be a string");

	write_file("itemscalar", "current-context: a\ncontexts: [a]\n");
	expect_error("a list item that is not a mapping", "itemscalar", NULL,
	             "line 2: every item of \"contexts\" must be a mapping");

	check(counter.live == 0, "error paths free everything (%ld left)", counter.live);
}

/* ---------------------------------------------------------------- in-cluster */

static void
test_in_cluster(void)
{
	KubeConfig          cfg;
	char                err[KUBE_ERR_LEN] = "";
	KubeInClusterSource src;
	bool                ok;
	char               *token = NULL;
	char                sa[300];
	char                token_path[512], ca_path[512], ns_path[512], none_path[512];
	char                empty_path[512], missing_token[512], missing_ca[512];

	snprintf(sa, sizeof(sa), "%s/sa", tmpdir);
	mkdir(sa, 0700);
	write_file("sa/token", "  eyJhbGciOiJSUzI1NiJ9.s3cr3t.sig\n");
	write_file("sa/ca.crt", CA_PEM);
	write_file("sa/namespace", "monitoring\n");
	write_file("sa/empty", "\n \n");

	snprintf(token_path, sizeof(token_path), "%s/token", sa);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", sa);
	snprintf(ns_path, sizeof(ns_path), "%s/namespace", sa);
	snprintf(none_path, sizeof(none_path), "%s/no-namespace", sa);
	snprintf(empty_path, sizeof(empty_path), "%s/empty", sa);
	snprintf(missing_token, sizeof(missing_token), "%s/missing-token", sa);
	snprintf(missing_ca, sizeof(missing_ca), "%s/missing-ca", sa);
	memset(&src, 0, sizeof(src));
	src.token_file = token_path;
	src.ca_file = ca_path;
	src.namespace_file = ns_path;

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	ok = kube_config_in_cluster(&src, &alloc, &cfg, err, sizeof(err));
	check(ok, "in-cluster loads%s%s", ok ? "" : ": ", ok ? "" : err);
	if (ok)
	{
		check(same("server", cfg.server, "https://10.96.0.1:443"),
		      "in-cluster: server from the environment");
		check(same("token_file", cfg.token_file, token_path) && cfg.token == NULL,
		      "in-cluster: the token file (not its content)");
		check(same("ca_file", cfg.ca_file, ca_path), "in-cluster: the CA file");
		check(same("namespace", cfg.namespace, "monitoring"),
		      "in-cluster: the namespace, without its newline");
		check(!cfg.insecure_skip_tls_verify && cfg.context == NULL, "in-cluster: TLS verified");
		kube_config_free(&cfg, &alloc);
	}

	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	ok = kube_config_in_cluster(&src, &alloc, &cfg, err, sizeof(err));
	check(ok && same("server", cfg.server, "https://[fd00:10:96::1]:443"),
	      "in-cluster: an IPv6 host goes in brackets");
	if (ok)
		kube_config_free(&cfg, &alloc);

	src.host = "kubernetes.default.svc";
	src.port = "6443";
	ok = kube_config_in_cluster(&src, &alloc, &cfg, err, sizeof(err));
	check(ok && same("server", cfg.server, "https://kubernetes.default.svc:6443"),
	      "in-cluster: host and port given by the caller win over the environment");
	if (ok)
		kube_config_free(&cfg, &alloc);
	src.host = src.port = NULL;

	src.namespace_file = none_path;
	ok = kube_config_in_cluster(&src, &alloc, &cfg, err, sizeof(err));
	check(ok && cfg.namespace == NULL, "in-cluster: no namespace file, no namespace");
	if (ok)
		kube_config_free(&cfg, &alloc);
	src.namespace_file = ns_path;

	unsetenv("KUBERNETES_SERVICE_PORT");
	ok = kube_config_in_cluster(&src, &alloc, &cfg, err, sizeof(err));
	check(!ok && same("err", err,
	                  "no in-cluster configuration: KUBERNETES_SERVICE_HOST and "
	                  "KUBERNETES_SERVICE_PORT must be set (not running in a Kubernetes pod?)"),
	      "in-cluster: outside a pod");
	setenv("KUBERNETES_SERVICE_PORT", "https", 1);
	ok = kube_config_in_cluster(&src, &alloc, &cfg, err, sizeof(err));
	check(!ok && same("err", err, "KUBERNETES_SERVICE_PORT \"https\" is not a port number"),
	      "in-cluster: a port that is not a number");
	setenv("KUBERNETES_SERVICE_PORT", "65536", 1);
	ok = kube_config_in_cluster(&src, &alloc, &cfg, err, sizeof(err));
	check(!ok && same("err", err, "KUBERNETES_SERVICE_PORT \"65536\" is not a port number"),
	      "in-cluster: a port out of range");
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);

	src.token_file = missing_token;
	ok = kube_config_in_cluster(&src, &alloc, &cfg, err, sizeof(err));
	{
		char expect[600];

		snprintf(expect, sizeof(expect),
		         "could not read token file \"%s\": No such file or directory", missing_token);
		check(!ok && same("err", err, expect), "in-cluster: a missing token file");
	}
	src.token_file = empty_path;
	ok = kube_config_in_cluster(&src, &alloc, &cfg, err, sizeof(err));
	{
		char expect[600];

		snprintf(expect, sizeof(expect), "token file \"%s\" is empty", empty_path);
		check(!ok && same("err", err, expect), "in-cluster: an empty token file");
	}
	src.token_file = token_path;
	src.ca_file = missing_ca;
	ok = kube_config_in_cluster(&src, &alloc, &cfg, err, sizeof(err));
	{
		char expect[600];

		snprintf(expect, sizeof(expect), "could not read CA file \"%s\": No such file or directory",
		         missing_ca);
		check(!ok && same("err", err, expect), "in-cluster: a missing CA file");
	}

	ok = kube_read_token_file(token_path, &alloc, &token, err, sizeof(err));
	check(ok && same("token", token, "eyJhbGciOiJSUzI1NiJ9.s3cr3t.sig"),
	      "kube_read_token_file trims white space");
	if (ok)
		ca_free(&counter, token);
	check(counter.live == 0, "in-cluster frees everything (%ld left)", counter.live);
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__has_feature)
#define WATCH_FREES 1
#elif defined(__has_feature)
#if !__has_feature(address_sanitizer)
#define WATCH_FREES 1
#endif
#endif

#ifdef WATCH_FREES
/*
 * Every free() of the process, libyaml's included, passes here while a secret
 * is watched: a block that still holds it when freed is counted.
 */
static const char *watched_secret;
static int         secret_freed;

void
free(void *ptr)
{
	/* The free() after this one: libc's, or valgrind's in its place. */
	static void (*next_free)(void *);

	if (next_free == NULL)
		next_free = (void (*)(void *)) dlsym(RTLD_NEXT, "free");
	if (ptr != NULL && watched_secret != NULL &&
	    memmem(ptr, malloc_usable_size(ptr), watched_secret, strlen(watched_secret)) != NULL)
		secret_freed++;
	next_free(ptr);
}

/* The token and the client key of a kubeconfig are wiped before any copy of them is freed. */
static void
test_secrets_wiped(void)
{
	static const char        config[] = "apiVersion: v1\n"
	                                    "kind: Config\n"
	                                    "current-context: c\n"
	                                    "clusters:\n"
	                                    "- name: k\n"
	                                    "  cluster: {server: 'https://127.0.0.1:6443'}\n"
	                                    "users:\n"
	                                    "- name: u\n"
	                                    "  user:\n"
	                                    "    token: tok-WIPEME-0123456789abcdef\n"
	                                    "    client-certificate-data: Q0VSVA==\n"
	                                    "    client-key-data: S0VZLVdJUEVNRS1rZXlieXRlcw==\n"
	                                    "contexts:\n"
	                                    "- name: c\n"
	                                    "  context: {cluster: k, user: u}\n";
	static const char *const secrets[] = {"tok-WIPEME-0123456789abcdef",
	                                      "S0VZLVdJUEVNRS1rZXlieXRlcw==", "KEY-WIPEME-keybytes"};

	/* valgrind's blocks hold bytes never written, which the search would read. */
	if (getenv("K8S_EVENTS_UNDER_VALGRIND") != NULL)
		return;
	for (int i = 0; i < 3; i++)
	{
		KubeConfig cfg;
		char       err[256] = "";
		bool       ok;

		watched_secret = secrets[i];
		secret_freed = 0;
		ok = kube_config_parse(config, strlen(config), "inline", NULL, NULL, NULL, &cfg, err,
		                       sizeof(err));
		if (ok)
			kube_config_free(&cfg, NULL);
		watched_secret = NULL;
		check(ok && secret_freed == 0,
		      "\"%s\" is in no block freed by the parse or kube_config_free (%d were) (%s)",
		      secrets[i], secret_freed, err);
	}
}
#endif

int
main(void)
{
	if (!make_tmpdir("test_kubeconfig"))
		return 2;
	test_base64();
	test_kubeconfig_contexts();
	test_kubeconfig_relative_load();
	test_kubeconfig_formats();
	test_kubeconfig_errors();
	test_in_cluster();
#ifdef WATCH_FREES
	test_secrets_wiped();
#endif
	if (!remove_tmpdir())
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return tap_exit_status();
}
