#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counters.h"
#include "err.h"
#include "log.h"
#include "privdrop.h"
#include "secfile.h"
#include "session.h"
#include "spool.h"

#ifndef AO_VERSION
#define AO_VERSION "0"
#endif

/* The CA bundle is read before the drop, so the service user need not be
 * able to read it. */
#define CA_MAX_BYTES (4u * 1024 * 1024)

/* The token and the CA file into a new HTTP client. */
static int
open_api(struct ao_session *s)
{
	struct ao_secret *tok = NULL;
	struct ao_http_opts o;
	char *ca = NULL;
	size_t calen = 0;
	int r;

	/* only the commands that talk to AccessOwl pay for TLS set-up */
	if (ao_http_global_init() != AO_OK) {
		ao_err("cannot initialise libcurl");
		return AO_ERR_SYSTEM;
	}
	s->curl_ready = true;
	if ((tok = malloc(sizeof(*tok))) == NULL)
		return AO_ERR_NOMEM;
	if ((r = ao_token_read(s->cfg.token_file,
	    s->have_svc ? s->svc_gid : (gid_t)-1, tok)) != AO_OK)
		goto out;
	if (s->cfg.ca_file[0] != '\0' &&
	    (r = ao_file_read_checked(s->cfg.ca_file, AO_FILE_CA,
	    CA_MAX_BYTES, &ca, &calen)) != AO_OK) {
		if (r == AO_ERR_DATA)
			r = AO_ERR_CONFIG;
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.base_url = s->cfg.api_url;
	o.ca_pem = ca;
	o.ca_pem_len = calen;
	o.timeout = s->cfg.timeout;
	o.token = tok->buf;
	o.user_agent = "pam_accessowl/" AO_VERSION;
	if ((r = ao_http_new(&o, &s->http)) != AO_OK) {
		ao_err("cannot set up the HTTP client: %s", ao_strerror(r));
		goto out;
	}
	ao_api_init(&s->api, s->http, &s->cfg);
out:
	ao_secret_wipe(tok);
	free(tok);
	free(ca);
	return r;
}

/*
 * A relay host holds no token: its secret is the key of its client
 * certificate, which librelp reads by name after the drop.  Checked here,
 * as started, like the token: not readable by others.
 */
static int
check_relay_files(struct ao_session *s)
{
	const struct ao_config *c = &s->cfg;
	int fd, r;

	if (!c->relay_tls)
		return AO_OK;
	if ((r = ao_file_open_checked(c->relay_key_file, AO_FILE_KEY,
	    s->have_svc ? s->svc_gid : (gid_t)-1, &fd)) != AO_OK)
		return r;
	close(fd);
	if ((r = ao_file_open_checked(c->relay_cert_file, AO_FILE_CA, 0,
	    &fd)) != AO_OK)
		return r;
	close(fd);
	if ((r = ao_file_open_checked(c->relay_ca_file, AO_FILE_CA, 0,
	    &fd)) != AO_OK)
		return r;
	close(fd);
	return AO_OK;
}

int
ao_session_open(struct ao_session *s, const char *config_path, unsigned flags)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->flags = flags;
	s->root = geteuid() == 0;
	if ((r = ao_config_load(&s->cfg, config_path)) != AO_OK)
		return r;
	if (s->root) {
		if ((r = ao_service_user(s->cfg.user, &s->svc_uid,
		    &s->svc_gid)) != AO_OK)
			return r;
		s->have_svc = true;
	} else if ((r = ao_user_lookup(s->cfg.user, &s->svc_uid,
	    &s->svc_gid)) == AO_OK) {
		/* for the token's group check only */
		s->have_svc = true;
	} else if (r != AO_ERR_NOTFOUND) {
		return r;
	}
	if (!(flags & AO_SESSION_API))
		return AO_OK;
	return s->cfg.relay ? check_relay_files(s) : open_api(s);
}

int
ao_session_drop(struct ao_session *s)
{
	int r;

	if ((s->flags & AO_SESSION_DIRS) &&
	    ((r = ao_spool_prepare(s->cfg.spool_dir, s->root, s->svc_uid,
	    s->svc_gid)) != AO_OK ||
	    (r = ao_dir_prepare(s->cfg.state_dir, s->root, s->svc_uid,
	    s->svc_gid)) != AO_OK))
		return r;
	if (!s->root)
		return ao_privdrop(0, 0); /* gives up capabilities */
	return ao_privdrop(s->svc_uid, s->svc_gid);
}

void
ao_session_close(struct ao_session *s)
{
	/* the budget is 1,000 requests an hour per token */
	if (s->api.requests > 0) {
		struct ao_counters c = { s->api.requests,
			s->api.rate_limited };

		ao_info("%u AccessOwl API requests in this run",
		    s->api.requests);
		/* for `status --prometheus`: after the drop, as every run
		 * that sends requests is */
		if (ao_counters_add(s->cfg.state_dir, &c) != AO_OK)
			ao_debug("cannot count this run's requests in %s",
			    s->cfg.state_dir);
	}
	ao_api_free(&s->api);
	ao_http_free(s->http);
	s->http = NULL;
	if (s->curl_ready)
		ao_http_global_cleanup();
	s->curl_ready = false;
	ao_config_free(&s->cfg);
}
