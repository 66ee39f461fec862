#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "privdrop.h"
#include "run.h"
#include "secfile.h"
#include "spool.h"

#ifndef AO_VERSION
#define AO_VERSION "0"
#endif

/* The CA bundle is read before the drop, so the service user need not be
 * able to read it. */
#define CA_MAX_BYTES (4u * 1024 * 1024)

int
ao_run_open(struct ao_run *run, const char *config_path)
{
	struct ao_secret *tok = NULL;
	struct ao_http_opts o;
	struct passwd *pw;
	char *ca = NULL;
	size_t calen = 0;
	int r;

	memset(run, 0, sizeof(*run));
	if ((r = ao_config_load(&run->cfg, config_path)) != AO_OK)
		goto out;
	/* only the commands that talk to AccessOwl pay for TLS set-up */
	if (ao_http_global_init() != AO_OK) {
		ao_err("cannot initialise libcurl");
		r = AO_ERR_SYSTEM;
		goto out;
	}
	run->curl_ready = true;
	if (geteuid() == 0) {
		if ((r = ao_service_user(run->cfg.user, &run->svc_uid,
		    &run->svc_gid)) != AO_OK)
			goto out;
		run->have_svc = true;
	} else if ((pw = getpwnam(run->cfg.user)) != NULL) {
		run->svc_uid = pw->pw_uid;
		run->svc_gid = pw->pw_gid;
		run->have_svc = true;
	}
	if ((tok = malloc(sizeof(*tok))) == NULL) {
		r = AO_ERR_NOMEM;
		goto out;
	}
	if ((r = ao_token_read(run->cfg.token_file,
	    run->have_svc ? run->svc_gid : (gid_t)-1, tok)) != AO_OK)
		goto out;
	if (run->cfg.ca_file[0] != '\0' &&
	    (r = ao_file_read_checked(run->cfg.ca_file, AO_FILE_CA,
	    CA_MAX_BYTES, &ca, &calen)) != AO_OK) {
		if (r == AO_ERR_DATA)
			r = AO_ERR_CONFIG;
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.base_url = run->cfg.api_url;
	o.ca_pem = ca;
	o.ca_pem_len = calen;
	o.timeout = run->cfg.timeout;
	o.token = tok->buf;
	o.user_agent = "pam_accessowl/" AO_VERSION;
	if ((r = ao_http_new(&o, &run->http)) != AO_OK) {
		ao_err("cannot set up the HTTP client: %s", ao_strerror(r));
		goto out;
	}
	ao_api_init(&run->api, run->http, &run->cfg);
out:
	ao_secret_wipe(tok);
	free(tok);
	free(ca);
	return r;
}

int
ao_run_prepare_dirs(struct ao_run *run)
{
	bool root = geteuid() == 0;
	int r;

	if ((r = ao_spool_prepare(run->cfg.spool_dir, root, run->svc_uid,
	    run->svc_gid)) != AO_OK)
		return r;
	return ao_dir_prepare(run->cfg.state_dir, root, run->svc_uid,
	    run->svc_gid);
}

int
ao_run_drop(struct ao_run *run)
{
	if (geteuid() != 0)
		return ao_privdrop(0, 0); /* logs "keeping uid" */
	return ao_privdrop(run->svc_uid, run->svc_gid);
}

void
ao_run_close(struct ao_run *run)
{
	/* the budget is 1,000 requests an hour per token */
	if (run->api.requests > 0)
		ao_info("%u AccessOwl API requests in this run",
		    run->api.requests);
	ao_api_free(&run->api);
	ao_http_free(run->http);
	run->http = NULL;
	if (run->curl_ready)
		ao_http_global_cleanup();
	run->curl_ready = false;
	ao_config_free(&run->cfg);
}
