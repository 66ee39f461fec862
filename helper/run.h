/*
 * What every subcommand that talks to AccessOwl sets up, in the order the
 * privilege separation needs: config, token and CA file are read (as root
 * when started by root), the HTTP client is made and the caller's copy of
 * the token wiped; the caller then reads whatever else needs root and calls
 * ao_run_drop() before the first request.
 */
#ifndef AO_RUN_H
#define AO_RUN_H

#include <stdbool.h>
#include <sys/types.h>

#include "api.h"
#include "config.h"
#include "http.h"

struct ao_run {
	struct ao_config cfg;
	uid_t svc_uid;
	gid_t svc_gid;
	bool have_svc;        /* the service user exists */
	struct ao_http *http;
	struct ao_api api;
	bool curl_ready;      /* curl_global_init done: clean up on close */
};

/*
 * Load config_path and the token, make the client.  AO_OK or an error
 * already logged.  Always pair with ao_run_close().
 */
int ao_run_open(struct ao_run *run, const char *config_path);

/*
 * Make the spool and state directories if missing (owned by the service
 * user when root).  Call before ao_run_drop().
 */
int ao_run_prepare_dirs(struct ao_run *run);

/* Drop to the service user for good (when root).  AO_OK or AO_ERR_PERM. */
int ao_run_drop(struct ao_run *run);

void ao_run_close(struct ao_run *run);

#endif
