/*
 * accessowl-helper scan [--dry-run] [--initial]
 *
 * Deprovisioning nobody logs in after: the accounts now (accounts.c, as
 * root or with CAP_DAC_READ_SEARCH) against what the last scan kept
 * (scanstate.c, as the service user), compared in scan.c; the transitions
 * are queued (queue.c), then the state is written once.  --dry-run prints
 * what would be queued and writes nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "cmd.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "out.h"
#include "queue.h"
#include "session.h"
#include "scan.h"
#include "scanstate.h"
#include "spool.h"
#include "text.h"

/* Carry out one action; AO_OK unless the spool failed. */
static int
apply(const struct ao_config *cfg, const struct ao_scan_action *x, bool dry)
{
	struct ao_new_event ne;
	char id[33], name[128], what[32];
	bool already = false;

	ao_sanitize(name, sizeof(name), x->acct->name);
	switch (x->what) {
	case AO_SCAN_QUEUE:
		if (dry) {
			ao_print("would queue\t%s\t%s\n", name,
			    ao_event_name(x->event));
			return AO_OK;
		}
		memset(&ne, 0, sizeof(ne));
		ne.user = x->acct->name;
		ne.event = ao_event_name(x->event);
		ne.episode = x->key;
		ne.email = x->email;
		ne.source = x->source;
		ne.remembered = x->remembered;
		ne.exists = x->exists;
		ne.uid = x->acct->uid;
		ne.service = "scan";
		return ao_queue_event(cfg, &ne, &already, id);
	case AO_SCAN_END:
		if (dry && x->event != AO_EV_COUNT)
			ao_print("episode ends\t%s\t%s\n", name, ao_sanitize(what,
			    sizeof(what), ao_event_name(x->event)));
		else if (!dry)
			ao_episode_end(cfg, x->acct->name);
		return AO_OK;
	case AO_SCAN_CONFLICT:
		ao_log(LOG_NOTICE, "account %s: GECOS now gives %s, but %s is "
		    "remembered; kept until identity.map decides", name,
		    x->email, x->remembered);
		return AO_OK;
	}
	return AO_OK;
}

int
cmd_scan(const struct ao_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "initial", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct ao_scan_list cur = { 0 }, prev = { 0 };
	struct ao_scan_result res;
	struct ao_session ss;
	const struct ao_config *cfg = &ss.cfg;
	bool dry = false, initial = false, exists;
	size_t i;
	int c, r;

	memset(&res, 0, sizeof(res));
	memset(&ss, 0, sizeof(ss));
	optind = 1;
	while ((c = getopt_long(argc, argv, "ni", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': dry = true; break;
		case 'i': initial = true; break;
		default: return AO_ERR_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: accessowl-helper scan [--dry-run] "
		    "[--initial]\n");
		return AO_ERR_USAGE;
	}
	if ((r = ao_session_open(&ss, o->config_path,
	    dry ? 0 : AO_SESSION_DIRS)) != AO_OK ||
	    (r = ao_accounts_read(cfg, &cur)) != AO_OK ||
	    (r = ao_session_drop(&ss)) != AO_OK)
		goto out;
	if ((r = ao_scan_state_read(cfg->state_dir, &prev, &exists)) != AO_OK) {
		ao_err("cannot read the scan state in %s: %s", cfg->state_dir,
		    ao_strerror(r));
		goto out;
	}
	if ((r = ao_scan_compare(cfg, &prev, &cur, !exists, initial,
	    &res)) != AO_OK)
		goto out;
	/* events first: a crash before the state is written finds the same
	 * transitions again, whose episodes are queued already */
	for (i = 0; i < res.n && r == AO_OK; i++)
		r = apply(cfg, &res.v[i], dry);
	if (r == AO_OK && !dry && res.changed)
		r = ao_scan_state_write(cfg->state_dir, &cur);
	if (r != AO_OK)
		goto out;
	if (!exists && !dry)
		ao_info("first scan: baseline of %zu accounts recorded%s",
		    cur.n, initial ? "" : "; accounts locked or expired "
		    "already were left alone (use --initial to queue them)");
	ao_info("scan: %zu accounts, %zu events %s, %zu episodes ended", cur.n,
	    res.queued, dry ? "would be queued" : "queued", res.ended);
	if (dry)
		ao_print("%zu accounts scanned; %zu events would be queued%s\n",
		    cur.n, res.queued, !exists ? " (first scan: baseline)" : "");
	else if (isatty(STDOUT_FILENO) || o->debug)
		ao_print("scan: %zu accounts, %zu events queued, %zu episodes "
		    "ended%s\n", cur.n, res.queued, res.ended, !exists &&
		    !initial ? " (first scan: a baseline; scan --initial "
		    "queues what is locked or expired already)" : "");
out:
	ao_scan_result_free(&res);
	ao_scan_list_free(&cur);
	ao_scan_list_free(&prev);
	ao_session_close(&ss);
	return r;
}
