#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <librelp.h>

#include "err.h"
#include "log.h"
#include "relay.h"

/* The session's window, and how often the last message is sent again
 * after a batch: see relay.h. */
#define WINDOW 2

struct ao_relay {
	relpEngine_t *eng;
	relpClt_t *clt;
	char target[300];     /* host:port, for messages */
	bool failed;          /* librelp reported an error on this session */
	char error[256];      /* the first one */
	char *last;           /* the last message sent, sent again at the end */
	size_t lastlen;
};

/* librelp's generic errors carry no user pointer: one session at a time */
static struct ao_relay *current;

static void
note(struct ao_relay *r, const char *msg, relpRetVal code)
{
	if (r == NULL)
		return;
	if (!r->failed)
		snprintf(r->error, sizeof(r->error), "%.200s (librelp error %d)",
		    msg ? msg : "error", (int)code);
	r->failed = true;
}

static void
on_err(void *usr, char *objinfo, char *msg, relpRetVal code)
{
	(void)objinfo;
	note(usr, msg, code);
}

static void
on_generic_err(char *objinfo, char *msg, relpRetVal code)
{
	(void)objinfo;
	note(current, msg, code);
}

static void
on_auth_err(void *usr, char *authinfo, char *msg, relpRetVal code)
{
	struct ao_relay *r = usr;
	char m[256];

	snprintf(m, sizeof(m), "the collector's certificate was refused: "
	    "%.100s (%.80s)", msg ? msg : "", authinfo ? authinfo : "");
	note(r ? r : current, m, code);
}

/* librelp calls its debug hook unconditionally: it must be set */
static void __attribute__((format(printf, 1, 2)))
no_debug(char *fmt, ...)
{
	(void)fmt;
}

static void
destroy(struct ao_relay *r)
{
	if (r->clt != NULL)
		(void)relpEngineCltDestruct(r->eng, &r->clt);
	if (r->eng != NULL)
		(void)relpEngineDestruct(&r->eng);
	if (current == r)
		current = NULL;
	free(r->last);
	free(r);
}

/* The TLS settings: CA, our certificate and key, the collector's name. */
static relpRetVal
set_tls(relpClt_t *clt, const struct ao_config *cfg)
{
	char mode[] = "name";
	relpRetVal rr;

	if ((rr = relpCltEnableTLS(clt)) != RELP_RET_OK ||
	    (rr = relpCltSetCACert(clt, cfg->relay_ca_file)) != RELP_RET_OK ||
	    (rr = relpCltSetOwnCert(clt, cfg->relay_cert_file)) != RELP_RET_OK ||
	    (rr = relpCltSetPrivKey(clt, cfg->relay_key_file)) != RELP_RET_OK ||
	    (rr = relpCltSetAuthMode(clt, mode)) != RELP_RET_OK)
		return rr;
	/* the collector's certificate must name the host we connect to */
	return relpCltAddPermittedPeer(clt, cfg->relay_host);
}

