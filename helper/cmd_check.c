/*
 * accessowl-helper check: config, permissions, token, service user and one
 * cheap authenticated GET.  Says exactly what is wrong; exit code as for
 * any other command.
 */
#include <stdio.h>

#include "api.h"
#include "cmd.h"
#include "err.h"
#include "log.h"
#include "run.h"

int
cmd_check(const struct ao_opts *o, int argc, char **argv)
{
	struct ao_run run;
	long status = 0;
	int r;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: accessowl-helper check\n");
		return AO_ERR_USAGE;
	}
	if ((r = ao_run_open(&run, o->config_path)) != AO_OK)
		goto out;
	printf("ok: config %s\n", run.cfg.path);
	printf("ok: token file %s (owner and mode safe, token well-formed)\n",
	    run.cfg.token_file);
	if (run.have_svc)
		printf("ok: service user %s (uid %lu)\n", run.cfg.user,
		    (unsigned long)run.svc_uid);
	if ((r = ao_run_drop(&run)) != AO_OK)
		goto out;
	r = ao_api_ping(&run.api, &status);
	if (r == AO_OK)
		printf("ok: AccessOwl API at %s accepted the token (HTTP %ld)\n",
		    run.cfg.api_url, status);
	else
		printf("FAILED: AccessOwl API at %s: %s\n", run.cfg.api_url,
		    ao_strerror(r));
out:
	ao_run_close(&run);
	return r;
}
