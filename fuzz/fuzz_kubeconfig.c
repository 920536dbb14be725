/*
 * fuzz_kubeconfig.c
 *	  libFuzzer target: kubeconfig files (core/kubeconfig.c over libyaml), in
 *	  YAML or JSON, with or without a context asked for.  A config that loads
 *	  has a server; one that does not says why.  Relative paths resolve against
 *	  a directory that does not exist: nothing is read from disk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/kubeconfig.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	KubeConfig cfg;
	char       err[512];

	for (int pass = 0; pass < 2; pass++)
	{
		err[0] = '\0';
		if (kube_config_parse((const char *) data, size, "fuzz", "/nonexistent/fuzz",
		                      pass == 0 ? NULL : "fuzz", NULL, &cfg, err, sizeof(err)))
		{
			if (cfg.server == NULL)
				abort();
			kube_config_free(&cfg, NULL);
		}
		else if (err[0] == '\0')
			abort();
	}
	return 0;
}
