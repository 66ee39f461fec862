/*
 * accessowl-helper scan [--dry-run] [--initial] [--confirm-deletions]
 *
 * Deprovisioning nobody logs in after: the accounts now (accounts.c, as
 * root or with CAP_DAC_READ_SEARCH) against what the last scan kept
 * (scanstate.c, as the service user), compared in scan.c; every account
 * gone from the listing is confirmed one by one (accounts.c) and the
 * guard applied (scan.c); the transitions are queued (queue.c), then the
 * state is written once.  --dry-run prints what would be queued and
 * writes nothing.  Anything that leaves a doubt (an account database that
 * could not be read, an account the listing missed) fails the whole scan
 * before anything is queued.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	case AO_SCAN_HELD:
		if (dry)
			ao_print("would hold\t%s\tdeleted\n", name);
		return AO_OK;
	case AO_SCAN_GONE:
		return AO_OK;
	}
	return AO_OK;
}

/*
 * Confirm each account gone from the listing (accounts.h), then let the
 * guard hold the deletions if too many vanished at once (scan.h).  Not
 * AO_OK (logged): the scan queues nothing at all.
 */
static int
settle_gone(const struct ao_config *cfg, size_t kept, bool confirm,
    struct ao_scan_result *res)
{
	const char **names = NULL;
	bool *gone = NULL;
	size_t i, k = 0;
	int r = AO_ERR_NOMEM;

	if (res->gone == 0)
		return AO_OK;
	if ((names = calloc(res->gone, sizeof(*names))) == NULL ||
	    (gone = calloc(res->gone, sizeof(*gone))) == NULL)
		goto out;
	for (i = 0; i < res->n; i++)
		if (res->v[i].what == AO_SCAN_GONE)
			names[k++] = res->v[i].acct->name;
	if ((r = ao_accounts_confirm_gone(cfg, names, k, gone)) != AO_OK)
		goto out;
	for (i = 0, k = 0; i < res->gone; i++)
		k += gone[i];
	if (ao_scan_settle_gone(cfg, kept, gone, confirm, res) > 0)
		ao_log(LOG_CRIT, "%zu of the %zu managed accounts vanished "
		    "from the account database in one scan (more than "
		    "accounts.max_deletions = %ld and accounts."
		    "max_deletions_percent = %ld%%): far likelier a fault of "
		    "the database than a mass userdel, so none of these "
		    "deletions is queued.  If they really were deleted: "
		    "accessowl-helper scan --confirm-deletions", res->held,
		    kept, cfg->max_deletions, cfg->max_deletions_percent);
	else if (confirm && k > 0)
		ao_warn("%zu accounts deleted, on the administrator's word "
		    "(scan --confirm-deletions)", k);
	r = AO_OK;
out:
	free(names);
	free(gone);
	return r;
}

/*
 * The guard's record (scanstate.h): the held accounts stay in the state
 * as they were, so that the next scan sees them gone again (and holds
 * them again, until confirmed); scan.held says so to status and check.
 * Without held deletions, any old record goes.  Runs after the actions:
 * adding to cur moves its entries, which they point to.
 */
static int
keep_held(const struct ao_config *cfg, size_t kept,
    struct ao_scan_result *res, struct ao_scan_list *cur)
{
	struct ao_scan_held old;
	const char **names = NULL;
	long long since = (long long)time(NULL);
	size_t i, k = 0;
	int r = AO_ERR_NOMEM;

	if (res->held == 0)
		return ao_scan_held_clear(cfg->state_dir);
	if ((names = calloc(res->held, sizeof(*names))) == NULL)
		return AO_ERR_NOMEM;
	for (i = 0; i < res->n; i++) {
		const struct ao_scan_acct *a = res->v[i].acct;
		struct ao_scan_acct *d;

		if (res->v[i].what != AO_SCAN_HELD)
			continue;
		if ((d = ao_scan_add(cur)) == NULL)
			goto out;
		*d = *a;  /* its strings live in the kept list's arena */
		names[k++] = a->name;
	}
	ao_scan_sort(cur);
	res->changed = true;
	if (ao_scan_held_read(cfg->state_dir, &old) == AO_OK &&
	    old.since > 0 && old.since <= since)
		since = old.since;
	r = ao_scan_held_write(cfg->state_dir, since, kept, names, k);
out:
	free(names);
	return r;
}

int
cmd_scan(const struct ao_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "initial", no_argument, NULL, 'i' },
		{ "confirm-deletions", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	struct ao_scan_list cur = { 0 }, prev = { 0 };
	struct ao_scan_result res;
	struct ao_session ss;
	const struct ao_config *cfg = &ss.cfg;
	bool dry = false, initial = false, confirm = false, exists;
	size_t i;
	int c, r;

	memset(&res, 0, sizeof(res));
	memset(&ss, 0, sizeof(ss));
	optind = 1;
	while ((c = getopt_long(argc, argv, "ni", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': dry = true; break;
		case 'i': initial = true; break;
		case 'D': confirm = true; break;
		default: return AO_ERR_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: accessowl-helper scan [--dry-run] "
		    "[--initial] [--confirm-deletions]\n");
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
	if ((r = ao_scan_compare(cfg, &prev, &cur, !exists, initial ||
	    prev.damaged, &res)) != AO_OK ||
	    (r = settle_gone(cfg, prev.n, confirm, &res)) != AO_OK)
		goto out;
	/* events first: a crash before the state is written finds the same
	 * transitions again, whose episodes are queued already */
	for (i = 0; i < res.n && r == AO_OK; i++)
		r = apply(cfg, &res.v[i], dry);
	if (r == AO_OK && !dry)
		r = keep_held(cfg, prev.n, &res, &cur);
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
		    cur.n, res.queued, !exists ? " (first scan: baseline)" :
		    res.held > 0 ? " (deletions held: too many at once)" : "");
	else if (isatty(STDOUT_FILENO) || o->debug)
		ao_print("scan: %zu accounts, %zu events queued, %zu episodes "
		    "ended%s\n", cur.n, res.queued, res.ended, !exists &&
		    !initial ? " (first scan: a baseline; scan --initial "
		    "queues what is locked or expired already)" : "");
	if (res.held > 0 && !dry) {
		if (isatty(STDOUT_FILENO) || o->debug)
			ao_print("scan: %zu deletions held: confirm them with "
			    "accessowl-helper scan --confirm-deletions\n",
			    res.held);
		r = AO_ERR_DATA;    /* the unit fails: someone must look */
	}
out:
	ao_scan_result_free(&res);
	ao_scan_list_free(&cur);
	ao_scan_list_free(&prev);
	ao_session_close(&ss);
	return r;
}