int
ao_relay_open(const struct ao_config *cfg, struct ao_relay **out)
{
	unsigned char syslog_cmd[] = "syslog";
	struct ao_relay *r;
	relpRetVal rr;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return AO_ERR_NOMEM;
	snprintf(r->target, sizeof(r->target), "%s:%s", cfg->relay_host,
	    cfg->relay_port);
	/* librelp writes to the socket without MSG_NOSIGNAL: a collector
	 * gone mid-send must be an error here, not the end of the process */
	(void)signal(SIGPIPE, SIG_IGN);
	current = r;
	if ((rr = relpEngineConstruct(&r->eng)) != RELP_RET_OK ||
	    (rr = relpEngineSetDbgprint(r->eng, no_debug)) != RELP_RET_OK ||
	    (rr = relpEngineSetEnableCmd(r->eng, syslog_cmd,
	    eRelpCmdState_Required)) != RELP_RET_OK ||
	    (rr = relpEngineSetOnErr(r->eng, on_err)) != RELP_RET_OK ||
	    (rr = relpEngineSetOnGenericErr(r->eng, on_generic_err)) !=
	    RELP_RET_OK ||
	    (rr = relpEngineSetOnAuthErr(r->eng, on_auth_err)) != RELP_RET_OK ||
	    (rr = relpEngineCltConstruct(r->eng, &r->clt)) != RELP_RET_OK ||
	    (rr = relpCltSetUsrPtr(r->clt, r)) != RELP_RET_OK ||
	    (rr = relpCltSetTimeout(r->clt, (unsigned)cfg->relay_timeout)) !=
	    RELP_RET_OK ||
	    (rr = relpCltSetConnTimeout(r->clt, (int)cfg->relay_timeout)) !=
	    RELP_RET_OK ||
	    (rr = relpCltSetWindowSize(r->clt, WINDOW)) != RELP_RET_OK) {
		ao_err("cannot set up librelp (error %d)", (int)rr);
		destroy(r);
		return AO_ERR_SYSTEM;
	}
	if (cfg->relay_tls) {
		if ((rr = set_tls(r->clt, cfg)) != RELP_RET_OK) {
			ao_err("cannot set up TLS for the collector %s (librelp "
			    "error %d): check relay.ca_file, relay.cert_file "
			    "and relay.key_file", r->target, (int)rr);
			destroy(r);
			return AO_ERR_CONFIG;
		}
	} else {
		ao_warn("relay.tls = false: events go to the collector %s in "
		    "clear text, and anyone on the path can read or forge "
		    "them; use it on loopback only", r->target);
	}
	rr = relpCltConnect(r->clt, AF_UNSPEC, (unsigned char *)cfg->relay_port,
	    (unsigned char *)cfg->relay_host);
	if (rr != RELP_RET_OK || r->failed) {
		ao_err("cannot reach the collector %s: %s", r->target,
		    r->failed ? r->error : rr == RELP_RET_ERR_TLS_SETUP ?
		    "TLS set-up failed (can the service user read "
		    "relay.cert_file and relay.key_file?)" :
		    "connection refused or timed out");
		destroy(r);
		return AO_ERR_TEMP;
	}
	*out = r;
	return AO_OK;
}

/* One message on the wire; AO_OK or AO_ERR_TEMP (logged). */
static int
send_one(struct ao_relay *r, const char *msg, size_t len)
{
	relpRetVal rr;

	rr = relpCltSendSyslog(r->clt, (unsigned char *)(uintptr_t)msg, len);
	if (rr != RELP_RET_OK || r->failed) {
		ao_err("sending to the collector %s failed: %s", r->target,
		    r->failed ? r->error : "the session broke");
		r->failed = true;
		return AO_ERR_TEMP;
	}
	return AO_OK;
}

int
ao_relay_send(struct ao_relay *r, const char *msg, size_t len)
{
	char *copy = NULL;
	int rc = AO_ERR_NOMEM;

	if ((copy = malloc(len)) == NULL)
		goto out;
	memcpy(copy, msg, len);
	if ((rc = send_one(r, msg, len)) != AO_OK)
		goto out;
	free(r->last);
	r->last = copy;
	r->lastlen = len;
	copy = NULL;
out:
	free(copy);
	return rc;
}

int
ao_relay_close(struct ao_relay *r)
{
	bool ok;
	int i;

	if (r == NULL)
		return AO_ERR_TEMP;
	/* messages sent: the proof that each was answered (relay.h); what
	 * happens after it, the close included, changes nothing */
	for (i = 0; r->last != NULL && i < WINDOW && !r->failed; i++)
		(void)send_one(r, r->last, r->lastlen);
	ok = !r->failed;
	/* none (check): the graceful close waits for the collector's answer
	 * to "close"; an error on the way comes through on_err */
	if (r->clt != NULL)
		(void)relpEngineCltDestruct(r->eng, &r->clt);
	if (r->last == NULL)
		ok = !r->failed;
	if (!ok)
		ao_err("the collector %s did not acknowledge every event: %s; "
		    "they stay queued and are sent again", r->target, r->error);
	destroy(r);
	return ok ? AO_OK : AO_ERR_TEMP;
}
